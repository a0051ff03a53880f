"""Model management: verify says exactly what is missing; install is atomic; phrase lists."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from gateway.asr.base import RecognizerError
from gateway.asr.models import ModelError, install, list_models, model_rate, verify
from gateway.asr.vosk_engine import VoskRecognizer

from conftest import run_cli


def _fake_vosk(root: Path, *, dynamic: bool = False, rate: int | None = None) -> Path:
    """A model directory with the right layout (empty files) for layout checks only."""
    for rel in ["am/final.mdl", "conf/model.conf", "conf/mfcc.conf"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")
    if rate:
        (root / "conf/mfcc.conf").write_text(f"--use-energy=false\n--sample-frequency={rate}\n")
    (root / "graph").mkdir(exist_ok=True)
    for rel in (["graph/HCLr.fst", "graph/Gr.fst"] if dynamic else ["graph/HCLG.fst", "graph/words.txt"]):
        (root / rel).write_text("")
    return root


def test_real_korean_model_verifies(vosk_ko_path: Path) -> None:
    c = verify(vosk_ko_path)
    assert c.ok and c.kind == "vosk" and c.dynamic_graph and c.rate == 16000 and not c.warnings


@pytest.mark.parametrize("remove, named", [
    ("am/final.mdl", "am/final.mdl"),
    ("conf/mfcc.conf", "conf/mfcc.conf"),
    ("graph/words.txt", "graph/words.txt"),
    ("graph/HCLG.fst", "graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst)"),
])
def test_incomplete_static_model_names_the_missing_file(tmp_path: Path, remove: str, named: str) -> None:
    m = _fake_vosk(tmp_path / "m")
    (m / remove).unlink()
    c = verify(m)
    assert not c.ok and c.missing == [named]
    r = run_cli("models", "verify", str(m))
    assert r.returncode == 2 and f"missing {named}" in r.stderr and r.stderr.count("\n") == 1


def test_dynamic_graph_needs_both_fsts(tmp_path: Path) -> None:
    m = _fake_vosk(tmp_path / "m", dynamic=True)
    (m / "graph/Gr.fst").unlink()
    assert verify(m).missing == ["graph/Gr.fst"]


def test_corrupt_real_model_copy_gives_a_clear_error(tmp_path: Path, vosk_ko_path: Path) -> None:
    broken = tmp_path / "ko-broken"
    shutil.copytree(vosk_ko_path, broken, ignore=shutil.ignore_patterns("HCLr.fst", "final.mdl"))
    with pytest.raises(RecognizerError, match=r"ko-broken: incomplete vosk model: missing am/final.mdl, "
                                              r"graph/HCLr.fst"):
        VoskRecognizer(broken)


def test_a_model_vosk_cannot_load_fails_in_ready_and_start(tmp_path: Path, vosk_ko_path: Path) -> None:
    """Every file is there (verification passes, the load starts in the background) but the acoustic
    model is garbage: ready() and start() raise a one-line RecognizerError naming the directory."""
    broken = tmp_path / "ko-garbage"
    shutil.copytree(vosk_ko_path, broken, ignore=shutil.ignore_patterns("*.fst", "final.mdl"))
    for fst in ("HCLr.fst", "Gr.fst"):
        (broken / "graph" / fst).symlink_to(vosk_ko_path / "graph" / fst)
    (broken / "am" / "final.mdl").write_bytes(b"not a kaldi model" * 100)
    rec = VoskRecognizer(broken)  # the files are all there
    for attempt in (rec.ready, rec.start):
        with pytest.raises(RecognizerError, match=r"ko-garbage: Vosk could not load the model") as e:
            attempt()
        assert "\n" not in str(e.value)


def test_rnnlm_and_rescore_are_warned_about(tmp_path: Path) -> None:
    m = _fake_vosk(tmp_path / "m")
    (m / "rnnlm").mkdir()
    (m / "rnnlm" / "final.raw").write_bytes(b"\0" * 3_000_000)
    c = verify(m)
    assert c.ok and len(c.warnings) == 1 and "rnnlm/ present (3 MB)" in c.warnings[0]


def test_rate_comes_from_mfcc_conf(tmp_path: Path) -> None:
    assert model_rate(_fake_vosk(tmp_path / "a", rate=8000)) == 8000
    assert model_rate(_fake_vosk(tmp_path / "b")) == 16000


def test_install_from_zip_and_directory(tmp_path: Path) -> None:
    src = _fake_vosk(tmp_path / "src" / "vosk-model-small-id-0.1")
    z = tmp_path / "vosk-model-small-id-0.1.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in src.rglob("*"):
            zf.write(f, f.relative_to(src.parent))
    models = tmp_path / "asr_models"
    c = install(z, models)
    assert c.path == models / "vosk-model-small-id-0.1" and c.ok
    c2 = install(src, models, name="copy")
    assert c2.path == models / "copy"
    assert [m.path.name for m in list_models(models)] == ["copy", "vosk-model-small-id-0.1"]
    with pytest.raises(ModelError, match="already installed"):
        install(z, models)
    assert not [p for p in models.iterdir() if p.name.startswith(".")], "no temporary leftovers"


def test_install_of_a_bad_archive_leaves_nothing(tmp_path: Path) -> None:
    src = _fake_vosk(tmp_path / "src" / "m")
    (src / "conf" / "model.conf").unlink()
    z = tmp_path / "m.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in src.rglob("*"):
            zf.write(f, f.relative_to(src.parent))
    models = tmp_path / "asr_models"
    with pytest.raises(ModelError, match=re.escape("missing conf/model.conf")):
        install(z, models)
    assert list(models.iterdir()) == []
    not_zip = tmp_path / "x.zip"
    not_zip.write_text("no")
    with pytest.raises(ModelError, match="not a zip archive"):
        install(not_zip, models)


def test_phrase_list_keeps_only_known_words_plus_unk(vosk_ko: VoskRecognizer) -> None:
    known = vosk_ko.known_phrases(["안녕하세요", "날씨", "sipoholon", "camat tarutung", "날씨 좋습니다"])
    assert known[-1] == "[unk]"
    assert "sipoholon" not in known and "camat tarutung" not in known
    assert all(vosk_ko.model.vosk_model_find_word(w) >= 0 for p in known[:-1] for w in p.split())
    assert len(known) >= 2
