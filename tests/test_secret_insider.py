"""The strongest insider against secret ballots, and the chance they must not beat.

The insider is a member of staff (or whoever runs the database) who holds, for a whole
session of secret ratings and secret votes cast in random order with random choices:

- every message the console and projector sockets received;
- the meeting's audit export (/m/{id}/audit.csv);
- a copy of the database taken after the ballots closed: on SQLite the file with its
  ``-wal`` and ``-shm``; on PostgreSQL every row with its system columns and every tuple
  version still on the heap, dead ones included (pageinspect), so each row's writing
  transaction (``xmin``) and the history of updated rows.

They run three attacks, each a real technique that names choices where storage or
screens leak (the controls below prove each one on leaky data):

A. tally steps on the sockets: each fragment carries ``data-seq``; the choices that
   appeared between two steps belong to the cast events between those seqs;
B. PostgreSQL transactions: the versions of a total, by ``xmin``, give what each
   transaction added; the receipts with the same ``xmin`` are who added it;
C. SQLite's WAL: the database as it stood after each commit in the WAL, totals and
   receipts compared commit by commit.

A guess for each ballot comes from the steps that hold it (the choice the step added
most), or, with none, from the round's announced result (its most frequent choice).
Chance is that fallback alone: what anyone knows from the announced results. The
insider must not do better than chance beyond sampling noise.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import random
import re
import shutil
import sqlite3
import struct
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from server.base.keys import Keys
from tests.conftest import (
    Db,
    Hall,
    figures,
    install_demo,
    page_seq,
    ws_connect,
    ws_hello,
)

Round = tuple[str, int]  # ("rating", question id) or ("vote", vote id)
Ballot = tuple[Round, int]  # (round, deputy id)

RATING_CHOICES = ("satisfied", "basic", "dissatisfied")
VOTE_CHOICES = ("for", "against", "abstain")
PRESENT = 32  # the quorum of the 48-deputy demo body: no vote opens without it (issue 16)
RATED_QUESTIONS = (1, 2, 3, 4)
SECRET_VOTES = 4


@pytest.fixture
def database_url(request: pytest.FixtureRequest, data_dir: Path) -> str:
    if getattr(request, "param", "sqlite") == "postgres":
        return str(request.getfixturevalue("pg_database"))
    return f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"


# -- what the insider concludes ------------------------------------------------------------


@dataclass
class Step:
    """Ballots that, together, added ``delta`` to a round's totals."""

    round: Round
    members: frozenset[int]
    delta: Counter[str]


@dataclass
class Verdict:
    guessed: int = 0
    right: int = 0
    chance_right: int = 0
    informative: int = 0  # ballots some step said something about
    by_attack: dict[str, int] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return self.right / self.guessed

    @property
    def chance(self) -> float:
        return self.chance_right / self.guessed


def judge(truth: dict[Ballot, str], results: dict[Round, Counter[str]], steps: list[Step]) -> Verdict:
    """The insider's best guess per ballot, against the truth."""
    evidence: dict[Ballot, Counter[str]] = defaultdict(Counter)
    for step in steps:
        size = len(step.members)
        if not size or sum(step.delta.values()) != size or any(n < 0 for n in step.delta.values()):
            continue  # a step that does not account for its members says nothing usable
        for deputy in step.members:
            for choice, n in step.delta.items():
                evidence[(step.round, deputy)][choice] += n / size
    verdict = Verdict()
    for ballot, choice in truth.items():
        plurality = results[ballot[0]].most_common(1)[0][0]
        seen = evidence.get(ballot)
        guess = seen.most_common(1)[0][0] if seen else plurality
        verdict.guessed += 1
        verdict.right += guess == choice
        verdict.chance_right += plurality == choice
        verdict.informative += bool(seen)
    return verdict


def no_better_than_chance(verdict: Verdict, what: str) -> None:
    # Four standard errors of a proportion: far outside sampling noise, far inside what
    # any of the attacks gets from leaky data (the controls: 0.9 and more).
    n, p = verdict.guessed, verdict.chance
    margin = 4 * (max(p * (1 - p), 0.05) / n) ** 0.5
    assert verdict.accuracy <= p + margin, (
        f"{what}: the insider named {verdict.right} of {n} secret choices "
        f"({verdict.accuracy:.2f}); chance is {p:.2f}"
    )


