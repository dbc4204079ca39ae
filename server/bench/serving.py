"""The server under test: ``wenzheng serve`` as a child process in a session of its own,
with a temporary data folder, and a random Redis prefix so that runs never share a channel."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from server.bench.common import BenchError
from server.bench.diagnostics import INSTRUMENTED_SERVE


def server_env(data_dir: Path, base_url: str, database_url: str, redis_url: str | None) -> dict[str, str]:
    """This process's environment without any WENZHENG_ setting, plus the bench's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
    env.update(
        WENZHENG_DATA_DIR=str(data_dir),
        WENZHENG_DATABASE_URL=database_url,
        WENZHENG_PUBLIC_URL=base_url,
        WENZHENG_REDIS_PREFIX=f"bench-{secrets.token_hex(4)}",
    )
    if redis_url:
        env["WENZHENG_REDIS_URL"] = redis_url
    return env


def _wenzheng_command() -> list[str]:
    # WENZHENG_BENCH_SERVE: the ``wenzheng`` of another install serves (a base commit's
    # worktree and venv), so two commits meet the very same load, screens and seeding.
    other = os.environ.get("WENZHENG_BENCH_SERVE")
    if other:
        return [other]
    script = Path(sys.executable).with_name("wenzheng")
    return [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]


def served_code() -> str:
    """The commit of the code that serves: this checkout's, or that of WENZHENG_BENCH_SERVE's
    worktree (its venv is inside the worktree: ``<worktree>/.venv/bin/wenzheng``)."""
    other = os.environ.get("WENZHENG_BENCH_SERVE")
    where = Path(other).resolve().parents[2] if other else Path(__file__).resolve().parents[2]
    with contextlib.suppress(OSError, subprocess.SubprocessError, IndexError):
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=where, capture_output=True, text=True, timeout=5
        ).stdout.strip()
    return ""


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    log_path: Path
    workers: int

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: uvicorn and its workers
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def start_server(
    port: int,
    workers: int,
    env: dict[str, str],
    log_path: Path,
    cprofile: str | None = None,
    gc_log: Path | None = None,
) -> Server:
    """``wenzheng serve`` in a session of its own (instrumented only when asked)."""
    serve = ["serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    if cprofile or gc_log:  # one worker runs in this very process
        extra = [cprofile or "-", str(gc_log) if gc_log else "-"]
        command = [sys.executable, "-c", INSTRUMENTED_SERVE, *extra, *serve]
    else:
        command = [*_wenzheng_command(), *serve]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Server(proc, log_path, workers)


def wait_healthy(base_url: str, timeout_s: float, server: Server | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base_url, trust_env=False, timeout=2) as client:
        while time.monotonic() < deadline:
            if server is not None and server.proc.poll() is not None:
                raise BenchError(f"the server exited ({server.proc.returncode}):\n{server.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/healthz").status_code == 200:
                    return
            time.sleep(0.2)
    raise BenchError(f"{base_url}/healthz not healthy within {timeout_s:.0f} s")
