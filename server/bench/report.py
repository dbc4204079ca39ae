"""What a run prints and writes: the table, the targets of issue 3, the JSON file.

The targets, as issue 3 states them (one server process and SQLite unless said):
check-in receipt p99 <= 100 ms; the projector shows 实到 N within 300 ms of the last
receipt; rating receipt p99 <= 100 ms (150 ms on PostgreSQL); the console tally complete
within 300 ms of the last receipt; fan-out p99 <= 3 x the floor (<= 200 ms with several
workers); server memory <= 40 KiB per connected client; nothing lost, nothing doubled.
A figure that was not measured (``--url``: no server process to read memory from) is
``N/A``, neither a pass nor a failure.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSON_KEYS = (
    "clients",
    "checkin_p50_ms",
    "checkin_p99_ms",
    "projector_lag_ms",
    "rating_p50_ms",
    "rating_p99_ms",
    "tally_lag_ms",
    "fanout_p50_ms",
    "fanout_p99_ms",
    "fanout_floor_ms",
    "rss_kib_per_client",
    "lost",
    "duplicated",
)

TABLE = (
    ("clients", "phones (deputies)", ""),
    ("workers", "server worker processes", ""),
    ("checkin_offered_per_s", "check-ins offered per second", "/s"),
    ("checkins_receipted", "check-ins receipted", ""),
    ("checkin_p50_ms", "check-in receipt p50", "ms"),
    ("checkin_p99_ms", "check-in receipt p99", "ms"),
    ("checkin_per_s", "check-in receipts per second", "/s"),
    ("checkin_new_connections", "check-ins that opened a new connection", ""),
    ("projector_lag_ms", "projector shows all, after last receipt", "ms"),
    ("rating_offered_per_s", "ratings offered per second", "/s"),
    ("ratings_receipted", "ratings receipted", ""),
    ("rating_p50_ms", "rating receipt p50", "ms"),
    ("rating_p99_ms", "rating receipt p99", "ms"),
    ("rating_per_s", "rating receipts per second", "/s"),
    ("tally_lag_ms", "console tally complete, after last receipt", "ms"),
    ("fanout_p50_ms", "fan-out (next phase: to_answering) p50", "ms"),
    ("fanout_p99_ms", "fan-out (next phase: to_answering) p99", "ms"),
    ("timer_adjust_fanout_p99_ms", "fan-out (timer_adjust) p99", "ms"),
    ("fanout_floor_ms", "floor: bare websockets broadcast p99", "ms"),
    ("open_rating_fanout_p99_ms", "fan-out (open_rating) p99", "ms"),
    ("close_rating_fanout_p99_ms", "fan-out (close_rating) p99", "ms"),
    ("rss_kib_per_client", "server RSS per socket", "KiB"),
    ("server_rss_processes", "server processes summed for RSS", ""),
    ("checkin_phase_server_cpu_pct", "server CPU, check-in phase (1 core = 100)", "%"),
    ("checkin_phase_load_cpu_pct", "load CPU, check-in phase (1 core = 100)", "%"),
    ("checkin_server_cpu_ms_per_op", "server CPU per check-in receipted", "ms"),
    ("checkin_phase_console_kib", "sent to the console, check-in phase", "KiB"),
    ("checkin_phase_script_kib", "sent to the script tablet, check-in phase", "KiB"),
    ("checkin_phase_console_searches", "console's search re-asked, check-in phase", ""),
    ("checkin_phase_probe_max_ms", "server loop stall, check-in (probe max)", "ms"),
    ("checkin_phase_load_loop_lag_p99_ms", "load processes' loop lag p99, check-in", "ms"),
    ("rating_phase_server_cpu_pct", "server CPU, rating phase", "%"),
    ("rating_phase_load_cpu_pct", "load CPU, rating phase", "%"),
    ("rating_server_cpu_ms_per_op", "server CPU per rating receipted", "ms"),
    ("rating_phase_console_kib", "sent to the console, rating phase", "KiB"),
    ("rating_phase_probe_max_ms", "server loop stall, rating (probe max)", "ms"),
    ("rating_phase_load_loop_lag_p99_ms", "load processes' loop lag p99, rating", "ms"),
    ("checkin_commit_batches", "check-in commits (group commit batches)", ""),
    ("checkin_commit_gap_max_ms", "longest gap between check-in commits", "ms"),
    ("gc_gen2_count", "server full garbage collections", ""),
    ("gc_gen2_total_ms", "server full garbage collections, total", "ms"),
    ("gc_gen2_max_ms", "server full garbage collection, longest", "ms"),
    ("bind_errors", "phones that could not open their invitation", ""),
    ("connect_errors", "phones that could not open their socket", ""),
    ("lost", "lost receipts", ""),
    ("duplicated", "duplicated rows", ""),
)


def table(result: dict[str, Any]) -> str:
    lines = []
    for key, label, unit in TABLE:
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


def targets(result: dict[str, Any], workers: int, on_postgres: bool) -> list[Target]:
    """Each target of issue 3 with the figure this run measured."""
    n = result.get("clients") or 0
    rating_limit = 150.0 if on_postgres else 100.0
    out = [
        Target(
            "checkin_p99",
            "check-in receipt p99 ≤ 100 ms",
            result.get("checkin_p99_ms"),
            100.0,
            _ms(result.get("checkin_p99_ms")),
        ),
        Target(
            "projector",
            f"projector shows 实到 {n} ≤ 300 ms after the last receipt",
            result.get("projector_lag_ms"),
            300.0,
            _ms(result.get("projector_lag_ms")),
        ),
        Target(
            "rating_p99",
            f"rating receipt p99 ≤ {rating_limit:.0f} ms" + (" (PostgreSQL)" if on_postgres else ""),
            result.get("rating_p99_ms"),
            rating_limit,
            _ms(result.get("rating_p99_ms")),
        ),
        Target(
            "tally_lag",
            "console tally = database ≤ 300 ms after the last receipt",
            result.get("tally_lag_ms"),
            300.0,
            _ms(result.get("tally_lag_ms")),
        ),
    ]
    p99, floor = result.get("fanout_p99_ms"), result.get("fanout_floor_ms")
    if workers > 1:
        out.append(Target("fanout", f"fan-out p99 ≤ 200 ms ({workers} workers)", p99, 200.0, _ms(p99)))
    else:
        ratio = f" = {p99 / floor:.1f} × floor" if p99 is not None and floor else ""
        out.append(
            Target(
                "fanout",
                "fan-out p99 ≤ 3 × floor",
                p99,
                None if floor is None else 3 * floor,
                f"{_ms(p99)}, floor {_ms(floor)}{ratio}",
            )
        )
    rss = result.get("rss_kib_per_client")
    out.append(
        Target(
            "rss",
            "server memory ≤ 40 KiB per client",
            rss,
            40.0,
            "not measured" if rss is None else f"{rss} KiB",
        )
    )
    lost, dup = result.get("lost"), result.get("duplicated")
    wrong = None if lost is None or dup is None else float(lost + dup)
    out.append(
        Target("lost_duplicated", "lost = duplicated = 0", wrong, 0.0, f"lost {lost}, duplicated {dup}")
    )
    got = [result.get(k) for k in ("checkins_receipted", "ratings_receipted", "fanout_received")]
    missing = float(sum(n - (g or 0) for g in got)) if n else None
    out.append(
        Target(
            "complete",
            f"all {n} check-ins and ratings receipted, every socket reached",
            missing,
            0.0,
            "check-ins {}, ratings {}, fan-out {}".format(*got),
        )
    )
    return out


def _pad(text: str, width: int) -> str:
    """Left-justify in a terminal: CJK characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(1, width - used)


def targets_text(found: list[Target], scenario: str) -> str:
    lines = [f"targets (issue 3; {scenario}):"]
    lines += [f"  {t.status:<6}{_pad(t.label, 66)}{t.shown}" for t in found]
    return "\n".join(lines)


def write_json(path: str, result: dict[str, Any], found: list[Target], code: int) -> None:
    """The figures issue 3 names first, then every other figure, the targets, the exit code."""
    ordered = {k: result.get(k) for k in JSON_KEYS}
    ordered.update({k: v for k, v in result.items() if k not in ordered})
    ordered["targets"] = {t.key: t.as_json() for t in found}
    ordered["targets_met"] = all(t.passed is not False for t in found) if found else None
    ordered["exit_code"] = code
    Path(path).write_text(json.dumps(ordered, ensure_ascii=False, indent=2) + "\n")