# -- the log, as the insider reads it from the copy ----------------------------------------


@dataclass
class Log:
    casts: dict[int, Ballot]  # seq -> the cast
    rounds: dict[Round, tuple[int, int]]  # open seq, close seq

    def round_at(self, seq: int, kind: str) -> Round | None:
        for r, (opened, closed) in self.rounds.items():
            if r[0] == kind and opened <= seq <= closed:
                return r
        return None


def read_log(rows: list[tuple[int, str, str]]) -> Log:
    casts: dict[int, Ballot] = {}
    opened: dict[Round, int] = {}
    closed: dict[Round, int] = {}
    for seq, kind, raw in rows:
        data = json.loads(raw)
        if kind == "RatingCast":
            casts[seq] = (("rating", data["question_id"]), data["deputy_id"])
        elif kind == "VoteCast":
            casts[seq] = (("vote", data["vote_id"]), data["deputy_id"])
        elif kind == "RatingOpened":
            opened[("rating", data["question_id"])] = seq
        elif kind == "RatingClosed":
            closed[("rating", data["question_id"])] = seq
        elif kind == "VoteOpened":
            opened[("vote", data["vote_id"])] = seq
        elif kind == "VoteClosed":
            closed[("vote", data["vote_id"])] = seq
    return Log(casts, {r: (s, closed.get(r, 10**9)) for r, s in opened.items()})


# -- attack A: tally steps on the sockets ----------------------------------------------------

FRAGMENT = re.compile(r'<(?:section|div) id="([\w-]+)"[^>]*data-seq="(\d+)"')
SPLITS = (
    re.compile(r'data-choice="(\w+)">(\d+)<'),
    re.compile(r'data-vote="(\w+)">(\d+)<'),
    re.compile(r'bar-row bar-(\w+)">.*?bar-count">(\d+) 票', re.S),
    re.compile(r'vfig vote-(\w+)"><span class="fig-label">[^<]*</span><span class="fig-num">(\d+)<'),
)


def socket_steps(messages: list[str], log: Log) -> list[Step]:
    seen: dict[Round, dict[int, Counter[str]]] = defaultdict(dict)
    for message in messages:
        starts = [(m.start(), m.group(1), int(m.group(2))) for m in FRAGMENT.finditer(message)]
        for i, (at, _frag, seq) in enumerate(starts):
            body = message[at : starts[i + 1][0] if i + 1 < len(starts) else len(message)]
            for pattern in SPLITS:
                pairs = [(c, int(n)) for c, n in pattern.findall(body) if c != "not_voted"]
                if not pairs:
                    continue
                kind = "rating" if pairs[0][0] in RATING_CHOICES else "vote"
                r = log.round_at(seq, kind)
                if r is not None:
                    seen[r][seq] = Counter(dict(pairs))
    steps = []
    for r, by_seq in seen.items():
        last_seq, last = log.rounds[r][0], Counter[str]()
        for seq in sorted(by_seq):
            counts = by_seq[seq]
            members = frozenset(d for s, (rr, d) in log.casts.items() if rr == r and last_seq < s <= seq)
            steps.append(Step(r, members, counts - last if counts >= last else Counter()))
            last_seq, last = seq, counts
    return steps


# -- attack B: PostgreSQL transactions -----------------------------------------------------


