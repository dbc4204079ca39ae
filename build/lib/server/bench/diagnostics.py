"""Diagnostics, all optional: the server's garbage collections, py-spy and cProfile.

- ``WENZHENG_BENCH_PROFILE=FILE``: ``.svg``/``.txt``/``.json`` records the server with
  py-spy during the load (flame graph, collapsed stacks, speedscope; more py-spy flags in
  ``WENZHENG_BENCH_PYSPY_ARGS``, e.g. ``--native``); ``.prof`` runs it under cProfile;
- ``WENZHENG_BENCH_GC=1``: times the server's garbage collections (a gc callback);
  ``=freeze`` also freezes the survivors of each full collection (an experiment).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from server.bench.common import ms

# The same ``wenzheng serve``, run under cProfile and/or with a gc callback that times every
# collection. uvicorn re-raises SIGTERM after its graceful shutdown; a Python handler turns
# that into SystemExit so that both files get written.
INSTRUMENTED_SERVE = """
import gc, json, signal, sys, time
cprofile, gc_log, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
def _bye(*_):
    raise SystemExit(0)
signal.signal(signal.SIGTERM, _bye)
pauses, started = [], [0]
freeze = gc_log.endswith(".freeze.json")  # the experiment: survivors of a full collection are frozen
def _gc(phase, info):
    if phase == "start":
        started[0] = time.time_ns()
    else:
        pauses.append((started[0], info["generation"], time.time_ns() - started[0], info["collected"]))
        if freeze and info["generation"] == 2:
            gc.freeze()
if gc_log != "-":
    gc.callbacks.append(_gc)
from server.cli import main
profile = None
if cprofile != "-":
    import cProfile
    profile = cProfile.Profile()
try:
    profile.runcall(main, argv) if profile else main(argv)
finally:
    if profile:
        profile.dump_stats(cprofile)
    if gc_log != "-":
        with open(gc_log, "w") as f:
            json.dump(pauses, f)
"""


def gc_summary(path: Path) -> dict[str, Any]:
    """Collections of the server's garbage collector, and how long they stopped it."""
    pauses = json.loads(path.read_text())
    out: dict[str, Any] = {}
    for gen in (0, 1, 2):
        mine = [p[2] for p in pauses if p[1] == gen]
        out[f"gc_gen{gen}_count"] = len(mine)
        out[f"gc_gen{gen}_total_ms"] = ms(sum(mine))
        out[f"gc_gen{gen}_max_ms"] = ms(max(mine, default=0))
    return out


@contextlib.contextmanager
def py_spy(pid: int | None, out: str | None) -> Iterator[None]:
    """Record the server with py-spy while the block runs (when asked to)."""
    if pid is None or not out:
        yield
        return
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    fmt = {".txt": "raw", ".json": "speedscope"}.get(Path(out).suffix, "flamegraph")
    # --nonblocking: never pause the server to sample it (pausing it changes the latencies
    # it is recorded under); --threads: tell the event loop from the database threads.
    # --native needs the pauses, so it drops --nonblocking.
    extra = os.environ.get("WENZHENG_BENCH_PYSPY_ARGS", "").split()
    command = [exe, "record", "--pid", str(pid), "--subprocesses", "--threads", *extra]
    if "--native" not in extra:
        command.append("--nonblocking")
    command += ["--rate", "250", "--format", fmt, "-o", out]
    with tempfile.TemporaryFile() as log:
        spy = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        time.sleep(1.0)
        try:
            yield
        finally:
            spy.send_signal(signal.SIGINT)
            try:
                spy.wait(60)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()
            if not Path(out).exists():
                log.seek(0)
                print(
                    f"py-spy wrote no profile:\n{log.read().decode(errors='replace')[-2000:]}",
                    file=sys.stderr,
                )


def profile_summary(path: str, top: int = 20) -> str:
    """Where the event loop thread was busy, from py-spy's collapsed stacks (``.txt``).

    py-spy leaves out idle samples (a thread waiting in epoll or on a lock), so the
    samples of the thread that runs ``Runner.run`` are the event loop's busy time.
    """
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")[1:]  # the first names the process
        if len(frames) < 2 or not count.isdigit():
            continue
        frames = frames[1:]  # after the thread name
        kind = "event loop" if any(f.startswith("Runner.run") for f in frames) else "other threads"
        threads[kind] += int(count)
        if kind != "event loop":
            continue
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            anywhere[frame] += int(count)
    if not total:
        return "  (no samples)"
    lines = [f"  busy samples: {dict(threads)}; event loop, own time:"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top)]
    lines.append("  including callees:")
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in anywhere.most_common(top * 3)]
    return "\n".join(lines)
