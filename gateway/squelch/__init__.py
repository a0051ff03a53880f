"""Squelch: decides, frame by frame, whether the channel carries a transmission."""
