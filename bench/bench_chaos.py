#!/usr/bin/env python
"""Chaos soak: generated channel traffic through ``ht-gateway run`` on a PulseAudio null sink while
the process is killed, the sound card vanishes and the serial squelch port is pulled. Prints, never
asserts.

    python bench/bench_chaos.py [--minutes 60] [--kills 20] [--sink-cycles 3] [--serial-removals 1]
                                [--engine vosk|whisper|fake] [--seed 1] [--keep DIR]

What runs:
- a private PulseAudio server with a null sink (tests/pulse.py); the daemon captures its monitor
  through PortAudio's "pulse" device, as on a real PC;
- traffic: clips rendered by gateway.sim (espeak-ng speech through the radio model, DTMF ANI at key-up)
  played one by one with ``paplay`` and 2–8 s gaps; the truth is when each clip's transmission was
  on the air (wall clock at ``paplay`` start + the clip's own truth offsets);
- this script plays systemd: it restarts ``ht-gateway run`` 0.1 s after it dies (RestartSec=100ms);
- the squelch: by default a COS line on a serial port, served over RFC 2217 by tests/rfc2217.py
  (a pty cannot carry modem lines) and raised by this script while each clip's carrier is on the air;
  ``--squelch vox`` uses the audio instead;
- chaos, at seeded random times: ``kill -9`` of the daemon, unloading the null sink for 8 s and
  reloading it, and unplugging the serial port for 8 s (traffic waits meanwhile: nothing is played
  into a missing device);
- the web UI runs as its own ``ht-gateway web`` process (``web.serve = false``, the documented way to
  keep the UI up while the recorder restarts) and is polled twice a second.

Figures (see bench/README.md): transmissions sent vs stored (each sent one matched by time overlap),
lost ones split into "started and ended while the daemon was dead" and "lost while it ran", seconds
of on-air audio not in any stored transmission (total, per kill, and outside every kill window),
the audio a kill cut off (kill time minus the end of what the recovered file holds), dropped frames
(the daemon's own overflow counters, from its log), restarts (process and worker), the longest time
capture was down after a kill and after the device returned, ANI right/wrong/missing on stored
transmissions, files vs rows (orphans, duplicates, hash mismatches), and the web UI's availability.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import chaos_support as cs  # noqa: E402  (bench/chaos_support.py: traffic, matching, the report)
import pulse  # noqa: E402  (tests/pulse.py)
from rfc2217 import CosServer  # noqa: E402  (tests/rfc2217.py: a COS line that can be unplugged)

RESTART_S = 0.1
SINK_DOWN_S = 8.0


@dataclass
class Soak:
    args: argparse.Namespace
    work: Path
    sink: str = ""
    t0: float = 0.0
    end: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)
    traffic_gate: threading.Lock = field(default_factory=threading.Lock)
    sent: list[cs.Sent] = field(default_factory=list)
    kills: list[float] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)   # wall time each daemon process was started
    exits: list[tuple[float, int]] = field(default_factory=list)
    sink_cycles: list[tuple[float, float]] = field(default_factory=list)  # (down, up) wall times
    serial_cycles: list[tuple[float, float]] = field(default_factory=list)  # (down, up) wall times
    web_polls: list[tuple[float, bool]] = field(default_factory=list)
    daemon: subprocess.Popen[bytes] | None = None
    cos: CosServer | None = None  # the squelch line (None: VOX on the audio)
    log_path: Path = field(init=False)

    watcher: cs.LogWatcher = field(init=False)

    @property
    def player_env(self) -> dict[str, str]:
        """The player's environment: ``--player-latency-ms`` as PULSE_LATENCY_MSEC (paplay's own
        2 s default buffer adds ~1.4 s of apparent loss after each restart: tests/test_journal_kill.py)."""
        ms = self.args.player_latency_ms
        return dict(os.environ, **({"PULSE_LATENCY_MSEC": str(ms)} if ms else {}))

    def __post_init__(self) -> None:
        self.log_path = self.work / "daemon.log"
        self.watcher = cs.LogWatcher(self.log_path)

    # -- the daemon, restarted like systemd would ------------------------------------------
    def run_daemon(self, cfg: Path, data: Path) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.log_path, "ab") as log:
            while not self.stop.is_set():
                log.write(f"=== start {time.time():.3f}\n".encode())
                log.flush()
                self.starts.append(time.time())
                self.daemon = subprocess.Popen(
                    [sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir", str(data), "run"],
                    stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env, cwd=REPO)
                rc = self.daemon.wait()
                self.exits.append((time.time(), rc))
                if self.stop.is_set():
                    break
                time.sleep(RESTART_S)

    # -- traffic -------------------------------------------------------------------------------
    def play_traffic(self, pool: list[cs.Clip]) -> None:
        rng = random.Random(self.args.seed)
        while time.time() < self.end and not self.stop.is_set():
            clip = rng.choice(pool)
            with self.traffic_gate:
                t = time.time()
                player = subprocess.Popen(["paplay", "-d", self.sink, str(clip.path)], env=self.player_env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if self.cos is not None:  # the radio's COS line follows its carrier
                    time.sleep(max(0.0, t + clip.start_s - time.time()))
                    self.cos.cos(True)
                    time.sleep(max(0.0, t + clip.end_s - time.time()))
                    self.cos.cos(False)
                if player.wait() == 0:
                    self.sent.append(cs.Sent(clip, t + clip.start_s, t + clip.end_s))
            time.sleep(rng.uniform(2.0, 8.0))

    # -- chaos ---------------------------------------------------------------------------------
    def chaos(self, events: list[tuple[float, str]]) -> None:
        for at, kind in events:
            if self.stop.wait(max(0.0, at - time.time())):
                return
            if kind == "kill":
                proc = self.daemon
                if proc is not None and proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    self.kills.append(time.time())
            elif kind == "sink":
                with self.traffic_gate:  # after the clip on the air, before the next
                    cs.pactl_unload_sink(self.sink)
                    down = time.time()
                    time.sleep(SINK_DOWN_S)
                    cs.pactl_load_sink(self.sink)
                    up = time.time()
                    self.sink_cycles.append((down, up))
                    # A radio keyed while the card is still being reopened (the target allows 5 s)
                    # is lost by definition; hold the next clip until capture is back or 6 s pass,
                    # so that every clip sent was sent to a channel the daemon could hear.
                    while time.time() < up + 6.0 and self.watcher.first_after("capture_up", up) is None:
                        self.stop.wait(0.1)
            elif kind == "serial" and self.cos is not None:
                with self.traffic_gate:
                    self.cos.unplug()
                    down = time.time()
                    time.sleep(SINK_DOWN_S)
                    self.cos.plug()
                    self.serial_cycles.append((down, time.time()))

    def poll_web(self, url: str) -> None:
        import urllib.request

        while not self.stop.is_set():
            ok = False
            try:
                with urllib.request.urlopen(url, timeout=2.0) as r:
                    ok = r.status == 200
            except OSError:
                ok = False
            self.web_polls.append((time.time(), ok))
            self.stop.wait(0.5)


def schedule(args: argparse.Namespace, t0: float, duration: float) -> list[tuple[float, str]]:
    """Seeded event times: kills spread over the run, sink cycles kept 30 s away from any kill."""
    rng = random.Random(args.seed * 7919)
    kills = sorted(t0 + rng.uniform(0.05, 0.95) * duration for _ in range(args.kills))
    devices: list[tuple[float, str]] = []
    serial = args.serial_removals if args.squelch == "serial" else 0
    wanted = ["sink"] * args.sink_cycles + ["serial"] * serial
    for kind in wanted:
        while True:
            t = t0 + rng.uniform(0.1, 0.9) * duration
            if all(abs(t - k) > 30 for k in kills) and all(abs(t - d) > 60 for d, _ in devices):
                devices.append((t, kind))
                break
    return sorted([(k, "kill") for k in kills] + devices)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--sink-cycles", type=int, default=3)
    p.add_argument("--serial-removals", type=int, default=1)
    p.add_argument("--engine", choices=["vosk", "whisper", "fake"], default="vosk")
    p.add_argument("--squelch", choices=["serial", "vox"], default="serial",
                   help="serial: a COS line over RFC 2217 that this script drives and unplugs; "
                        "vox: the audio")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--player-latency-ms", type=int, default=0,
                   help="PULSE_LATENCY_MSEC for the player only (0: PulseAudio's default)")
    p.add_argument("--backlog-hours", type=float, default=0.0,
                   help="untranscribed traffic stored first (an hour per earlier day), which the "
                        "recogniser catches up behind the live calls: saturated for the whole soak")
    p.add_argument("--port", type=int, default=18181)
    p.add_argument("--keep", type=Path, help="work directory to keep (default: a temporary one)")
    args = p.parse_args(argv)
    if pulse.missing_tools():
        print(f"bench_chaos: needs {pulse.DEBIAN_PACKAGES}", file=sys.stderr)
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="ht-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    print(f"bench_chaos: work directory {work}", flush=True)
    pool = cs.make_clips(work / "clips", args.seed)
    print(f"bench_chaos: {len(pool)} clips rendered", flush=True)
    with pulse.null_sink("chaos") as sink:
        soak = Soak(args, work, sink)
        soak.cos = CosServer() if args.squelch == "serial" else None
        cfg = cs.write_config(work / "gateway.toml", args.engine, args.port,
                              soak.cos.url if soak.cos is not None else None)
        if args.backlog_hours > 0:
            n = cs.make_backlog(work, data, pool, args.backlog_hours, cfg)
            print(f"bench_chaos: backlog of {n} untranscribed transmissions stored", flush=True)
        watch_stop = threading.Event()
        watcher = threading.Thread(target=soak.watcher.run, args=(watch_stop,), daemon=True)
        watcher.start()
        daemon = threading.Thread(target=soak.run_daemon, args=(cfg, data), daemon=True)
        daemon.start()
        if not cs.wait_for_log(soak.log_path, "capturing from", 60):
            print("bench_chaos: the daemon never started capturing; see", soak.log_path, file=sys.stderr)
            soak.stop.set()
            return 1
        # the web UI as its own process, once the daemon has created the database (capture comes
        # first, so "capturing from" is logged before the database exists: start it until it stays)
        web_cmd = [sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir", str(data), "web"]
        web_log = open(work / "web.log", "wb")  # noqa: SIM115 - open for the web process's lifetime
        for _ in range(30):
            web = subprocess.Popen(web_cmd, stdout=web_log, stderr=subprocess.STDOUT, cwd=REPO)
            try:
                web.wait(3.0)
            except subprocess.TimeoutExpired:
                break  # still serving
        soak.t0 = time.time()
        duration = args.minutes * 60.0
        soak.end = soak.t0 + duration
        events = schedule(args, soak.t0, duration)
        threads = [threading.Thread(target=soak.play_traffic, args=(pool,), daemon=True),
                   threading.Thread(target=soak.chaos, args=(events,), daemon=True),
                   threading.Thread(target=soak.poll_web, args=(f"http://127.0.0.1:{args.port}/login",),
                                    daemon=True)]
        for t in threads:
            t.start()
        threads[0].join()
        time.sleep(10.0)  # the last transmission closes, the recogniser catches up a little
        soak.stop.set()
        if soak.daemon is not None and soak.daemon.poll() is None:
            soak.daemon.send_signal(signal.SIGTERM)
        daemon.join(60)
        web.terminate()
        web.wait(10)
        watch_stop.set()
        watcher.join(5)
        if soak.cos is not None:
            soak.cos.close()
    report = cs.evaluate(soak, data)
    (work / "timeline.json").write_text(json.dumps({
        "sent": [[x.start, x.end, x.clip.ani, x.clip.kind, x.clip.path.name] for x in soak.sent],
        "kills": soak.kills, "starts": soak.starts, "sink_cycles": soak.sink_cycles,
        "serial_cycles": soak.serial_cycles,
        "log_events": [[t, k, line[:200]] for t, k, line in soak.watcher.events]}, indent=0))
    text = json.dumps(report, indent=1)
    (work / "report.json").write_text(text + "\n")
    cs.print_report(report)
    if args.backlog_hours > 0:
        import sqlite3

        with sqlite3.connect(data / "gateway.sqlite3") as conn:
            done, total = conn.execute(
                "SELECT count(t.id), count(*) FROM transmissions x LEFT JOIN transcripts t "
                "ON t.transmission_id = x.id AND t.current WHERE x.started_at < ?",
                (time.strftime("%Y-%m-%d", time.gmtime(soak.t0)),)).fetchone()
        print(f"backlog: {done} of {total} earlier transmissions transcribed during the soak "
              "(the recogniser was busy throughout while any were left)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
