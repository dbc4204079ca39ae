"""Fixtures for the Chromium tests: a real `wenzheng serve --demo` process and a browser.

``fresh_server`` is `wenzheng serve` on an empty database instead (no demo), with the
first admin's one-time password read from its output.

The server runs in its own process with its own data folder (SQLite, secret key), on a
free port, exactly as an operator starts it; the links it prints (console, pre-paired
projector, deputy invitations) are parsed from its stdout. Chromium is the system's
(/usr/bin/chromium); Playwright's own browser download is never used.

Screenshots of every screen at every step go to test-artifacts/browser/ (gitignored).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, Playwright, async_playwright

from server.base.days import today

ROOT = Path(__file__).resolve().parents[2]
WENZHENG = ROOT / ".venv" / "bin" / "wenzheng"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 40
NO_TIME_SERVER = "127.0.0.1:9"  # a loopback port with no SNTP server: tests reach nothing outside


@dataclass(frozen=True)
class Invitation:
    name: str
    card_no: str
    short_code: str
    url: str


@dataclass(frozen=True)
class DemoServer:
    base: str
    port: int
    data_dir: Path
    meeting_id: int
    console_url: str
    projector_url: str  # the pre-paired link with ?screen=...
    podium_url: str  # the same for the podium timer
    deputy_url: str
    invitations: tuple[Invitation, ...]
    stdout: str
    log_path: Path

    @property
    def secret(self) -> str:
        return (self.data_dir / "secret_key").read_text().strip()

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Links:
    meeting_id: int
    console_url: str
    projector_url: str
    podium_url: str
    deputy_url: str
    invitations: tuple[Invitation, ...]


def parse_links(stdout: str) -> Links:
    """The links `wenzheng serve --demo` prints, by what they are for."""
    console = re.search(r"主持台\s+(http\S+/m/(\d+)/console)", stdout)
    projector = re.search(r"投影屏\s+(http\S+/projector\?screen=\S+)", stdout)
    podium = re.search(r"发言计时屏\s+(http\S+/podium\?screen=\S+)", stdout)
    deputy = re.search(r"代表手机页\s+(http\S+/d/\d+)", stdout)
    invitations = tuple(
        Invitation(name, card, code, url)
        for name, card, code, url in re.findall(
            r"^\s+(\S+)\s+卡号\s+(\d+)\s+验证码\s+(\d+)\s+(http\S+/i/\d+/\S+)\s*$", stdout, re.M
        )
    )
    assert console and projector and podium and deputy, f"the demo links were not printed:\n{stdout}"
    return Links(
        int(console.group(2)),
        console.group(1),
        projector.group(1),
        podium.group(1),
        deputy.group(1),
        invitations,
    )


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoServer]:
    """One demo server for the session: tests that share it bind deputies of their own."""
    with run_demo_server() as server:
        yield server


@pytest.fixture
def own_demo_server() -> Iterator[DemoServer]:
    """A demo server of the test's own, for a test that needs the meeting untouched: a copy
    of a data folder where `wenzheng demo` ran (see ``demo_folder``)."""
    with run_demo_server(seed=demo_folder()) as server:
        yield server


# A data folder where `wenzheng demo` ran, per China day (the demo's meeting is "today") and
# process. Loading the demo (its past sitting held through the action path) took each of
# the two dozen tests with a server of their own several seconds; a copy of the folder, its
# secret key with its database, is that installation untouched, and `serve --demo` on it
# loads nothing again (the demo loads once: test_bodies_cli.py) and prints the same links.
# The session's ``demo_server`` still starts on an empty folder, as an operator does.
_DEMO_FOLDERS: dict[str, Path] = {}


def demo_folder() -> Path:
    day = today().isoformat()
    if day not in _DEMO_FOLDERS:
        root = Path(tempfile.mkdtemp(prefix="wenzheng-demo-folder-"))
        environment = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
        environment.update(WENZHENG_DATA_DIR=str(root / "data"), WENZHENG_NTP_SERVER=NO_TIME_SERVER)
        made = subprocess.run(
            [str(WENZHENG), "demo"],
            env=environment,
            cwd=root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=START_TIMEOUT_S * 3,
        )
        if made.returncode != 0:
            pytest.fail(f"`wenzheng demo` exited with {made.returncode}:\n{made.stdout!r}\n{made.stderr!r}")
        _DEMO_FOLDERS[day] = root / "data"
    return _DEMO_FOLDERS[day]


def pytest_sessionfinish(session: pytest.Session) -> None:
    for folder in _DEMO_FOLDERS.values():
        shutil.rmtree(folder.parent, ignore_errors=True)
    _DEMO_FOLDERS.clear()


@dataclass(frozen=True)
class Started:
    base: str
    port: int
    data_dir: Path
    stdout_path: Path
    log_path: Path


@contextlib.contextmanager
def serve(*extra: str, env: dict[str, str] | None = None, seed: Path | None = None) -> Iterator[Started]:
    """`wenzheng serve [extra…]` in a data folder of its own, until /healthz answers.
    ``env``: more WENZHENG_ settings, over the defaults (e.g. a public address behind a proxy);
    ``seed``: a data folder to copy in first (else the folder is empty)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = Path(tempfile.mkdtemp(prefix="wenzheng-browser-"))
    data_dir = tmp / "data"
    if seed is not None:
        shutil.copytree(seed, data_dir)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
    environment.update(WENZHENG_DATA_DIR=str(data_dir), WENZHENG_PUBLIC_URL=base, PYTHONUNBUFFERED="1")
    # The console's readiness panel asks no time server outside the machine.
    environment.update(WENZHENG_NTP_SERVER=NO_TIME_SERVER)
    environment.update(env or {})
    out_path, log_path = tmp / "stdout.txt", tmp / "stderr.txt"
    with out_path.open("wb") as out, log_path.open("wb") as err:
        proc = subprocess.Popen(
            [str(WENZHENG), "serve", *extra, "--port", str(port)],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=tmp,
            env=environment,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                output = f"{out_path.read_text()}\n{log_path.read_text()}"
                pytest.fail(f"the server exited with {proc.returncode}:\n{output}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz did not answer in {START_TIMEOUT_S} s:\n{log_path.read_text()}")
            time.sleep(0.05)  # the test waits on the server: ask often
        yield Started(base, port, data_dir, out_path, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def run_demo_server(seed: Path | None = None) -> Iterator[DemoServer]:
    with serve("--demo", seed=seed) as started:
        stdout = started.stdout_path.read_text()
        links = parse_links(stdout)
        yield DemoServer(
            base=started.base,
            port=started.port,
            data_dir=started.data_dir,
            meeting_id=links.meeting_id,
            console_url=links.console_url,
            projector_url=links.projector_url,
            podium_url=links.podium_url,
            deputy_url=links.deputy_url,
            invitations=links.invitations,
            stdout=stdout,
            log_path=started.log_path,
        )


@dataclass(frozen=True)
class FreshServer:
    """`wenzheng serve` on an empty database (no demo): the first admin's one-time password."""

    base: str
    data_dir: Path
    admin_password: str
    stdout: str


@pytest.fixture
def fresh_server() -> Iterator[FreshServer]:
    with serve() as started:
        stdout = started.stdout_path.read_text()
        found = re.search(r"管理员账号 admin，一次性密码 (\S+?)，", stdout)
        assert found, f"no one-time password was printed:\n{stdout}"
        yield FreshServer(started.base, started.data_dir, found.group(1), stdout)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """A fresh folder for this run's screenshots."""
    if ARTIFACTS.exists():
        for old in ARTIFACTS.glob("*.png"):
            old.unlink()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The async tests here run in the session's event loop, where the run's one Chromium
    lives (a Playwright browser belongs to the loop that launched it)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if item.path.is_relative_to(here) and inspect.iscoroutinefunction(getattr(item, "obj", None)):
            item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)


class _Chromium:
    """One Chromium for the run: starting Playwright's driver and the browser cost every
    test seconds. Each test still gets a browser with no context open (a context is its own
    profile: cookies, storage, cache), and a browser that died is launched anew."""

    def __init__(self) -> None:
        self._pw: Playwright | None = None
        self._browser: Browser | None = None

    async def current(self) -> Browser:
        if self._pw is None:
            self._pw = await async_playwright().start()
        if self._browser is None or not self._browser.is_connected():
            self._browser = await self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        return self._browser

    async def close(self) -> None:
        if self._browser is not None and self._browser.is_connected():
            await self._browser.close()
        if self._pw is not None:
            await self._pw.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _chromium() -> AsyncIterator[_Chromium]:
    chromium = _Chromium()
    try:
        yield chromium
    finally:
        await chromium.close()


async def _close_contexts(browser: Browser) -> None:
    for context in list(browser.contexts):
        with contextlib.suppress(Exception):
            await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def browser(_chromium: _Chromium) -> AsyncIterator[Browser]:
    """The run's Chromium with no context open; the contexts the test opened are closed
    after it, so nothing of one test (a page, a cookie, a socket) reaches the next."""
    chromium = await _chromium.current()
    await _close_contexts(chromium)
    try:
        yield chromium
    finally:
        if chromium.is_connected():
            await _close_contexts(chromium)


@dataclass
class Shots:
    """Screenshots of several screens at once, numbered by step: <prefix>-NN-<step>-<screen>.png."""

    folder: Path
    prefix: str
    step: int = 0
    taken: list[Path] = field(default_factory=list)

    async def take(self, name: str, screens: dict[str, Page]) -> None:
        self.step += 1

        async def one(screen: str, page: Page) -> None:
            path = self.folder / f"{self.prefix}-{self.step:02d}-{name}-{screen}.png"
            # The projector is a fixed 1920x1080 screen: what is not in the viewport is not seen.
            # (projector-1280 too: a full-page shot would re-lay the zoomed projector at its
            # unzoomed 1920x1080 size, which no screen shows.)
            fixed = screen.split("-")[0] in ("projector", "podium")
            await page.screenshot(path=str(path), full_page=not fixed, animations="disabled")
            self.taken.append(path)

        await asyncio.gather(*(one(screen, page) for screen, page in screens.items()))


@pytest.fixture
def shots(artifacts: Path, request: pytest.FixtureRequest) -> Shots:
    prefix = request.node.name.removeprefix("test_")
    return Shots(artifacts, prefix)
