"""Butterworth filters as second-order sections, without importing ``scipy.signal``.

``import scipy.signal`` pulls in scipy.stats, .optimize, .interpolate, .sparse and .linalg: about
70 MiB of resident memory and most of a second, for the two small filters the live path uses (the
VOX band-pass, the DTMF high-pass). Here the design is numpy only (:func:`butter_sos`: scipy's own
algorithm, ``buttap`` → ``lp2bp_zpk``/``lp2hp_zpk``/``lp2lp_zpk`` → ``bilinear_zpk`` →
``zpk2sos(pairing="nearest")``, ported step by step so that the coefficients are the very ones
``scipy.signal.butter(..., output="sos")`` gives), and the filtering is scipy's compiled
``sosfilt`` kernel (``scipy/signal/_sosfilt*.so``), loaded on its own without the package around
it (:func:`sosfilt`; falls back to ``scipy.signal.sosfilt`` when that module is not where it is
expected). ``tests/test_iir.py`` compares both against ``scipy.signal`` itself.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

_KERNEL = "scipy.signal._sosfilt"
_kernel: Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None = None
_kernel_lock = threading.Lock()


# --- design ----------------------------------------------------------------------------------------

def _cplxreal(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Complex values (one of each conjugate pair, averaged) and real values, sorted as scipy does."""
    z = np.atleast_1d(z)
    if z.size == 0:
        return z, z
    tol = 100 * np.finfo((1.0 * z).dtype).eps
    z = z[np.lexsort((abs(z.imag), z.real))]
    real = abs(z.imag) <= tol * abs(z)
    zr = z[real].real
    if len(zr) == len(z):
        return np.array([]), zr
    z = z[~real]
    zp, zn = z[z.imag > 0], z[z.imag < 0]
    if len(zp) != len(zn):
        raise ValueError("complex value with no matching conjugate")
    same_real = np.diff(zp.real) <= tol * abs(zp[:-1])
    diffs = np.diff(np.concatenate(([0], same_real, [0])))
    for start, stop in zip(np.nonzero(diffs > 0)[0], np.nonzero(diffs < 0)[0] + 1, strict=True):
        for chunk in (zp[start:stop], zn[start:stop]):
            chunk[...] = chunk[np.lexsort([abs(chunk.imag)])]
    if any(abs(zp - zn.conj()) > tol * abs(zn)):
        raise ValueError("complex value with no matching conjugate")
    return (zp + zn.conj()) / 2, zr


def _poly(zeros: Sequence[complex] | np.ndarray) -> np.ndarray:
    """Polynomial coefficients from roots (scipy.signal._polyutils.poly)."""
    seq = np.atleast_1d(np.asarray(zeros))
    if seq.shape[0] == 0:
        return np.asarray(1.0, dtype=np.real(seq).dtype)
    a = np.ones((1,), dtype=seq.dtype)
    one = np.ones_like(seq[0])
    for zero in seq:
        a = np.convolve(a, np.stack((one, -zero)), mode="full")
    if np.iscomplexobj(a):
        roots = np.asarray(seq, dtype=np.complex128)
        if np.all(np.sort(np.imag(roots)) == np.sort(np.imag(np.conj(roots)))):
            a = np.real(a).copy()
    return a


def _section(z: Sequence[complex], p: Sequence[complex]) -> np.ndarray:
    """One second-order section from up to two zeros and poles, gain 1 (scipy's _single_zpksos)."""
    sos = np.zeros(6)
    zs = np.asarray(z)
    k = np.asarray(1, dtype=np.result_type(np.real(zs), np.real(np.asarray(p)), 1))
    if np.issubdtype(k.dtype, np.integer):
        k = k.astype(np.float64)
    b = np.multiply(np.atleast_1d(k), _poly(zs))
    a = np.atleast_1d(_poly(p))
    sos[3 - len(b):3] = b
    sos[6 - len(a):6] = a
    return sos


def _nearest(fro: np.ndarray, to: complex, which: str) -> int:
    order = np.argsort(np.abs(fro - to))
    if which == "any":
        return int(order[0])
    mask = np.isreal(fro[order])
    if which == "complex":
        mask = ~mask
    return int(order[np.nonzero(mask)[0][0]])


def _zpk2sos(z: np.ndarray, p: np.ndarray, k: float) -> np.ndarray:
    """Digital zeros, poles, gain → second-order sections, scipy's "nearest" pairing."""
    if len(z) == len(p) == 0:
        return np.asarray([[k, 0.0, 0.0, 1.0, 0.0, 0.0]])
    p = np.concatenate((p, np.zeros(max(len(z) - len(p), 0))))
    z = np.concatenate((z, np.zeros(max(len(p) - len(z), 0))))
    n_sections = (max(len(p), len(z)) + 1) // 2
    if len(p) % 2 == 1:
        p = np.concatenate((p, [0.0]))
        z = np.concatenate((z, [0.0]))
    z = np.concatenate(_cplxreal(z))
    p = np.concatenate(_cplxreal(p))

    def worst(q: np.ndarray) -> int:  # the closest to the unit circle
        return int(np.argmin(np.abs(1 - np.abs(q))))

    sos = np.zeros((n_sections, 6))
    for si in range(n_sections - 1, -1, -1):  # the "worst" sections last
        i = worst(p)
        p1 = p[i]
        p = np.delete(p, i)
        if np.isreal(p1) and np.isreal(p).sum() == 0:  # the last real pole
            j = _nearest(z, p1, "real")
            z1 = z[j]
            z = np.delete(z, j)
            sos[si] = _section([z1, 0], [p1, 0])
        elif (len(p) + 1 == len(z) and not np.isreal(p1) and np.isreal(p).sum() == 1
              and np.isreal(z).sum() == 1):  # one real pole and zero left: pair with a complex zero
            j = _nearest(z, p1, "complex")
            z1 = z[j]
            z = np.delete(z, j)
            sos[si] = _section([z1, z1.conj()], [p1, p1.conj()])
        else:
            if np.isreal(p1):
                reals = np.flatnonzero(np.isreal(p))
                j = int(reals[worst(p[reals])])
                p2 = p[j]
                p = np.delete(p, j)
            else:
                p2 = p1.conj()
            if len(z) == 0:
                sos[si] = _section([], [p1, p2])
                continue
            j = _nearest(z, p1, "any")
            z1 = z[j]
            z = np.delete(z, j)
            if not np.isreal(z1):
                sos[si] = _section([z1, z1.conj()], [p1, p2])
            elif len(z) > 0:
                j = _nearest(z, p1, "real")
                z2 = z[j]
                z = np.delete(z, j)
                sos[si] = _section([z1, z2], [p1, p2])
            else:
                sos[si] = _section([z1], [p1, p2])
    sos[0][:3] *= k
    return sos


