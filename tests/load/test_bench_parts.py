"""The bench's own logic, without a server: options, the fresh-database address, targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.bench.common import BenchError, quantile
from server.bench.driver import _per_op
from server.bench.options import Options, from_args
from server.bench.postgres import _admin_dsn
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


RUN = {
    "clients": 10,
    "checkin_p99_ms": 50.0,
    "projector_lag_ms": -3.0,
    "rating_p99_ms": 120.0,
    "tally_lag_ms": 301.0,
    "fanout_p99_ms": 30.0,
    "fanout_floor_ms": 10.0,
    "rss_kib_per_client": None,
    "lost": 0,
    "duplicated": 0,
    "checkins_receipted": 10,
    "ratings_receipted": 10,
    "fanout_received": 10,
}


def test_targets_follow_the_scenario() -> None:
    one = {t.key: t for t in targets(RUN, workers=1, on_postgres=False)}
    assert one["checkin_p99"].status == "PASS"
    assert one["projector"].status == "PASS"  # shown before the last receipt
    assert one["rating_p99"].status == "FAIL"  # 120 > 100 on SQLite
    assert one["tally_lag"].status == "FAIL"
    assert one["fanout"].status == "PASS" and one["fanout"].limit == 30.0  # exactly 3 x floor
    assert one["rss"].status == "N/A"
    assert one["lost_duplicated"].status == "PASS" and one["complete"].status == "PASS"

    two = {t.key: t for t in targets(RUN, workers=2, on_postgres=True)}
    assert two["rating_p99"].status == "PASS" and two["rating_p99"].limit == 150.0
    assert two["fanout"].limit == 200.0

    short = {t.key: t for t in targets({**RUN, "ratings_receipted": 9, "lost": 1}, 1, False)}
    assert short["complete"].status == "FAIL" and short["lost_duplicated"].status == "FAIL"


def test_cpu_per_operation_is_the_phase_cpu_over_the_receipts() -> None:
    figures: dict[str, object] = {"checkin_phase_server_cpu_s": 4.5}
    _per_op("checkin", 3000, figures)
    assert figures["checkin_server_cpu_ms_per_op"] == 1.5
    _per_op("rating", 0, figures)  # nothing receipted, or no server process (--url): no figure
    assert figures["rating_server_cpu_ms_per_op"] is None


def test_another_install_may_serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("WENZHENG_BENCH_SERVE", raising=False)
    assert _wenzheng_command()[0].endswith("wenzheng") or _wenzheng_command()[1:] == ["-m", "server.cli"]
    other = tmp_path / "wt-base" / ".venv" / "bin" / "wenzheng"
    monkeypatch.setenv("WENZHENG_BENCH_SERVE", str(other))
    assert _wenzheng_command() == [str(other)]
    assert served_code() == ""  # not a git worktree: no commit to name