async def pg_history(url: str) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """Every tuple version of the tables that name a round, with its xmin: live rows and
    the dead versions still on the heap."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        out: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for table, columns in (
            ("rating_tallies", ("meeting_id", "question_id", "choice", "n")),
            ("vote_tallies", ("meeting_id", "vote_id", "choice", "n")),
            ("rating_receipts", ("id", "meeting_id", "question_id", "deputy_id", "ballot_key")),
            ("vote_receipts", ("id", "meeting_id", "vote_id", "deputy_id", "ballot_key")),
        ):
            blocks = await conn.fetchval(
                f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int"
            )
            versions = []
            for block in range(blocks):
                rows = await conn.fetch(
                    "SELECT t_xmin, tuple_data_split("
                    f"'{table}'::regclass, t_data, t_infomask, t_infomask2, t_bits) AS parts "
                    f"FROM heap_page_items(get_raw_page('{table}', {block})) WHERE t_data IS NOT NULL"
                )
                for row in rows:
                    versions.append((int(row["t_xmin"]), _decode(columns, row["parts"])))
            out[table] = versions
        return out
    finally:
        await conn.close()


def _decode(columns: tuple[str, ...], parts: list[bytes | None]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in zip(columns, parts, strict=False):
        if raw is None:
            values[name] = None
        elif name in ("choice", "ballot_key"):
            values[name] = raw[1:].decode() if raw[0] & 1 else raw[4:].decode()  # short or long varlena
        else:
            values[name] = struct.unpack("<i", raw[:4])[0]
    return values


def xmin_steps(history: dict[str, list[tuple[int, dict[str, Any]]]], meeting_id: int) -> list[Step]:
    added: dict[tuple[Round, int], Counter[str]] = defaultdict(Counter)
    for table, kind, key in (
        ("rating_tallies", "rating", "question_id"),
        ("vote_tallies", "vote", "vote_id"),
    ):
        series: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
        for xmin, row in history[table]:
            if row["meeting_id"] == meeting_id:
                series[(row[key], row["choice"])].append((xmin, row["n"]))
        for (round_id, choice), versions in series.items():
            before = 0
            for xmin, n in sorted(versions):
                added[((kind, round_id), xmin)][choice] += n - before
                before = n
    members: dict[tuple[Round, int], set[int]] = defaultdict(set)
    for table, kind, key in (
        ("rating_receipts", "rating", "question_id"),
        ("vote_receipts", "vote", "vote_id"),
    ):
        for xmin, row in history[table]:
            if row["meeting_id"] == meeting_id:
                members[((kind, row[key]), xmin)].add(row["deputy_id"])
    return [Step(r, frozenset(members.get((r, x), ())), delta) for (r, x), delta in added.items()]


# -- attack C: SQLite's WAL, commit by commit ------------------------------------------------


def wal_images(db_file: Path) -> Iterator[bytes]:
    """The database file as it stood after each commit found in the WAL (each generation
    of the WAL, by its salt, replayed over the main file)."""
    base = db_file.read_bytes()
    wal = db_file.with_name(db_file.name + "-wal")
    raw = wal.read_bytes() if wal.exists() else b""
    if len(raw) < 32:
        return
    page_size = struct.unpack(">I", raw[8:12])[0]
    frames: dict[bytes, list[tuple[int, int, bytes]]] = defaultdict(list)
    at = 32
    while at + 24 + page_size <= len(raw):
        page_no, commit_size = struct.unpack(">II", raw[at : at + 8])
        salt = raw[at + 8 : at + 16]
        frames[salt].append((page_no, commit_size, raw[at + 24 : at + 24 + page_size]))
        at += 24 + page_size
    for generation in frames.values():
        image = bytearray(base)
        for page_no, commit_size, page in generation:
            start = (page_no - 1) * page_size
            if len(image) < start + page_size:
                image.extend(b"\0" * (start + page_size - len(image)))
            image[start : start + page_size] = page
            if commit_size:
                yield bytes(image[: commit_size * page_size])


def _read_image(
    image: bytes, tmp: Path, meeting_id: int
) -> tuple[dict[tuple[Round, str], int], set[Ballot]] | None:
    path = tmp / "image.db"
    path.write_bytes(image)
    try:
        conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            totals: dict[tuple[Round, str], int] = {}
            for kind, table, key in (
                ("rating", "rating_tallies", "question_id"),
                ("vote", "vote_tallies", "vote_id"),
            ):
                for round_id, choice, n in conn.execute(
                    f"SELECT {key}, choice, n FROM {table} WHERE meeting_id = ?", (meeting_id,)
                ):
                    totals[((kind, round_id), choice)] = n
            receipts: set[Ballot] = set()
            for kind, table, key in (
                ("rating", "rating_receipts", "question_id"),
                ("vote", "vote_receipts", "vote_id"),
            ):
                for round_id, deputy in conn.execute(
                    f"SELECT {key}, deputy_id FROM {table} WHERE meeting_id = ?", (meeting_id,)
                ):
                    receipts.add(((kind, round_id), deputy))
            return totals, receipts
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None  # a page of another generation: not a consistent database


def wal_steps(db_file: Path, tmp: Path, meeting_id: int) -> tuple[list[Step], int]:
    steps: list[Step] = []
    previous: tuple[dict[tuple[Round, str], int], set[Ballot]] | None = None
    images = 0
    for image in wal_images(db_file):
        read = _read_image(image, tmp, meeting_id)
        images += 1
        if read is None:
            continue
        if previous is not None:
            totals, receipts = read
            new = receipts - previous[1]
            by_round: dict[Round, Counter[str]] = defaultdict(Counter)
            for (r, choice), n in totals.items():
                by_round[r][choice] += n - previous[0].get((r, choice), 0)
            for r, delta in by_round.items():
                members = frozenset(d for rr, d in new if rr == r)
                if any(delta.values()):
                    steps.append(Step(r, members, +delta))
        previous = read
    return steps, images


# -- the session ---------------------------------------------------------------------------


class Recorder:
    """A socket's messages, read on a thread of their own."""

    def __init__(self, url: str, cookie: str, seq: int) -> None:
        self.messages: list[str] = []
        self._stack = contextlib.ExitStack()
        self._ws = self._stack.enter_context(ws_connect(url, cookie))
        ws_hello(self._ws, seq)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._ws.recv(timeout=0.2)
            except TimeoutError:
                continue
            except Exception:
                return
            if isinstance(message, str):
                self.messages.append(message)

    def close(self) -> list[str]:
        time.sleep(0.6)  # the last coalesced flush
        self._stop.set()
        self._thread.join(5)
        self._stack.close()
        return self.messages


