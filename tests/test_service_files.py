"""The systemd unit and its environment file (deploy/systemd/) agree with the code and
the README, so none of the three can drift from the others unseen."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.base.settings import load
from server.cli.serve import _workers

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "systemd" / "wenzheng.service"
ENV = ROOT / "deploy" / "systemd" / "wenzheng.env"
NAME = re.compile(r"\bWENZHENG_[A-Z_]+\b")
# What the unit's settings file must set (or name, commented) for a production install.
REQUIRED = {
    "WENZHENG_DATA_DIR",
    "WENZHENG_DATABASE_URL",
    "WENZHENG_REDIS_URL",
    "WENZHENG_WORKERS",
    "WENZHENG_HOST",
    "WENZHENG_PORT",
    "WENZHENG_PUBLIC_URL",
    "WENZHENG_TRUSTED_PROXIES",
    "WENZHENG_SECRET_KEY",
    "WENZHENG_LOG_FORMAT",
}


def _unit() -> dict[str, list[str]]:
    """``Key=value`` lines of the unit, every value of a key in order."""
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def _env_file() -> tuple[dict[str, str], set[str]]:
    """The assignments of the env file, and every variable it names (commented or not)."""
    values: dict[str, str] = {}
    for line in ENV.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and key == key.strip() and NAME.fullmatch(key), f"not VARIABLE=value: {line!r}"
            values[key] = value
    return values, set(NAME.findall(ENV.read_text()))


def _read_by_code() -> set[str]:
    """Variable names the server reads: the string constants of the settings and of
    ``wenzheng serve``."""
    names: set[str] = set()
    for path in (ROOT / "server" / "base" / "settings.py", ROOT / "server" / "cli" / "serve.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and NAME.fullmatch(node.value):
                names.add(node.value)
    return names


def test_the_env_file_names_only_what_the_code_reads_and_the_readme_explains() -> None:
    _, named = _env_file()
    known = _read_by_code()
    assert named - known == set(), "the env file names variables nothing reads"
    assert set(NAME.findall(UNIT.read_text())) - known == set(), "the unit names unknown variables"
    assert named >= REQUIRED, f"the env file lacks {sorted(REQUIRED - named)}"
    table = {m for m in re.findall(r"^\| `(WENZHENG_[A-Z_]+)` \|", (ROOT / "README.md").read_text(), re.M)}
    assert named - table == set(), "README's settings table lacks these"


def test_the_env_files_values_are_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values, _ = _env_file()
    env = {**values, "WENZHENG_DATA_DIR": str(tmp_path)}  # the real /var/lib is not ours here
    settings = load(env)
    assert settings.log_format == values["WENZHENG_LOG_FORMAT"]
    assert settings.redis_url and int(values["WENZHENG_WORKERS"]) > 1  # several workers need Redis
    monkeypatch.setenv("WENZHENG_WORKERS", values["WENZHENG_WORKERS"])
    assert _workers(None) == int(values["WENZHENG_WORKERS"])
    monkeypatch.setenv("WENZHENG_WORKERS", "0")
    assert _workers(None) is None and _workers(3) == 3


def test_the_unit_runs_the_installed_command_hardened() -> None:
    unit = _unit()
    values, _ = _env_file()
    assert unit["ExecStart"] == ["/opt/wenzheng/bin/wenzheng serve"]
    assert unit["EnvironmentFile"] == ["/etc/wenzheng/wenzheng.env"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["User"] == ["wenzheng"] and unit["Group"] == ["wenzheng"]
    assert unit["NoNewPrivileges"] == ["yes"] and unit["PrivateTmp"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]
    # The one folder it may write is the data folder the env file names.
    assert unit["ReadWritePaths"] == [values["WENZHENG_DATA_DIR"]]
    assert unit["WorkingDirectory"] == [values["WENZHENG_DATA_DIR"]]
    assert unit["StateDirectory"] == [Path(values["WENZHENG_DATA_DIR"]).name]
    assert int(unit["LimitNOFILE"][0]) >= 8192  # thousands of sockets


def test_a_shell_reads_the_env_file_as_systemd_does() -> None:
    """The README loads it with ``set -a; . wenzheng.env; set +a`` for ``wenzheng db
    upgrade``: every value must come out as written (no space starting a command, no
    quote or ``$`` the shell would change)."""
    values, _ = _env_file()
    for key, value in values.items():
        assert re.fullmatch(r"[^\s'\"$\\`]*", value), f"{key}: a shell and systemd would read {value!r} apart"
    shown = subprocess.run(
        ["bash", "-c", f'set -a; . "{ENV}"; set +a; env -0'],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert shown.stderr == ""
    read = dict(item.split("=", 1) for item in shown.stdout.split("\0") if item.startswith("WENZHENG_"))
    assert read == values


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """``systemd-analyze verify`` with the command pointed at this checkout's ``wenzheng``
    (it checks that the program exists); any warning about the unit fails the test."""
    wenzheng = shutil.which("wenzheng", path=str(Path(sys.executable).parent))
    assert wenzheng
    copy = tmp_path / "wenzheng.service"
    copy.write_text(UNIT.read_text().replace("/opt/wenzheng/bin/wenzheng", wenzheng))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stderr.strip() == "" and done.stdout.strip() == "", (
        done.stdout + done.stderr
    )
