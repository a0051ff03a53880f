"""Audio input: sources (sound card, file) and the small DSP helpers the stages share."""