def run_session(hall: Hall, deputies: list[int], rng: random.Random, *, control: bool) -> dict[Ballot, str]:
    """Secret ratings and secret votes, random choices in random order; with ``control``,
    one named vote with the live tally as well (attack A's control)."""
    truth: dict[Ballot, str] = {}
    hall.act_ok("open_checkin")
    for d in deputies:
        hall.act_ok("check_in", deputy_id=d)
    hall.act_ok("close_checkin")

    def cast(
        r: Round, path: str, field_name: str, choices: tuple[str, ...], pause: tuple[float, float]
    ) -> None:
        weights = [rng.random() for _ in choices]
        for d in rng.sample(deputies, len(deputies)):
            choice = rng.choices(choices, weights)[0]
            data = {field_name: str(r[1]), "choice": choice, "ballot_key": f"k{rng.getrandbits(48):x}"}
            reply = hall.http.post(f"/d/{hall.meeting_id}/{path}", data=data, headers=hall.deputy_headers(d))
            assert reply.status_code == 200 and 'id="d-receipt"' in reply.text, reply.text
            truth[(r, d)] = choice
            time.sleep(rng.uniform(*pause))  # ballots arrive one by one, as in a hall

    for q in RATED_QUESTIONS:
        hall.act_ok("call_question", question_id=q)
        hall.act_ok("to_answering")
        hall.act_ok("open_rating")
        cast(("rating", q), "rate", "question_id", RATING_CHOICES, (0, 0.12))
        hall.act_ok("close_rating")
    for vote_id in range(1, SECRET_VOTES + control + 1):
        named = control and vote_id == SECRET_VOTES + 1
        hall.act_ok("open_vote", title=f"决议{vote_id}", secret="0" if named else "1", live="1")
        # The named vote, the control, comes slowly enough for most ballots to get a
        # tally step of their own (the screens coalesce steps over 250 ms).
        cast(("vote", vote_id), "vote", "vote_id", VOTE_CHOICES, (0.3, 0.4) if named else (0, 0.12))
        hall.act_ok("close_vote")
        hall.act_ok("announce_vote")
    return truth


def results_of(truth: dict[Ballot, str]) -> dict[Round, Counter[str]]:
    out: dict[Round, Counter[str]] = defaultdict(Counter)
    for (r, _), choice in truth.items():
        out[r][choice] += 1
    return out


