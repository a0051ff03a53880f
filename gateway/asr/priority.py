"""The recogniser runs at a lower CPU priority than capture, the pipeline and the web UI.

On a 2-core office PC the recogniser can use every cycle it gets (whisper on a flood day, Vosk on a
long net). It must get only what is left over: the pipeline thread that cuts and records the channel
has to keep up with the sound card (what it has not yet written is lost if the process is killed),
and the web UI has to answer. Linux keeps a nice value per thread, and a thread starts with the nice
value of the thread that created it; so lowering the transcription worker's own thread, and creating
an engine's model (whose C++ worker threads it starts) in a lowered thread, puts all recognition
work below the rest without touching the pipeline. ``asr.nice`` sets by how much (0: not at all).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
NICE_MAX = 19


def thread_nice(native_id: int | None = None) -> int:
    """The nice value of one thread (default: the calling one), as the kernel keeps it."""
    return os.getpriority(os.PRIO_PROCESS, native_id or threading.get_native_id())


def lower_this_thread(by: int) -> None:
    """Make the calling thread (and the threads it starts from now on) ``by`` nicer, up to 19.

    Raising priority back needs privileges, so this is one-way; a failure (no such call on this
    platform, a sandbox refusing it) is logged once and recognition runs at the normal priority."""
    if by <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(NICE_MAX, thread_nice(tid) + by))
    except (OSError, AttributeError) as e:
        log.warning("could not lower the recogniser's CPU priority (%s): it competes with capture", e)


def run_lowered(by: int, fn: Callable[[], T], name: str = "asr-load") -> T:
    """Run ``fn`` in a short-lived thread lowered by ``by`` and return its result (or raise its error).

    For an engine whose model starts its own worker threads when it is constructed (CTranslate2):
    they are created by the lowered thread, so they inherit its priority."""
    if by <= 0:
        return fn()
    box: dict[str, object] = {}

    def run() -> None:
        lower_this_thread(by)
        try:
            box["result"] = fn()
        except BaseException as e:  # handed to the caller below
            box["error"] = e

    t = threading.Thread(target=run, name=name, daemon=True)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]
