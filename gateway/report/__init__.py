"""Rule-based extraction of the daily situation report (laporan situasi) from radio transcripts."""