def butter_sos(order: int, cutoff: float | Sequence[float], btype: str, fs: float) -> np.ndarray:
    """``scipy.signal.butter(order, cutoff, btype, fs=fs, output="sos")``: "lowpass", "highpass"
    (one cutoff, Hz) or "bandpass" (two), digital."""
    if order < 1 or int(order) != order:
        raise ValueError(f"filter order must be a positive integer, not {order!r}")
    wn = np.asarray(cutoff, dtype=np.float64) / (fs / 2)
    if np.any(wn <= 0) or np.any(wn >= 1):
        raise ValueError(f"cutoff {cutoff!r} Hz must lie between 0 and {fs / 2:g} Hz (fs/2)")
    m = np.arange(-order + 1, order, 2, dtype=np.float64)
    z = np.asarray([], dtype=np.float64)
    p = -np.exp(1j * np.pi * m / (2 * order))  # analog low-pass prototype (buttap)
    k = 1.0
    warped = 2 * 2.0 * np.tan(np.pi * wn / 2.0)  # pre-warped, at fs = 2
    degree = len(p) - len(z)
    if btype in ("lowpass", "highpass"):
        if wn.size != 1:
            raise ValueError(f"{btype} takes one cutoff, not {cutoff!r}")
        wo = float(warped)
        if btype == "lowpass":
            z, p, k = z * wo, p * wo, k * wo**degree
        else:
            k = k * float(np.real(np.prod(-z) / np.prod(-p)))
            z, p = np.concatenate((wo / z, np.zeros(degree))), wo / p
    elif btype == "bandpass":
        if wn.size != 2 or not wn[0] < wn[1]:
            raise ValueError(f"bandpass takes two increasing cutoffs, not {cutoff!r}")
        bw, wo = float(warped[1] - warped[0]), float(np.sqrt(warped[0] * warped[1]))
        z_lp = (z * bw / 2).astype(np.complex128)
        p_lp = (p * bw / 2).astype(np.complex128)
        z = np.concatenate((z_lp + np.sqrt(z_lp**2 - wo**2), z_lp - np.sqrt(z_lp**2 - wo**2),
                            np.zeros(degree)))
        p = np.concatenate((p_lp + np.sqrt(p_lp**2 - wo**2), p_lp - np.sqrt(p_lp**2 - wo**2)))
        k = k * bw**degree
    else:
        raise ValueError(f"btype {btype!r} not supported (lowpass, highpass, bandpass)")
    fs2 = 2.0 * 2.0  # bilinear transform at fs = 2
    degree = len(p) - len(z)
    k_z = k * float(np.real(np.prod(fs2 - z) / np.prod(fs2 - p)))
    z_z = np.concatenate(((fs2 + z) / (fs2 - z), -np.ones(degree)))
    p_z = (fs2 + p) / (fs2 - p)
    return _zpk2sos(z_z, p_z, k_z)


# --- filtering -------------------------------------------------------------------------------------

def _load_kernel() -> Callable[[np.ndarray, np.ndarray, np.ndarray], None]:
    """scipy's compiled ``_sosfilt(sos, x, zi)`` (in place), without importing scipy.signal."""
    global _kernel
    with _kernel_lock:
        if _kernel is not None:
            return _kernel
        mod: Any = sys.modules.get(_KERNEL)
        if mod is None:
            try:
                import scipy

                where = Path(scipy.__file__).parent / "signal"
                spec = None
                for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                    if (where / f"_sosfilt{suffix}").is_file():
                        spec = importlib.util.spec_from_file_location(_KERNEL, where / f"_sosfilt{suffix}")
                        break
                if spec is None or spec.loader is None:
                    raise ImportError(f"no _sosfilt extension in {where}")
                mod = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(mod)
                sys.modules[_KERNEL] = mod  # a later ``import scipy.signal`` uses this very module
            except Exception:  # another scipy layout: the public function, at its import cost
                mod = importlib.import_module(_KERNEL)
        _kernel = mod._sosfilt
        return _kernel


def sosfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.signal.sosfilt(sos, x, zi=zi)`` for 1-D ``x``: (output, final state). ``zi`` has
    shape (sections, 2); neither input is changed."""
    kernel = _kernel or _load_kernel()
    dtype = np.result_type(sos, x, zi)
    if dtype.char not in "fdgFDG":
        dtype = np.dtype(np.float64)
    y = np.array(np.asarray(x).reshape(1, -1), dtype, order="C")  # a copy: filtered in place
    state = np.array(np.asarray(zi).reshape(1, -1, 2), dtype, order="C")
    kernel(np.asarray(sos, dtype), y, state)
    return y[0], state[0]
