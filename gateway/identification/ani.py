"""The DTMF PTT-ID (ANI) analyzer: runs gateway.identification.dtmf on every transmission, pre-roll included.

It sees the audio on the pipeline thread as it is recorded (Goertzel filters cost little) and hands
``ani``, ``ani_position`` and every ``dtmf`` sequence to the transmission's closing transaction. The
audio itself is left exactly as heard.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from gateway.config_model import DtmfConfig
from gateway.identification.dtmf import DtmfDecoder, ani
from gateway.segmenter import TxInfo

#: An EOT ANI ends the call when the squelch closes within this long after its last tone
#: (the sample channel: 0.12 s of hiss between the last tone and the carrier dropping).
EOT_TO_CLOSE_S = 0.5


class AniAnalyzer:
    def __init__(self, rate: int = 16000, cfg: DtmfConfig | None = None) -> None:
        self.rate = rate
        self.cfg = cfg or DtmfConfig()
        self._decoders: dict[str, tuple[DtmfDecoder, list[int]]] = {}

    def on_open(self, tx: TxInfo) -> None:
        self._decoders[tx.uid] = (DtmfDecoder(self.rate, self.cfg), [0])

    def on_audio(self, tx: TxInfo, samples: np.ndarray) -> None:
        decoder, fed = self._decoders[tx.uid]
        decoder.feed(samples, fed[0] / self.rate)
        fed[0] += len(samples)

    def result(self, tx: TxInfo) -> dict[str, Any]:
        decoder, _ = self._decoders.pop(tx.uid)
        sequences = decoder.finish()
        found = ani(sequences, self.cfg)
        return {
            "dtmf": [asdict(q) for q in sequences] or None,
            "ani": found[0] if found else None,
            "ani_position": found[1] if found else None,
        }

    def eot_seen(self, tx: TxInfo) -> bool:
        """Whether the audio fed so far ends (within ``EOT_TO_CLOSE_S``) with a DTMF sequence that
        :func:`gateway.dtmf.ani` would take as an end-of-transmission station code."""
        entry = self._decoders.get(tx.uid)
        if entry is None:
            return False
        decoder = entry[0]
        end = decoder.fed_s
        return any(s.position == "eot" and self.cfg.min_digits <= len(s.digits) <= self.cfg.max_digits
                   and end - s.end <= EOT_TO_CLOSE_S for s in decoder.peek())
