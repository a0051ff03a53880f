"""gateway.audio.iir: the VOX and DTMF filters without importing scipy.signal.

Truth: scipy.signal itself (the reference implementation this module must reproduce): the
coefficients of ``scipy.signal.butter(..., output="sos")`` and the output and final state of
``scipy.signal.sosfilt`` on the same input.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import signal

from gateway.audio import iir

RATES = [8000, 11025, 16000, 22050, 44100, 48000, 12345]
DESIGNS = [
    (4, "band"),  # the VOX band-pass: 250 Hz - min(3400, 0.45 fs)
    (2, 700.0, "highpass"),  # the DTMF high-pass
    (1, 500.0, "lowpass"), (3, 1000.0, "highpass"), (3, 900.0, "lowpass"), (5, "band"), (6, "band"),
]


def _args(design: tuple, fs: int) -> tuple:
    if design[1] == "band":
        return design[0], [250.0, min(3400.0, fs * 0.45)], "bandpass"
    return design


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("design", DESIGNS)
def test_butter_sos_equals_scipy(fs: int, design: tuple) -> None:
    order, cutoff, btype = _args(design, fs)
    ours = iir.butter_sos(order, cutoff, btype, fs)
    ref = signal.butter(order, cutoff, btype=btype, fs=fs, output="sos")
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("bad", [(0, 500.0, "highpass"), (2, 9000.0, "highpass"),
                                 (2, [900.0, 300.0], "bandpass"), (2, 500.0, "bandstop"),
                                 (2, [300.0, 900.0], "highpass")])
def test_butter_sos_refuses_what_it_cannot_design(bad: tuple) -> None:
    with pytest.raises(ValueError):
        iir.butter_sos(*bad, fs=16000)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sosfilt_in_chunks_equals_scipy_on_the_whole(dtype: type) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal(16000).astype(dtype)
    x[4000:4100] = 0.0  # a stretch of digital silence
    sos = signal.butter(4, [250, 3400], btype="bandpass", fs=16000, output="sos")
    zi0 = signal.sosfilt_zi(sos) * 0.25
    ref, ref_zf = signal.sosfilt(sos, x, zi=zi0)
    zi, parts = zi0.copy(), []
    for a in range(0, len(x), 320):  # 20 ms frames, as the VOX gets them
        y, zi = iir.sosfilt(sos, x[a:a + 320], zi)
        parts.append(y)
    np.testing.assert_array_equal(np.concatenate(parts), ref)
    np.testing.assert_array_equal(zi, ref_zf)
    np.testing.assert_array_equal(zi0, signal.sosfilt_zi(sos) * 0.25)  # its inputs are left alone


def test_the_filters_load_without_scipy_signal() -> None:
    probe = ("import sys, numpy as np\n"
             "from gateway.squelch.vox import VoxSquelch\n"
             "from gateway.identification.dtmf import DtmfDecoder\n"
             "from gateway.config import VoxConfig, DtmfConfig\n"
             "v = VoxSquelch(VoxConfig(), 16000)\n"
             "d = DtmfDecoder(16000, DtmfConfig())\n"
             "v.update(np.full(320, 0.1, np.float32), 0.0)\n"
             "d.feed(np.full(16000, 0.1), 0.0)\n"
             "import json; print(json.dumps(sorted(m for m in sys.modules if m.startswith('scipy.'))))\n"
             # scipy.signal imported afterwards (the demo channel's renderer does) still works
             "from scipy import signal\n"
             "from gateway.audio.iir import sosfilt\n"
             "x = np.random.default_rng(3).standard_normal(4000)\n"
             "y, zf = signal.sosfilt(v._sos, x, zi=np.full((4, 2), 0.01))\n"
             "y2, zf2 = sosfilt(v._sos, x, np.full((4, 2), 0.01))\n"
             "print(bool((y == y2).all() and (zf == zf2).all()))\n")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    *_, modules, same = r.stdout.strip().splitlines()
    loaded = json.loads(modules)
    assert "scipy.signal._sosfilt" in loaded  # the kernel was used ...
    assert "scipy.signal" not in loaded and "scipy.stats" not in loaded  # ... without the package
    assert same == "True"
