"""The layers of the code are a contract (docs/design.md, "The map"): checked here.

Top to bottom, each importing only what stands below it:

    server.cli, server.bench      the commands
    server.web                    HTTP and sockets: the app, sessions, routes
    server.record                 the record of a held meeting: proceedings, results,
                                  charts, duty records (reads the office, holds through the room)
    server.room | server.office   a running meeting | the office's work (side by side,
                                  neither imports the other)
    server.storage                tables, migrations, the event log, record-keepers
    server.base                   settings, keys, the ballot box, parsing, presence
    screens                       what each audience sees
    live                          the meeting's rules (imports nothing of the rest)

A module may also import from its own package. Every import is read from the source
(function-level imports too), so a new module is checked the day it is written.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (package prefix, layer number: lower numbers stand higher)
LAYERS: tuple[tuple[str, int], ...] = (
    ("server.cli", 0),
    ("server.bench", 0),
    ("server.web", 1),
    ("server.record", 2),
    ("server.room", 3),
    ("server.office", 3),
    ("server.storage", 4),
    ("server.base", 5),
    ("screens", 6),
    ("live", 7),
)
NAMES = {
    0: "the commands",
    1: "the web face",
    2: "the record",
    3: "the room / the office",
    4: "storage",
    5: "base",
    6: "screens",
    7: "live",
}
# Side by side: a running meeting and the office's work never import each other.
SIBLINGS = {"server.room", "server.office"}
# SQL belongs to the office and storage: the web face builds no statement and reads no
# table. It may hold an engine, open a transaction for the office's functions, and map
# the database's errors to answers.
NO_SQL_IN = ("server.web",)
SQL_ALLOWED = ("sqlalchemy.exc", "sqlalchemy.ext.asyncio")
TABLES = "server.storage.models"
# The commands may share code (``wenzheng bench`` is a command of the command line).
SAME_LEVEL_OK = 0


def package_of(module: str) -> tuple[str, int] | None:
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return prefix, layer
    return None


def modules() -> dict[str, Path]:
    found = {}
    for top in ("live", "screens", "server"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, resolved to a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.append((node.lineno, full if full in known else base))
    return out


def test_every_import_points_down_the_layers() -> None:
    found = modules()
    known = set(found)
    broken: list[str] = []
    unplaced = [m for m in found if m.startswith("server.") and package_of(m) is None and m != "server"]
    assert not unplaced, (
        f"modules outside every layer (put them in a package of docs/design.md's map): {unplaced}"
    )
    for module, path in sorted(found.items()):
        placed = package_of(module)
        if placed is None:
            continue
        package, layer = placed
        for line, target in imports_of(module, path, known):
            where = f"{path.relative_to(ROOT)}:{line}"
            if any(package.startswith(p) for p in NO_SQL_IN) and target.startswith("sqlalchemy"):
                if not target.startswith(SQL_ALLOWED):
                    broken.append(
                        f"{where}: {module} (the web face) imports {target}: SQL belongs to the office"
                    )
                continue
            other = package_of(target)
            if other is None or other[0] == package:
                continue
            if other[1] == layer == SAME_LEVEL_OK:
                continue
            if target.split(".")[0] in ("live", "screens", "server") and other[1] <= layer:
                if other[0] in SIBLINGS and package in SIBLINGS:
                    rule = "the room and the office stand side by side and never import each other"
                else:
                    rule = f"{NAMES[layer]} may import only what stands below it"
                broken.append(
                    f"{where}: {module} ({NAMES[layer]}) imports {target} ({NAMES[other[1]]}): {rule}"
                )
    assert not broken, "imports against the layers:\n" + "\n".join(broken)


def test_the_contract_catches_an_import_that_goes_up(tmp_path: Path) -> None:
    """The check above would fail: a storage module importing the web face is named."""
    fake = tmp_path / "server" / "storage" / "leak.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from server.web.http import services\n", encoding="utf-8")
    found = imports_of("server.storage.leak", fake, {"server.web.http"})
    assert found == [(1, "server.web.http")]
    placed, target = package_of("server.storage.leak"), package_of("server.web.http")
    assert placed is not None and target is not None and target[1] < placed[1]


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert not long, f"split by responsibility: {long}"


def test_every_package_says_what_it_is_and_who_may_import_it() -> None:
    for module, path in modules().items():
        if path.name != "__init__.py" or not module.startswith("server."):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert doc and "import" in doc, (
            f"{path.relative_to(ROOT)}: say what the package is and what may import it"
        )
