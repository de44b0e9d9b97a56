"""Gold files for `newsdesk eval`: read, checked against their articles, and staged.

No Prefect here: the CLI checks gold before Prefect is imported, so a bad file is one
line and Prefect's defaults (its home, the server's start-up timeout) still apply."""

from __future__ import annotations

import glob
import json
import os
import shutil
import stat
from pathlib import Path

from newsdesk.extraction.parse import decode


class GoldError(ValueError):
    """A gold file or record that cannot be scored: said in one line."""


MAX_GOLD_BYTES = 256 * 2**20  # a gold file is annotations, never a corpus


def load_gold(path: str | None) -> dict[str, dict]:
    if not path:
        return {}
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise GoldError(f"the gold file {path} is not a regular file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_GOLD_BYTES + 1)
        if len(data) > MAX_GOLD_BYTES:
            raise GoldError(f"the gold file {path} is larger than {MAX_GOLD_BYTES // 2**20} MiB")
        lines = data.decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, GoldError):
            raise
        raise GoldError(f"cannot read the gold file {path}: {exc}") from exc
    records: dict[str, dict] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise GoldError(f"{path}:{number}: not a JSON object") from exc
        if not isinstance(record, dict) or not isinstance(record.get("doc_id"), str):
            raise GoldError(f"{path}:{number}: a gold record needs a string doc_id")
        if record["doc_id"] in records:
            raise GoldError(f"{path}:{number}: doc_id {record['doc_id']!r} appears twice")
        records[record["doc_id"]] = record
    return records


def check_gold(texts: Path, path: str | None) -> dict[str, dict]:
    """A gold file's records, each checked against its article: offsets are integers with
    0 <= start < end <= the article's length; names are strings. Cheap, and run before
    anything is ingested, so a bad record is one line, not a failure after the run."""
    gold = load_gold(path)
    for doc_id, relative in gold_files(texts, gold).items():
        length = len(decode((texts / relative).read_bytes())[0])
        problem = _offset_problem(gold[doc_id], length) or _statement_problem(gold[doc_id])
        if problem:
            raise GoldError(f"{path}: gold document {doc_id!r}: {problem}")
    return gold


def _statement_problem(record: dict) -> str | None:
    """A statement (our own gold format) says something. PolNeAR's attributions may have
    no content span; the scorer skips those, so they are not refused."""
    if "statements" not in record:
        return None
    statements = record["statements"]
    if not isinstance(statements, list):
        return "statements must be a list"
    for statement in statements:
        if not isinstance(statement, dict):
            return "a statement must be an object"
        content = statement.get("content")
        if not isinstance(content, list) or not content:
            return "a statement needs at least one content span"
    return None


def _offset_problem(node: object, length: int) -> str | None:
    """The first bad span or name anywhere in a record, or None."""
    if isinstance(node, list):
        return next((p for p in (_offset_problem(item, length) for item in node) if p), None)
    if not isinstance(node, dict):
        return None
    for start_key, end_key in (("start", "end"), ("speaker_start", "speaker_end"), ("cue_start", "cue_end")):
        if start_key not in node and end_key not in node:
            continue
        start, end = node.get(start_key), node.get(end_key)
        if start is None and end is None and start_key != "start":
            continue  # "no speaker phrase in the clause"
        if type(start) is not int or type(end) is not int or not 0 <= start < end <= length:
            return f"bad span {start_key}={start!r} {end_key}={end!r} (the article has {length} characters)"
    if "speaker" in node and node["speaker"] is not None and not isinstance(node["speaker"], str):
        return f"speaker must be a name or null, not {node['speaker']!r}"
    return next((p for p in (_offset_problem(value, length) for value in node.values()) if p), None)


def gold_files(texts: Path, gold: dict[str, dict]) -> dict[str, str]:
    """doc_id -> the article's path relative to `texts`: a record's `path`, else the file
    named after its doc_id. Only regular files inside `texts` qualify: a gold file is
    input like any other, and "../" must not copy the rest of the disk."""
    root = texts.resolve()
    files = {}
    for doc_id, record in sorted(gold.items()):
        relative = record.get("path") or _file_for(texts, doc_id)
        try:
            where = (texts / str(relative)).resolve()
            inside = isinstance(relative, str) and where.is_relative_to(root) and where.is_file()
        except (OSError, ValueError):  # a NUL in the path, a loop
            inside = False
        if not inside:
            raise GoldError(f"gold document {doc_id!r}: {relative!r} is not a file inside {texts}")
        files[doc_id] = where.relative_to(root).as_posix()
    return files


def stage_gold_documents(texts: Path, gold: dict[str, dict], into: Path) -> dict[str, str]:
    """Copy the gold documents, and only them, into `into`: a corpus folder may hold
    articles that must not be read (BBC numbers 100-399 are kept for independent checks).
    Returns doc_id -> the article's path relative to `into`."""
    staged = gold_files(texts, gold)
    for relative in staged.values():
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(texts / relative, target)
    return staged


def _file_for(root: Path, doc_id: str) -> str:
    for suffix in (".txt", ".md"):
        # escaped: a doc_id such as "1[0-9][0-9]" or "*" is a name, never a pattern
        matches = sorted(root.rglob(f"{glob.escape(doc_id)}{suffix}"))
        if matches:
            return matches[0].relative_to(root).as_posix()
    raise GoldError(f"no article file for gold doc_id {doc_id!r} under {root}")
