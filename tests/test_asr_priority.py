"""The recogniser runs below capture and the pipeline (asr.nice, gateway/asr/priority.py).

Truth: the nice value the kernel reports for each thread in /proc/self/task/<tid>/stat (field 19),
read here independently of the os.getpriority call the code uses.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from gateway.asr.fake import FakeRecognizer, FakeStream
from gateway.asr.priority import run_lowered
from gateway.config import Config, ConfigError, load
from gateway.daemon import process_file

from conftest import DATA

START = datetime.fromisoformat("2026-11-20T07:05:00+07:00")


def kernel_nice(tid: int | None = None) -> int:
    tid = tid or threading.get_native_id()
    stat = Path(f"/proc/self/task/{tid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])  # after "pid (comm)": field 19 is the 17th


class _Watched(FakeRecognizer):
    """A fake recogniser that notes the nice value of every thread that feeds it audio."""

    seen: set[int]

    def start(self, prompt_words: tuple[str, ...] = (), *, unfiltered: bool = False) -> FakeStream:
        stream = super().start(prompt_words, unfiltered=unfiltered)
        accept = stream.accept

        def watched(samples: np.ndarray) -> None:
            self.seen.add(kernel_nice())
            accept(samples)

        stream.accept = watched  # type: ignore[method-assign]
        return stream


@pytest.mark.parametrize("nice", [7, 0])
def test_recognition_runs_below_the_pipeline(tmp_path: Path, nice: int) -> None:
    """asr.nice 7: every decode, live and caught up, on the lowered worker; 0: at the pipeline's."""
    base = kernel_nice()
    cfg = Config()
    cfg = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, nice=nice))
    rec = _Watched()
    rec.seen = set()
    res = process_file(cfg, tmp_path, DATA / "sample_morning.flac", START, recognizer=rec)
    assert res.transcribed == 4
    assert rec.seen == {min(19, base + nice)}
    assert kernel_nice() == base  # the pipeline (this thread) is untouched


def test_threads_an_engine_starts_while_loading_inherit_the_lowered_priority() -> None:
    base = kernel_nice()
    seen: list[int] = []

    def load() -> str:  # what CTranslate2 does when a model is built: it starts worker threads
        t = threading.Thread(target=lambda: seen.append(kernel_nice()))
        t.start()
        t.join()
        return "model"

    assert run_lowered(4, load) == "model"
    assert seen == [min(19, base + 4)] and kernel_nice() == base

    def broken() -> str:
        raise RuntimeError("bad model file")

    with pytest.raises(RuntimeError, match="bad model file"):
        run_lowered(4, broken)


def test_asr_nice_out_of_range_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[asr]\nengine = "none"\nnice = 25\n')
    with pytest.raises(ConfigError) as e:
        load(path)
    assert "asr.nice" in str(e.value) and "25" in str(e.value) and "\n" not in str(e.value)
    assert os.getpriority(os.PRIO_PROCESS, 0) == kernel_nice()


def test_the_vosk_model_loads_in_a_lowered_thread(vosk_ko_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The model is loaded in the background while capture starts (gateway/asr/vosk_engine.py): the
    load must not compete with that start on equal terms."""
    import vosk

    from gateway.asr import vosk_engine

    base, seen = kernel_nice(), []
    monkeypatch.setattr(vosk, "Model", lambda path: seen.append(kernel_nice()) or object())
    monkeypatch.setattr(vosk_engine, "_models", {})  # not one already loaded by another test
    vosk_engine.start_loading(vosk_ko_path, nice=6).result()
    assert seen == [min(19, base + 6)]
