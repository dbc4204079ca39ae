"""Secret ballots stay secret even from an administrator who reads the whole database.

Deputies rate a question and vote in a secret vote, each with a choice the test knows.
Then every row of every table is read, on SQLite and on PostgreSQL, in the order the
database gives it: no row names both a deputy (by id, as an actor, or by the ballot key
of their receipt) and a choice, and the rows that hold choices hold only totals, which
are the same whatever deputy chose what. A named vote, on the record by law, is the
control: its choices are found by name, so the search would find a link if there were one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from server.storage import models as m
from tests.conftest import Db, Hall, plain_engine

PRESENT = (1, 2, 3, 4, 5, 6)
RATINGS = {1: "satisfied", 2: "dissatisfied", 3: "basic", 4: "satisfied", 5: "dissatisfied", 6: "basic"}
VOTES = {1: "for", 2: "against", 3: "abstain", 4: "against", 5: "for", 6: "abstain"}


@pytest.fixture
def database_url(request: pytest.FixtureRequest, data_dir: Path) -> str:
    if getattr(request, "param", "sqlite") == "postgres":
        return str(request.getfixturevalue("pg_database"))
    return f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"


def every_row(db: Db) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table, as the database returns it (no ORDER BY)."""

    async def go() -> list[tuple[str, dict[str, Any]]]:
        engine = plain_engine(db.url)
        try:
            async with engine.connect() as conn:
                out = []
                for table in m.metadata.sorted_tables:
                    out += [(table.name, dict(r._mapping)) for r in await conn.execute(select(table))]
                return out
        finally:
            await engine.dispose()

    return asyncio.run(go())


def pairs(value: Any, key: str = "") -> list[tuple[str, Any]]:
    """Every (key, value) in a row, JSON held in text columns opened up."""
    if isinstance(value, str) and value.startswith(("{", "[")):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in pairs(v, str(k))]
    if isinstance(value, list):
        return [p for v in value for p in pairs(v, key)]
    return [(key, value)]


def names_deputy(row: dict[str, Any], deputy_id: int, keys: set[str]) -> bool:
    return any(
        (k == "deputy_id" and v == deputy_id) or v == f"deputy:{deputy_id}" or v in keys
        for k, v in pairs(row)
    )


def names_choice(row: dict[str, Any], choice: str) -> bool:
    return any(k == "choice" and v == choice for k, v in pairs(row))


def run_session(hall: Hall, *, named_vote: bool) -> dict[int, dict[str, str]]:
    hall.open_rating(PRESENT)
    keys: dict[int, dict[str, str]] = {d: {} for d in PRESENT}
    for d, choice in RATINGS.items():
        keys[d]["rating"] = f"rk{d}x"
        assert hall.rate(d, 1, choice, keys[d]["rating"]).status_code == 200
    hall.act_ok("close_rating")
    hall.check_in_quorum(*PRESENT)  # no vote without the quorum; the others do not vote
    hall.act_ok("open_vote", title="决议", secret="0" if named_vote else "1")
    for d, choice in VOTES.items():
        keys[d]["vote"] = f"vk{d}x"
        data = {"vote_id": "1", "choice": choice, "ballot_key": keys[d]["vote"]}
        assert hall.http.post("/d/1/vote", data=data, headers=hall.deputy_headers(d)).status_code == 200
    hall.act_ok("close_vote")
    return keys


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_no_row_links_a_deputy_to_a_secret_choice(hall: Hall, db: Db) -> None:
    keys = run_session(hall, named_vote=False)
    rows = every_row(db)
    assert rows, "nothing read"
    for d in PRESENT:
        mine = set(keys[d].values())
        for choice in (RATINGS[d], VOTES[d]):
            linked = [(t, r) for t, r in rows if names_deputy(r, d, mine) and names_choice(r, choice)]
            assert not linked, f"deputy {d} and {choice!r} in one row: {linked}"
    # Choices live only in totals: the same totals whoever chose what.
    with_choice = {
        t for t, r in rows if any(names_choice(r, c) for c in (*RATINGS.values(), *VOTES.values()))
    }
    assert with_choice <= {"rating_tallies", "vote_tallies", "events"}, with_choice
    for t, r in rows:
        if t == "events" and r["type"] in ("RatingCast", "VoteCast"):
            assert json.loads(r["data"]).get("choice") is None, r
    tallies = {(r["choice"], r["n"]) for t, r in rows if t == "rating_tallies"}
    assert tallies == {("satisfied", 2), ("basic", 2), ("dissatisfied", 2)}


def test_a_named_vote_is_found_by_name(hall: Hall, db: Db) -> None:
    """The control: the search above does find a link where the law wants one."""
    keys = run_session(hall, named_vote=True)
    rows = every_row(db)
    for d in PRESENT:
        found = [r for _, r in rows if names_deputy(r, d, {keys[d]["vote"]}) and names_choice(r, VOTES[d])]
        assert found, f"deputy {d}'s named vote is not on the record"
        assert not any(
            names_choice(r, RATINGS[d]) and names_deputy(r, d, {keys[d]["rating"]}) for _, r in rows
        )
