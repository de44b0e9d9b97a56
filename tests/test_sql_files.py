"""Every SQL file is used, by a name written out in full; every statement binds named values."""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest

from newsdesk.warehouse.files import checks, reports, sql, sql_names

PACKAGE = Path(__file__).resolve().parent.parent / "newsdesk"
TREES = {path: ast.parse(path.read_text(encoding="utf-8")) for path in PACKAGE.rglob("*.py")}


def string_constants() -> set[str]:
    return {
        node.value
        for tree in TREES.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_no_sql_file_is_unused():
    assert set(sql_names()) - string_constants() == set()


def test_no_sql_file_name_is_built_with_an_f_string():
    built = [
        f"{path.name}:{node.lineno}"
        for path, tree in TREES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "sql"
        and node.args
        and isinstance(node.args[0], (ast.JoinedStr, ast.BinOp))
    ]
    assert built == []


@pytest.mark.parametrize("name", sql_names())
def test_statements_bind_named_parameters_only(name):
    for statement in duckdb.extract_statements(sql(name)):
        assert "?" not in statement.query, f"{name}: positional parameter"


@pytest.mark.parametrize("name, text", [*checks().items(), *((r.name, r.text) for r in reports(None).values())])
def test_checks_and_reports_are_one_select_each(name, text):
    (statement,) = duckdb.extract_statements(text)
    assert statement.type.name == "SELECT", name
