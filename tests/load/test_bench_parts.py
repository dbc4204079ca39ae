"""The bench's own logic, without a server: options, the fresh-database address, targets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from server.bench.common import BenchError, quantile
from server.bench.options import Options, from_args
from server.bench.postgres import _admin_dsn
from server.bench.procfs import CpuMeter
from server.bench.report import targets
from server.bench.serving import _wenzheng_command, served_code
from server.cli import parser


def _options(argv: list[str]) -> Options:
    return from_args(parser().parse_args(["bench", *argv]))


def test_the_default_is_the_standard_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WENZHENG_BENCH_WINDOW_S", raising=False)
    o = _options([])
    assert (o.deputies, o.workers, o.checkin_window_s, o.rating_window_s) == (3000, 1, 10.0, 5.0)
    assert o.database_url is None and o.postgres is None and o.redis_url is None


def test_windows_env_overrides_both_and_options_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WENZHENG_BENCH_WINDOW_S", "6")
    o = _options(["--rating-window", "2"])
    assert (o.checkin_window_s, o.rating_window_s) == (6.0, 2.0)


def test_bare_postgres_is_the_local_server() -> None:
    o = _options(["--postgres", "--workers", "2", "--redis-url", "redis://127.0.0.1:6379/0"])
    assert o.postgres == "postgresql+asyncpg://postgres@127.0.0.1:5432"
    assert _admin_dsn(o.postgres) == "postgresql://postgres@127.0.0.1:5432/postgres"
    assert _admin_dsn("postgresql+asyncpg://u:p@h:5433/maint") == "postgresql://u:p@h:5433/maint"


def test_refused_combinations() -> None:
    with pytest.raises(BenchError, match="redis"):
        _options(["--workers", "2"])
    with pytest.raises(BenchError, match="--url"):
        _options(["--postgres", "--url", "http://127.0.0.1:8000"])
    with pytest.raises(SystemExit):  # argparse: not allowed together
        _options(["--postgres", "--database-url", "sqlite+aiosqlite:///x.db"])


def test_quantile_is_nearest_rank() -> None:
    assert quantile([], 0.99) is None
    assert quantile(list(range(1, 101)), 0.99) == 99
    assert quantile([5.0], 0.5) == 5.0


def test_processes_is_refused_with_a_reason() -> None:
    with pytest.raises(BenchError, match="one process"):
        _options(["--processes", "2"])


RUN = {
    "clients": 10,
    "rating_phase_server_cpu_ms_per_op": 0.4,
    "rating_phase_generator_cpu_ms_per_op": 0.2,
    "checkin_phase_server_cpu_ms_per_op": 1.2,
    "checkin_phase_generator_cpu_ms_per_op": 1.3,
    "rating_p99_ms": 120.0,
    "checkin_flow_p99_ms": 150.0,
    "floor_cpu_ms_per_rating": 0.25,
    "floor_ratio": 1.6,
    "rss_kib_per_phone": None,
    "storm_convergence_ms": None,
    "loop_stall_ms": 99.0,
    "lost": 0,
    "duplicated": 0,
    "checkin_flows_completed": 10,
    "ratings_receipted": 10,
    "storm_converged_phones": 9,
}


def test_targets_of_issue_20() -> None:
    found = {t.key: t for t in targets(RUN, workers=1, on_postgres=False)}
    assert set(found) == {
        "rating_cpu",
        "checkin_cpu",
        "rating_p99",
        "checkin_p99",
        "lost_duplicated",
        "floor_ratio",
        "rss",
        "storm",
        "loop_stall",
        "generator",
        "complete",
    }
    assert found["rating_cpu"].status == "PASS" and found["checkin_cpu"].status == "FAIL"
    assert found["rating_p99"].status == "FAIL" and found["checkin_p99"].status == "PASS"  # at the limit
    assert found["floor_ratio"].status == "PASS" and found["loop_stall"].status == "PASS"
    assert found["rss"].status == "N/A"  # not measured (--url)
    assert found["storm"].status == "FAIL"  # 9 of 10 caught up: a failure, not a missing figure
    # The generator was heavier than the server in the check-in window: the p99 is suspect.
    assert found["generator"].status == "FAIL"
    assert found["complete"].status == "FAIL"  # one phone never caught up after the storm
    assert found["lost_duplicated"].status == "PASS"

    lighter = {**RUN, "checkin_phase_generator_cpu_ms_per_op": 0.5}
    assert {t.key: t for t in targets(lighter, 1, False)}["generator"].status == "PASS"
    no_floor = {**RUN, "floor_cpu_ms_per_rating": None, "floor_ratio": None}
    assert {t.key: t for t in targets(no_floor, 1, False)}["floor_ratio"].status == "N/A"


def test_cpu_per_operation_is_the_window_cpu_over_its_operations() -> None:
    meter = CpuMeter(os.getpid())  # this process as both server and generator
    figures: dict[str, object] = {}
    meter.start()
    sum(i * i for i in range(2_000_000))
    meter.stop("rating_phase", 4, figures)
    cpu = figures["rating_phase_server_cpu_s"]
    assert isinstance(cpu, float) and cpu > 0
    assert figures["rating_phase_server_cpu_ms_per_op"] == round(1000 * cpu / 4, 3)
    assert figures["rating_phase_generator_cpu_s"] == cpu
    meter.stop("empty", 0, figures)  # nothing done: no figure rather than a division by zero
    assert figures["empty_server_cpu_ms_per_op"] is None


def test_another_install_may_serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("WENZHENG_BENCH_SERVE", raising=False)
    assert _wenzheng_command()[0].endswith("wenzheng") or _wenzheng_command()[1:] == ["-m", "server.cli"]
    other = tmp_path / "wt-base" / ".venv" / "bin" / "wenzheng"
    monkeypatch.setenv("WENZHENG_BENCH_SERVE", str(other))
    assert _wenzheng_command() == [str(other)]
    assert served_code() == ""  # not a git worktree: no commit to name
