"""What a run prints and writes: the table, the targets of issue 20, the JSON file.

The targets (one server process, SQLite, the generator on the same machine): server CPU
per rating <= 0.5 ms and per whole check-in <= 1 ms; rating receipt p99 <= 100 ms and
whole check-in p99 <= 150 ms; nothing lost, nothing doubled; our CPU per rating <= 2 x the
floor's; <= 25 KiB of server memory per connected phone; the reconnect storm converged
within 5 s; the server's loop never stalled over 100 ms; the generator's CPU per
operation below the server's. A figure that was not measured (``--url``: no server
process; no ``floor_app``) is ``N/A``, neither a pass nor a failure.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSON_KEYS = (
    "clients",
    "rating_phase_server_cpu_ms_per_op",
    "checkin_phase_server_cpu_ms_per_op",
    "rating_phase_generator_cpu_ms_per_op",
    "checkin_phase_generator_cpu_ms_per_op",
    "rating_p50_ms",
    "rating_p99_ms",
    "checkin_p50_ms",
    "checkin_p99_ms",
    "checkin_flow_p50_ms",
    "checkin_flow_p99_ms",
    "floor_cpu_ms_per_rating",
    "floor_ratio",
    "rss_kib_per_phone",
    "question_kib_per_phone_mean",
    "question_kib_per_phone_max",
    "reconnect_bytes_mean",
    "storm_convergence_ms",
    "storm_kib",
    "loop_stall_ms",
    "lost",
    "duplicated",
)

TABLE = (
    ("clients", "phones (deputies)", ""),
    ("workers", "server worker processes", ""),
    ("idle_server_cpu_pct", "server CPU, idle with the stall probe", "%"),
    ("checkin_offered_per_s", "whole check-ins offered per second", "/s"),
    ("checkin_flows_completed", "whole check-ins completed", ""),
    ("checkin_p50_ms", "check-in POST p50", "ms"),
    ("checkin_p99_ms", "check-in POST p99", "ms"),
    ("checkin_max_ms", "check-in POST max", "ms"),
    ("checkin_flow_p50_ms", "whole check-in p50", "ms"),
    ("checkin_flow_p99_ms", "whole check-in p99", "ms"),
    ("checkin_flow_max_ms", "whole check-in max", "ms"),
    ("checkin_phase_server_cpu_ms_per_op", "server CPU per whole check-in", "ms"),
    ("checkin_phase_generator_cpu_ms_per_op", "generator CPU per whole check-in", "ms"),
    ("checkin_phase_server_cpu_pct", "server CPU, check-in window (1 core = 100)", "%"),
    ("checkin_phase_server_cpu_pct_by_process", "  by server process", "%"),
    ("checkin_phase_core_busy_pct", "  each core busy (whole machine)", "%"),
    ("checkin_phase_generator_cpu_pct", "generator CPU, check-in window", "%"),
    ("checkin_phase_loop_stall_ms", "server loop stall, check-in window", "ms"),
    ("checkin_phase_generator_loop_lag_max_ms", "generator loop lag max, check-in", "ms"),
    ("projector_lag_ms", "projector shows all, after last receipt", "ms"),
    ("rating_offered_per_s", "ratings offered per second", "/s"),
    ("ratings_receipted", "ratings receipted", ""),
    ("rating_p50_ms", "rating receipt p50", "ms"),
    ("rating_p99_ms", "rating receipt p99", "ms"),
    ("rating_max_ms", "rating receipt max", "ms"),
    ("rating_phase_server_cpu_ms_per_op", "server CPU per rating", "ms"),
    ("rating_phase_generator_cpu_ms_per_op", "generator CPU per rating", "ms"),
    ("rating_phase_server_cpu_pct", "server CPU, rating window", "%"),
    ("rating_phase_server_cpu_pct_by_process", "  by server process", "%"),
    ("rating_phase_core_busy_pct", "  each core busy (whole machine)", "%"),
    ("rating_phase_generator_cpu_pct", "generator CPU, rating window", "%"),
    ("rating_phase_loop_stall_ms", "server loop stall, rating window", "ms"),
    ("rating_phase_generator_loop_lag_max_ms", "generator loop lag max, rating", "ms"),
    ("tally_lag_ms", "console tally complete, after last receipt", "ms"),
    ("floor_cpu_ms_per_rating", "floor: CPU per rating", "ms"),
    ("floor_p99_ms", "floor: rating p99", "ms"),
    ("floor_ratio", "our CPU per rating / the floor's", "x"),
    ("rss_kib_per_phone", "server memory per connected phone", "KiB"),
    ("bind_rss_kib_per_phone", "server memory per phone bound (not a target)", "KiB"),
    ("question_kib_per_phone_mean", "received per phone, whole question, mean", "KiB"),
    ("question_kib_per_phone_max", "received per phone, whole question, max", "KiB"),
    ("reconnect_bytes_mean", "received per reconnect (handshake + hello), mean", "B"),
    ("reconnect_bytes_max", "received per reconnect, max", "B"),
    ("fanout_p99_ms", "fan-out (to_answering) p99", "ms"),
    ("close_rating_fanout_p99_ms", "fan-out (close_rating) p99", "ms"),
    ("storm_converged_phones", "storm: phones that caught up", ""),
    ("storm_convergence_ms", "storm: every phone caught up, after the drop", "ms"),
    ("storm_convergence_p50_ms", "storm: half the phones caught up", "ms"),
    ("storm_kib", "storm: bytes received, all phones", "KiB"),
    ("storm_server_cpu_s", "storm: server CPU", "s"),
    ("storm_loop_stall_ms", "server loop stall, storm", "ms"),
    ("loop_stall_ms", "server loop stall, longest of the three", "ms"),
    ("checkin_commit_batches", "check-in commits (group commit batches)", ""),
    ("rating_commit_batches", "rating commits (group commit batches)", ""),
    ("lost", "lost receipts", ""),
    ("duplicated", "duplicated rows", ""),
)


def table(result: dict[str, Any], rows: tuple[tuple[str, str, str], ...] = TABLE) -> str:
    lines = []
    for key, label, unit in rows:
        if key not in result:
            continue
        value = result[key]
        shown = "n/a" if value is None else f"{value}{(' ' + unit) if unit else ''}"
        lines.append(f"  {label:<46}{shown}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Target:
    key: str
    label: str  # the target, as issue 3 states it
    measured: float | None  # the figure compared (None: not measured)
    limit: float | None  # measured <= limit passes
    shown: str  # the measured figure, for people

    @property
    def passed(self) -> bool | None:
        if self.measured is None or self.limit is None:
            return None
        return self.measured <= self.limit

    @property
    def status(self) -> str:
        return {True: "PASS", False: "FAIL", None: "N/A"}[self.passed]

    def as_json(self) -> dict[str, Any]:
        return {"target": self.label, "measured": self.measured, "limit": self.limit, "pass": self.passed}


def _ms(value: Any) -> str:
    return "not reached" if value is None else f"{value} ms"


def _cpu(result: dict[str, Any], key: str, label: str, name: str, limit: float) -> Target:
    value = result.get(f"{name}_server_cpu_ms_per_op")
    gen = result.get(f"{name}_generator_cpu_ms_per_op")
    return Target(key, label, value, limit, f"{_ms(value)} (generator {_ms(gen)})")


STORM_WAIT_MS = 30_000.0  # how long the bench waits for the storm (hall.storm)


def _storm(result: dict[str, Any], storm: float | None) -> Target:
    """Phones that never caught up count as the whole wait: a failure, not a missing figure."""
    label = "reconnect storm: every phone caught up ≤ 5 s"
    caught, n = result.get("storm_converged_phones"), result.get("clients")
    if storm is None and caught is not None:
        return Target("storm", label, STORM_WAIT_MS, 5000.0, f"only {caught} of {n} within 30 s")
    return Target("storm", label, storm, 5000.0, _ms(storm))


def targets(result: dict[str, Any], workers: int, on_postgres: bool) -> list[Target]:
    """Each target of issue 20 with the figure this run measured."""
    n = result.get("clients") or 0
    checkin, rating = result.get("checkin_flow_p99_ms"), result.get("rating_p99_ms")
    floor, ratio = result.get("floor_cpu_ms_per_rating"), result.get("floor_ratio")
    rss, storm, stall = (
        result.get("rss_kib_per_phone"),
        result.get("storm_convergence_ms"),
        result.get("loop_stall_ms"),
    )
    lost, dup = result.get("lost"), result.get("duplicated")
    wrong = None if lost is None or dup is None else float(lost + dup)
    gen_over = None
    pairs = [
        (result.get(f"{w}_phase_generator_cpu_ms_per_op"), result.get(f"{w}_phase_server_cpu_ms_per_op"))
        for w in ("checkin", "rating")
    ]
    if all(g is not None and s is not None for g, s in pairs):
        gen_over = max(g / s for g, s in pairs if g is not None and s)  # below 1: the generator is lighter
    got = [result.get(k) for k in ("checkin_flows_completed", "ratings_receipted", "storm_converged_phones")]
    missing = float(sum(n - (g or 0) for g in got)) if n else None
    return [
        _cpu(result, "rating_cpu", "server CPU per rating ≤ 0.5 ms", "rating_phase", 0.5),
        _cpu(result, "checkin_cpu", "server CPU per whole check-in ≤ 1 ms", "checkin_phase", 1.0),
        Target("rating_p99", "rating receipt p99 ≤ 100 ms", rating, 100.0, _ms(rating)),
        Target("checkin_p99", "whole check-in p99 ≤ 150 ms", checkin, 150.0, _ms(checkin)),
        Target("lost_duplicated", "lost = duplicated = 0", wrong, 0.0, f"lost {lost}, duplicated {dup}"),
        Target(
            "floor_ratio",
            "our CPU per rating ≤ 2 × the floor's",
            ratio,
            2.0,
            "no floor_app" if floor is None else f"{ratio} × (floor {floor} ms)",
        ),
        Target(
            "rss",
            "server memory ≤ 25 KiB per phone",
            rss,
            25.0,
            "not measured" if rss is None else f"{rss} KiB",
        ),
        _storm(result, storm),
        Target("loop_stall", "server loop stall ≤ 100 ms", stall, 100.0, _ms(stall)),
        Target(
            "generator",
            "generator CPU per operation < the server's",
            None if gen_over is None else round(gen_over, 3),
            0.999,
            "not measured" if gen_over is None else f"{gen_over:.2f} × the server's (worst window)",
        ),
        Target(
            "complete",
            f"all {n} whole check-ins and ratings done, every phone caught up",
            missing,
            0.0,
            "check-ins {}, ratings {}, storm {}".format(*got),
        ),
    ]


def _pad(text: str, width: int) -> str:
    """Left-justify in a terminal: CJK characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(1, width - used)


def targets_text(found: list[Target], scenario: str) -> str:
    lines = [f"targets (issue 20; {scenario}):"]
    lines += [f"  {t.status:<6}{_pad(t.label, 66)}{t.shown}" for t in found]
    return "\n".join(lines)


def write_json(path: str, result: dict[str, Any], found: list[Target], code: int) -> None:
    """The figures issue 20 names first, then every other figure, the targets, the exit code."""
    ordered = {k: result.get(k) for k in JSON_KEYS}
    ordered.update({k: v for k, v in result.items() if k not in ordered})
    ordered["targets"] = {t.key: t.as_json() for t in found}
    ordered["targets_met"] = all(t.passed is not False for t in found) if found else None
    ordered["exit_code"] = code
    Path(path).write_text(json.dumps(ordered, ensure_ascii=False, indent=2) + "\n")
