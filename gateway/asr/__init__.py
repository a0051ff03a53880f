"""Offline speech recognition: the Recognizer interface, engines (Vosk, faster-whisper), models."""
