"""A small `wenzheng bench` run: correctness under concurrency, never timing.

100 phones in the one load process against a real server on loopback: every whole
check-in (hall page, POST answered with the page, socket reopened) and every rating must come back
with a receipt, every receipt must be in the database exactly once, and after the
reconnect storm every phone must hold the seq the chair's change made. The figures are
printed for the curious; each must be reported, with its target, and none is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PHONES = 100
SPLIT = ("hall_page", "checkin_post", "receipt_page", "socket")


@pytest.mark.slow
def test_every_receipt_is_recorded_once(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
    command = [sys.executable, "-m", "server.cli", "bench", "--deputies", str(PHONES)]
    # Short windows: the figures are not the point here, and the test stays quick.
    command += ["--checkin-window", "1", "--rating-window", "1", "--json", str(out)]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    print(run.stdout)
    assert out.exists(), run.stdout + run.stderr
    result = json.loads(out.read_text())

    assert result["clients"] == PHONES
    assert result["lost"] == 0, result["lost_by_kind"]
    assert result["duplicated"] == 0, result["duplicated_by_kind"]
    assert result["checkins_receipted"] == PHONES, result["checkin_statuses"]
    assert result["checkin_flows_completed"] == PHONES, result["checkin_flow_failures"]
    assert result["ratings_receipted"] == PHONES, result["rating_statuses"]
    assert result["db_checkins"] == PHONES
    assert result["db_rating_receipts"] == result["db_rating_ballots"] == PHONES
    assert result["fanout_received"] == result["close_rating_received"] == PHONES
    # The storm: every socket dropped, every phone back with its last seq, and every one
    # caught up with the chair's change made meanwhile.
    assert result["storm_reconnect_errors"] == 0, result["storm_first_error"]
    assert result["storm_converged_phones"] == PHONES
    assert result["server_commit"] == result["commit"]
    # Every figure of issue 20 is reported (a value, or null when not measurable here).
    for key in (
        "rating_phase_server_cpu_ms_per_op",
        "checkin_phase_server_cpu_ms_per_op",
        "rating_phase_generator_cpu_ms_per_op",
        "checkin_phase_generator_cpu_ms_per_op",
        "rating_p99_ms",
        "checkin_p99_ms",
        "checkin_flow_p99_ms",
        "question_kib_per_phone_mean",
        "question_kib_per_phone_max",
        "reconnect_bytes_mean",
        "storm_convergence_ms",
        "storm_kib",
        "loop_stall_ms",
    ):
        assert result[key] is not None and result[key] > 0, key
    # Memory is measured, but 100 phones are within the allocator's noise: any number will do.
    assert isinstance(result["rss_kib_per_phone"], int | float)
    assert "floor_ratio" in result
    if result["floor_available"]:  # server/bench/floor_app.py answered every rating
        assert result["floor_ratings"] == PHONES and result["floor_ratio"] > 0
    assert set(result["targets"]) == {
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
    assert result["targets"]["lost_duplicated"]["pass"] is True
    assert result["targets"]["complete"]["pass"] is True
    assert "PASS" in run.stdout
    assert run.returncode == 0, run.stderr


@pytest.mark.slow
def test_the_check_in_split_reports_each_exchange(tmp_path: Path) -> None:
    """``--split-checkin`` (a diagnostic): every phone does each exchange of the whole
    check-in in a window of its own, and each exchange gets its own server CPU figure."""
    out = tmp_path / "split.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
    command = [sys.executable, "-m", "server.cli", "bench", "--split-checkin", "--deputies", "40"]
    command += ["--checkin-window", "1", "--json", str(out)]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    print(run.stdout)
    assert run.returncode == 0 and out.exists(), run.stdout + run.stderr
    result = json.loads(out.read_text())
    # A bound phone's check-in POST is answered with its page: no receipt page to load.
    assert result["split_receipt_page_server_cpu_ms"] is None
    done = [name for name in SPLIT if name != "receipt_page"]
    costs = [result[f"split_{name}_server_cpu_ms"] for name in done]
    assert all(c is not None and c > 0 for c in costs), costs
    assert result["split_sum_server_cpu_ms"] == pytest.approx(sum(costs), abs=0.01)
    assert result["split_idle_server_cpu_pct"] is not None
    for name in done:  # every phone did every exchange
        assert result[f"split_{name}_ops"] == 40
    assert result["targets"] == {} and result["exit_code"] == 0
    assert "server CPU per checkin post" in run.stdout