def event_rows(url: str, meeting_id: int) -> list[tuple[int, str, str]]:
    from sqlalchemy import select

    from server.storage import models as m
    from tests.conftest import plain_engine

    async def go() -> list[tuple[int, str, str]]:
        engine = plain_engine(url)
        try:
            async with engine.connect() as conn:
                e = m.events
                rows = await conn.execute(
                    select(e.c.seq, e.c.type, e.c.data).where(e.c.meeting_id == meeting_id).order_by(e.c.seq)
                )
                return [(int(s), str(t), str(d)) for s, t, d in rows]
        finally:
            await engine.dispose()

    return asyncio.run(go())


@pytest.mark.slow
@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_the_insider_does_no_better_than_chance(
    spawn: Any, keys: Keys, meeting_id: int, db: Db, database_url: str, tmp_path: Path
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    server = spawn()
    with server.client() as http:
        hall = Hall(http, keys, meeting_id)
        deputies = sorted(rng.sample([d for d, _, _ in db.deputies()], PRESENT))
        for d in deputies:  # each phone is bound at its first request
            hall.deputy_page(d)
        seq = page_seq(hall.console())
        base = f"{server.ws_url}/ws/{meeting_id}"
        console = Recorder(f"{base}/console", hall.cookie_for("console"), seq)
        projector = Recorder(f"{base}/projector", hall.cookie_for("projector"), seq)
        truth = run_session(hall, deputies, rng, control=True)
        messages = console.close() + projector.close()
        audit = http.get(f"/m/{meeting_id}/audit.csv", headers=hall.chair_headers())
        assert audit.status_code == 200
        copy = tmp_path / "copy"
        copy.mkdir()
        if database_url.startswith("sqlite"):  # the files, as they are while the server runs
            live_file = Path(database_url.split("///", 1)[1])
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    shutil.copyfile(f"{live_file}{suffix}", copy / f"wenzheng.db{suffix}")
            history = None
        else:
            history = asyncio.run(pg_history(database_url))

    log = read_log(event_rows(database_url, meeting_id))
    # The audit export lists every cast, with its seq and time, and no choice.
    exported = list(csv.reader(io.StringIO(audit.text.lstrip("\ufeff"))))
    cast_rows = [row for row in exported[1:] if row[2] in ("代表测评", "代表投票") and row[0]]
    assert {int(row[0]) for row in cast_rows} == set(log.casts)

    named = ("vote", SECRET_VOTES + 1)
    secret = {b: c for b, c in truth.items() if b[0] != named}
    control = {b: c for b, c in truth.items() if b[0] == named}
    results = results_of(truth)

    sockets = socket_steps(messages, log)
    verdicts = {"sockets": judge(secret, results, sockets)}
    # The control: the same attack names the named vote's choices from its live tally.
    named_verdict = judge(control, results, sockets)
    assert named_verdict.accuracy >= 0.9 and named_verdict.informative == len(control), named_verdict
    if history is not None:
        stored = xmin_steps(history, meeting_id)
        verdicts["xmin"] = judge(secret, results, stored)
    else:
        stored, images = wal_steps(copy / "wenzheng.db", tmp_path, meeting_id)
        assert images, "the copy's WAL holds no commit to replay"
        verdicts["wal"] = judge(secret, results, stored)
    everything = judge(secret, results, sockets + stored)
    for name, verdict in verdicts.items():
        no_better_than_chance(verdict, name)
    no_better_than_chance(everything, "all attacks together")
    figures(
        f"secret-insider-{'sqlite' if history is None else 'postgres'}",
        seed=seed,
        secret_ballots=len(secret),
        rounds=len(results) - 1,
        socket_messages=len(messages),
        chance=round(everything.chance, 3),
        **{f"{k}_accuracy": round(v.accuracy, 3) for k, v in verdicts.items()},
        **{f"{k}_informative": v.informative for k, v in verdicts.items()},
        named_vote_control_accuracy=round(named_verdict.accuracy, 3),
    )


# -- the controls: each attack names choices where storage leaks -------------------------------


def leaky_ballots(rng: random.Random, deputies: list[int]) -> dict[Ballot, str]:
    """Two rounds of random choices, as the leaky storage below writes them."""
    truth: dict[Ballot, str] = {}
    for q in (1, 2):
        for d in rng.sample(deputies, len(deputies)):
            truth[(("rating", q), d)] = rng.choice(RATING_CHOICES)
    return truth


def test_the_wal_attack_names_choices_stored_beside_their_receipts(tmp_path: Path) -> None:
    """Control for attack C: totals updated in each receipt's transaction (how ratings were
    stored before sealing) are named from the WAL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'leaky.db'}"
    meeting_id = install_demo(url)
    rng = random.Random(7)
    path = tmp_path / "leaky.db"
    conn = sqlite3.connect(path, isolation_level=None)
    deputies = [r[0] for r in conn.execute("SELECT id FROM deputies ORDER BY id LIMIT 30")]
    truth = leaky_ballots(rng, deputies)
    conn.execute("PRAGMA journal_mode=WAL")
    for ((_, q), d), choice in truth.items():
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO rating_receipts (meeting_id, question_id, deputy_id, ballot_key) "
            "VALUES (?, ?, ?, ?)",
            (meeting_id, q, d, f"k{d}"),
        )
        conn.execute(
            "INSERT INTO rating_tallies (meeting_id, question_id, choice, n) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (meeting_id, question_id, choice) DO UPDATE SET n = n + 1",
            (meeting_id, q, choice),
        )
        conn.execute("COMMIT")
    copy = tmp_path / "copy"
    copy.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(f"{path}{suffix}", copy / f"wenzheng.db{suffix}")
    conn.close()
    steps, _ = wal_steps(copy / "wenzheng.db", tmp_path, meeting_id)
    verdict = judge(truth, results_of(truth), steps)
    assert verdict.accuracy >= 0.9, verdict


@pytest.mark.postgres
def test_the_xmin_attack_names_choices_stored_beside_their_receipts(pg_database: str) -> None:
    """Control for attack B: the same leaky storage on PostgreSQL, named from xmin and the
    dead versions of the totals."""
    import asyncpg

    meeting_id = install_demo(pg_database)
    dsn = pg_database.replace("postgresql+asyncpg://", "postgresql://")

    async def write() -> dict[Ballot, str]:
        conn = await asyncpg.connect(dsn)
        try:
            deputies = [r["id"] for r in await conn.fetch("SELECT id FROM deputies ORDER BY id LIMIT 30")]
            truth = leaky_ballots(random.Random(11), deputies)
            for ((_, q), d), choice in truth.items():
                async with conn.transaction():
                    await conn.execute(
                        "INSERT INTO rating_receipts (meeting_id, question_id, deputy_id, ballot_key) "
                        "VALUES ($1, $2, $3, $4)",
                        meeting_id,
                        q,
                        d,
                        f"k{d}",
                    )
                    await conn.execute(
                        "INSERT INTO rating_tallies (meeting_id, question_id, choice, n) "
                        "VALUES ($1, $2, $3, 1) ON CONFLICT (meeting_id, question_id, choice) "
                        "DO UPDATE SET n = rating_tallies.n + 1",
                        meeting_id,
                        q,
                        choice,
                    )
            return truth
        finally:
            await conn.close()

    truth = asyncio.run(write())
    history = asyncio.run(pg_history(pg_database))
    verdict = judge(truth, results_of(truth), xmin_steps(history, meeting_id))
    assert verdict.accuracy >= 0.9, verdict


def test_the_socket_attack_names_choices_from_per_ballot_tallies() -> None:
    """Control for attack A on its own parsing: a console that showed a rating's split
    after every ballot (as it once did) gives every choice away."""
    rng = random.Random(5)
    deputies = list(range(1, 31))
    truth = {(("rating", 1), d): rng.choice(RATING_CHOICES) for d in deputies}
    log = Log({10 + i: (("rating", 1), d) for i, d in enumerate(deputies)}, {("rating", 1): (9, 100)})
    counts: Counter[str] = Counter()
    messages = []
    for i, d in enumerate(deputies):
        counts[truth[(("rating", 1), d)]] += 1
        cells = "".join(f'<td class="num" data-choice="{c}">{counts[c]}</td>' for c in RATING_CHOICES)
        messages.append(
            f'<section id="c-tally" class="c-panel c-tally" data-seq="{10 + i}">{cells}</section>'
        )
    verdict = judge(truth, results_of(truth), socket_steps(messages, log))
    assert verdict.accuracy == 1.0, verdict
