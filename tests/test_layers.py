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
# Third-party packages only some layers may import.
ONLY_IN = {
    "duckdb": {"warehouse"},
    "duckdb_extensions": {"warehouse"},
    "pyarrow": {"warehouse"},
    "prefect": {"flows", "service", "cli"},
    "spacy": {"extraction"},
}


def layer_of(module: str) -> str:
    if module in BASE:
        return "base"
    if module in {"newsdesk.cli", "newsdesk.__main__"}:
        return "cli"
    parts = module.split(".")
    if len(parts) == 1 or parts[1] not in LAYERS:
        return "api"  # the facade: connect(), extract(), __version__
    return parts[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every import that can run."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "newsdesk":  # `from newsdesk import x`: the submodules named
                found += [(node.lineno, f"newsdesk.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def violations(module: str, path: Path) -> list[str]:
    mine = layer_of(module)
    rank = LAYERS.index(mine) if mine != "api" else LAYERS.index("warehouse")
    bad = []
    for line, target in imports(path):
        top = target.split(".")[0]
        if top == "newsdesk":
            theirs = layer_of(target)
            if theirs != "api" and LAYERS.index(theirs) > rank:
                bad.append(f"{module}:{line} imports {target} ({mine} -> {theirs}: points up)")
        elif top in ONLY_IN and mine not in ONLY_IN[top]:
            bad.append(f"{module}:{line} imports {target} (only {sorted(ONLY_IN[top])} may)")
    return bad


MODULES = sorted((module_name(p), p) for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module, path", MODULES, ids=[m for m, _ in MODULES])
def test_imports_point_down(module, path):
    assert violations(module, path) == []


def test_the_rule_catches_an_upward_import(tmp_path):
    """The check itself can fail: a warehouse module importing a flow is caught."""
    fake = tmp_path / "lake.py"
    fake.write_text("def f():\n    from newsdesk.flows.ingest import ingest\n    import prefect\n")
    found = violations("newsdesk.warehouse.lake", fake)
    assert len(found) == 2 and "points up" in found[0] and "prefect" in found[1]


def test_every_layer_has_modules():
    assert {layer_of(m) for m, _ in MODULES} >= set(LAYERS)
