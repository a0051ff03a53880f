"""Talking back on the radio: the transmitter (PTT, TOT, busy-channel lockout), spoken messages,
acknowledgements and roll calls, and the daemon's worker that drains the transmit queue."""
