"""Open the configured sound card and start it: the first thing ``ht-gateway run`` does.

Imported before the database, the recogniser and the rest of the daemon (gateway/cli/main.py), so a
restarted gateway is listening again a fraction of a second after it was started; what the card
hears meanwhile waits in the capture buffer (``audio.buffer_s``) while the database is opened and
recovery runs. Keep this module's imports light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.audio.source import AudioSource
    from gateway.config import Config
    from gateway.health import Health


def open_live_source(cfg: Config, health: Health | None = None) -> AudioSource:
    """The sound card, opened and already started (its device events go to ``health``)."""
    from gateway.audio.pyaudio_source import PyAudioSource

    source = PyAudioSource(cfg.audio.device, cfg.audio.rate, cfg.audio.channel, cfg.audio.block_ms,
                           cfg.audio.buffer_s, listener=health)
    source.start()
    return source
