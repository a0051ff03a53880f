"""The identification stage: DTMF/ANI, station names in transcripts, identity precedence, check-ins."""
