"""ASR model management: find, verify and install models in ``asr_models/``.

A Vosk model directory must hold (as the Vosk and Kaldi loaders read them):

- ``am/final.mdl`` — the acoustic model;
- ``conf/model.conf`` — decoder settings; ``conf/mfcc.conf`` — features (its ``--sample-frequency``
  is the rate the model wants; 16000 when absent);
- a graph: ``graph/HCLG.fst`` (static) or ``graph/HCLr.fst`` + ``graph/Gr.fst`` (dynamic,
  "lookahead": allows runtime phrase lists);
- the words: ``graph/words.txt`` for a static graph; a dynamic graph carries them in ``Gr.fst``.

``rnnlm/`` and ``rescore/`` are optional and cost memory and time (warned about, not refused).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


class ModelError(RuntimeError):
    """One line naming the model directory and exactly what is wrong with it."""


@dataclass
class ModelCheck:
    path: Path
    kind: str  # "vosk", "whisper" or "unknown"
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rate: int | None = None
    dynamic_graph: bool = False

    @property
    def ok(self) -> bool:
        return self.kind != "unknown" and not self.missing


WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


def _size_mb(p: Path) -> float:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 1e6


def model_rate(path: Path) -> int:
    """The sample rate a Vosk model expects, from conf/mfcc.conf (Kaldi's default is 16000)."""
    conf = path / "conf" / "mfcc.conf"
    if conf.is_file():
        m = re.search(r"^--sample-frequency=(\d+)", conf.read_text(errors="replace"), flags=re.M)
        if m:
            return int(m.group(1))
    return 16000


def verify(path: Path) -> ModelCheck:
    """Check a model directory's layout; never loads the model."""
    path = Path(path)
    if not path.is_dir():
        return ModelCheck(path, "unknown", missing=["(directory does not exist)"])
    if (path / "model.bin").is_file() or (path / "config.json").is_file():
        check = ModelCheck(path, "whisper", rate=16000)
        check.missing = [f for f in WHISPER_FILES if not (path / f).is_file()]
        return check
    check = ModelCheck(path, "vosk")
    for rel in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf"):
        if not (path / rel).is_file():
            check.missing.append(rel)
    g = path / "graph"
    static, dynamic = (g / "HCLG.fst").is_file(), (g / "HCLr.fst").is_file() or (g / "Gr.fst").is_file()
    if dynamic:
        check.dynamic_graph = True
        check.missing += [f"graph/{f}" for f in ("HCLr.fst", "Gr.fst") if not (g / f).is_file()]
    elif static:
        if not (g / "words.txt").is_file():
            check.missing.append("graph/words.txt")
    else:
        check.missing.append("graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst)")
    if not (path / "am").is_dir() and not (path / "conf").is_dir() and not g.is_dir():
        check.kind = "unknown"
    for extra in ("rnnlm", "rescore"):
        if (path / extra).is_dir():
            check.warnings.append(f"{extra}/ present ({_size_mb(path / extra):.0f} MB): more memory and "
                                  "slower decoding; remove it to save both")
    if not check.missing:
        check.rate = model_rate(path)
    return check


def require(path: Path, kind: str | None = None) -> ModelCheck:
    check = verify(path)
    if check.kind == "unknown":
        raise ModelError(f"{path}: not a Vosk or Whisper model directory "
                         f"(no am/, conf/, graph/ nor model.bin)")
    if check.missing:
        raise ModelError(f"{path}: incomplete {check.kind} model: missing {', '.join(check.missing)}")
    if kind and check.kind != kind:
        raise ModelError(f"{path}: a {check.kind} model, not a {kind} model")
    return check


def list_models(models_dir: Path) -> list[ModelCheck]:
    if not models_dir.is_dir():
        return []
    return [verify(p) for p in sorted(models_dir.iterdir())
            if p.is_dir() and not p.name.startswith(".")]


def find_model(models_dir: Path, kind: str, name: str = "") -> Path | None:
    """The named model (a path or a directory under models_dir), else the first usable one."""
    if name:
        p = Path(name).expanduser()
        p = p if p.is_absolute() or p.exists() else models_dir / name
        require(p, kind)
        return p
    for check in list_models(models_dir):
        if check.ok and check.kind == kind:
            return check.path
    return None


def install(source: Path, models_dir: Path, name: str | None = None) -> ModelCheck:
    """Install a model from a .zip (as the Vosk site ships them) or a directory into models_dir.

    The model is unpacked or copied under a temporary name, verified, then renamed: a bad archive
    leaves nothing behind.
    """
    source = Path(source)
    if not source.exists():
        raise ModelError(f"{source}: not found")
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".install-", dir=models_dir))
    try:
        if source.is_file():
            if not zipfile.is_zipfile(source):
                raise ModelError(f"{source}: not a zip archive or a model directory")
            with zipfile.ZipFile(source) as z:
                for member in z.namelist():
                    target = (tmp / member).resolve()
                    if not str(target).startswith(str(tmp.resolve()) + os.sep) and target != tmp.resolve():
                        raise ModelError(f"{source}: unsafe path in archive: {member}")
                z.extractall(tmp)
            entries = [p for p in tmp.iterdir() if not p.name.startswith("__MACOSX")]
            root = entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp
            default_name = root.name if root is not tmp else source.stem
        else:
            root = tmp / source.name
            shutil.copytree(source, root, symlinks=False)
            default_name = source.name
        check = require(root)
        dest = models_dir / (name or default_name)
        if dest.exists():
            raise ModelError(f"{dest}: already installed (remove it first or give another name)")
        os.replace(root, dest)
        check.path = dest
        return check
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
