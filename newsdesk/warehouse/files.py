"""The SQL that ships inside the package, and the analysts' own reports beside it.

Read with importlib.resources, so an installed wheel (or a zip) finds them as an
editable checkout does; nothing is read from the working directory but the
user's reports folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

_PACKAGE = files("newsdesk.warehouse")
MAX_REPORT_BYTES = 1_000_000  # a report is one query, not a data file


@dataclass(frozen=True)
class Report:
    name: str
    text: str
    origin: str  # "built-in", or the file it was read from
    problem: str | None = None  # why the file cannot be used (not UTF-8, unreadable); text is then empty

    @property
    def description(self) -> str:
        """Its leading `--` comment lines (or what is wrong with the file)."""
        if self.problem:
            return f"cannot be used: {self.problem}"
        lines = []
        for line in self.text.splitlines():
            if not line.startswith("--"):
                break
            lines.append(line[2:].strip())
        return " ".join(lines)


@cache
def sql(name: str) -> str:
    """One statement of the warehouse layer, by its file name under sql/."""
    return _read(_PACKAGE / "sql" / f"{name}.sql")


def sql_names() -> list[str]:
    return sorted(_stem(entry) for entry in _sql_files(_PACKAGE / "sql"))


def schema_sql() -> str:
    return _read(_PACKAGE / "schema.sql")


def checks() -> dict[str, str]:
    """Data checks: name -> a query returning the bad rows of one run ($run_id) among its
    articles with ids from $first_id to $last_id (one slice of the run)."""
    return {_stem(entry): _read(entry) for entry in _sql_files(_PACKAGE / "checks")}


def reports(user_folder: Path | None) -> dict[str, Report]:
    """Built-in reports, then the user's `*.sql` in `user_folder`; a user's file
    with a built-in's name replaces it."""
    found = {_stem(entry): Report(_stem(entry), _read(entry), "built-in") for entry in _sql_files(_PACKAGE / "reports")}
    if user_folder is not None and user_folder.is_dir():
        for path in sorted(user_folder.glob("*.sql")):
            if path.is_file():
                found[path.stem] = _user_report(path)
    return dict(sorted(found.items()))


def _user_report(path: Path) -> Report:
    """An analyst's report file; one that cannot be read becomes a Report that says why,
    so the other reports (and the built-ins) keep working."""
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            return Report(path.stem, "", str(path), f"over {MAX_REPORT_BYTES:,} bytes")
        return Report(path.stem, path.read_text(encoding="utf-8"), str(path))
    except UnicodeDecodeError:
        return Report(path.stem, "", str(path), "not UTF-8 text")
    except OSError as exc:
        return Report(path.stem, "", str(path), f"cannot read: {exc.strerror or exc}")


def _sql_files(folder: Traversable) -> list[Traversable]:
    return sorted((entry for entry in folder.iterdir() if entry.name.endswith(".sql")), key=lambda e: e.name)


def _stem(entry: Traversable) -> str:
    return entry.name.removesuffix(".sql")


def _read(entry: Traversable) -> str:
    return entry.read_text(encoding="utf-8")
