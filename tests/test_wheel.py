"""The wheel works installed, not only from the checkout.

Builds the wheel, installs it into a clean virtual environment (its dependencies from the
package index or pip's cache), and runs it from a folder far from the checkout: migrate,
load the demo, serve, and fetch the console, a phone's page through a demo invitation
link, a template-rendered page and the static files. Templates, static files and the
migrations must come from the installed package (package data), never the checkout.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args}: {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout + done.stderr


def test_the_installed_wheel_serves_the_demo(tmp_path: Path) -> None:
    dist, venv, elsewhere = tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    quiet = {**os.environ, "PYTHONWARNINGS": "ignore"}
    built = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "-w",
        dist,
        ROOT,
        cwd=tmp_path,
        env=quiet,
    )
    assert "absent from the `packages`" not in built, built
    (wheel,) = dist.glob("wenzheng-*.whl")
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    run(venv / "bin" / "pip", "install", "--quiet", wheel, cwd=tmp_path, env=quiet)
    # The installed package, not the checkout: the checkout is not on the path.
    where = run(
        venv / "bin" / "python", "-c", "import screens, server; print(screens.__file__)", cwd=elsewhere
    )
    assert str(venv) in where and str(ROOT) not in where, where

    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WENZHENG_", "PYTHON")) and k != "VIRTUAL_ENV"
    }
    env.update(WENZHENG_DATA_DIR=str(elsewhere / "data"), WENZHENG_PUBLIC_URL=f"http://127.0.0.1:{port}")
    wenzheng = venv / "bin" / "wenzheng"
    assert "数据库已升级" in run(wenzheng, "db", "upgrade", cwd=elsewhere, env=env)
    log = elsewhere / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(wenzheng), "serve", "--demo", "--port", str(port), "--log-level", "warning"],
            cwd=elsewhere,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        printed = log.read_text()
        link = re.search(r"(http://127\.0\.0\.1:\d+/i/\d+/\S+)", printed)
        assert link, printed
        with httpx.Client(base_url=base, trust_env=False, follow_redirects=False, timeout=10) as http:
            login = http.post("/login", data={"username": "chair", "password": "wenzheng-demo", "next": "/"})
            assert login.status_code == 303, login.text[:500]
            console = http.get("/m/1/console")
            assert console.status_code == 200 and 'id="c-tally"' in console.text
            assert http.get("/static/app.css").status_code == 200
            assert http.get("/static/vendor/htmx.min.js").status_code == 200
            assert http.get("/static/live.js").status_code == 200
        with httpx.Client(trust_env=False, follow_redirects=True, timeout=10) as phone:
            page = phone.get(link.group(1))
            assert page.status_code == 200 and 'id="d-me"' in page.text, page.text[:500]
    finally:
        server.terminate()
        server.wait(10)
