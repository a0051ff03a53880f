"""Push-to-talk: keying the radio's transmitter (the ``Ptt`` interface and its backends)."""
