"""The import rule, checked on every module's source: imports point down the layers,
only the warehouse layer imports DuckDB, extraction imports neither DuckDB nor Prefect.

Function-level imports count too (most of newsdesk imports lazily, for start-up
time); imports under `if TYPE_CHECKING:` do not, as they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "newsdesk"

# Lowest first. A module may import newsdesk modules of its own layer or below.
LAYERS = ["base", "extraction", "warehouse", "pipeline", "flows", "service", "cli"]
BASE = {"newsdesk.settings", "newsdesk.lifeline"}
# Third-party packages only some layers may import (prefect_dask counts as prefect).
ONLY_IN = {
    "duckdb": {"warehouse"},
    "duckdb_extensions": {"warehouse"},
    "pyarrow": {"warehouse"},
    "sqlite3": {"warehouse"},
    "prefect": {"flows", "service", "cli"},
    "spacy": {"extraction"},
}


def restricted(top: str) -> str | None:
    return next((key for key in ONLY_IN if top == key or top.startswith(key + "_")), None)


def layer_of(module: str) -> str:
    if module in BASE:
        return "base"
    if module in {"newsdesk.cli", "newsdesk.__main__"}:
        return "cli"
    parts = module.split(".")
    if len(parts) == 1 or parts[1] not in LAYERS:
        return "api"  # the facade: connect(), extract(), __version__
    return parts[1]


def rank_of(layer: str) -> int:
    # the facade reaches into the warehouse: importing it is importing that layer
    return LAYERS.index("warehouse") if layer == "api" else LAYERS.index(layer)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) of every import that can run: statements at any depth,
    relative ones resolved, and __import__ / importlib.import_module of a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            skipped |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{anchor}.{base}" if base else anchor
            if base == "newsdesk" or (node.level and not node.module):  # the names may be submodules
                found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("__import__", "importlib.import_module"):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def violations(module: str, path: Path) -> list[str]:
    mine = layer_of(module)
    bad = []
    for line, target in imports(path, module):
        top = target.split(".")[0]
        if top == "newsdesk":
            theirs = layer_of(target)
            if rank_of(theirs) > rank_of(mine):
                bad.append(f"{module}:{line} imports {target} ({mine} -> {theirs}: points up)")
        elif (key := restricted(top)) and mine not in ONLY_IN[key]:
            bad.append(f"{module}:{line} imports {target} (only {sorted(ONLY_IN[key])} may)")
    return bad


MODULES = sorted((module_name(p), p) for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module, path", MODULES, ids=[m for m, _ in MODULES])
def test_imports_point_down(module, path):
    assert violations(module, path) == []


@pytest.mark.parametrize(
    "module, source",
    [
        ("newsdesk.warehouse.lake", "def f():\n    from newsdesk.flows.ingest import ingest\n"),
        ("newsdesk.warehouse.lake", "def f():\n    import prefect\n"),
        ("newsdesk.warehouse.lake", "from ..flows import ingest\n"),
        ("newsdesk.pipeline.sources", "def f():\n    import duckdb as d\n"),
        ("newsdesk.pipeline.sources", "import importlib\nimportlib.import_module('duckdb')\n"),
        ("newsdesk.extraction.parse", "__import__('prefect')\n"),
        ("newsdesk.extraction.parse", "from typing import TYPE_CHECKING\nif not TYPE_CHECKING:\n    import prefect\n"),
        ("newsdesk.extraction.parse", "from newsdesk import connect\n"),
        ("newsdesk.extraction.parse", "import prefect_dask\n"),
        ("newsdesk.pipeline.sources", "import sqlite3\n"),
    ],
)
def test_the_rule_catches_a_break(tmp_path, module, source):
    """The check itself can fail, whichever way the import is written."""
    fake = tmp_path / "module.py"
    fake.write_text(source)
    assert violations(module, fake), source


def test_every_layer_has_modules():
    assert {layer_of(m) for m, _ in MODULES} >= set(LAYERS)
