"""Channel simulator: realistic FM radio channel recordings with exact ground truth.

Used by the tests and by the product's demo mode. ``python -m gateway.sim SCENARIO.json OUT.flac``
renders a scenario (see :mod:`gateway.sim.channel` for the format) to audio plus a truth JSON.
"""

from gateway.sim.channel import load_scenario, render, validate, write_channel
from gateway.sim.radio import bandpass, db_to_amp, dtmf, floor_noise, hiss, rms_dbfs, squelch_tail
from gateway.sim.speech import speak

__all__ = [
    "bandpass", "db_to_amp", "dtmf", "floor_noise", "hiss", "load_scenario", "render", "rms_dbfs",
    "speak", "squelch_tail", "validate", "write_channel",
]
