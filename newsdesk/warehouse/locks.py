"""Writer locks that hold where the catalog is shared.

A SQLite catalog lives on one machine: an `fcntl` file lock beside it serializes its
writers. A PostgreSQL catalog is shared by hosts, where a file lock means nothing:
its writers take a PostgreSQL advisory lock in the catalog's own database instead.
Either lock goes with the process that holds it, kill -9 included (the kernel closes
the file; PostgreSQL ends the dead client's session and its locks).

Why a lock at all with DuckLake's conflict detection: two runs that insert the same
new article both append, and appends to one table do not conflict, so both commit
and the article is stored twice. Deciding "new or known" and writing must be one
step among writers, which the lock makes it.

The run-alive locks tell a dead run's `running` row from a live one's: a run holds
its lock for its whole life, so a free lock means the run's process is gone.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from newsdesk.settings import Settings

# Advisory lock keys: (class, object) pairs of int32, class = which kind of lock.
WRITE_LOCK = (0x6E657773, 0)  # "news"
RUN_LOCK_CLASS = 0x72756E73  # "runs"; the object is a hash of the run id
CONNECT_TIMEOUT_SECONDS = 10


class LockError(RuntimeError):
    """The lock's store cannot be reached or written; `unreachable` tells which."""

    def __init__(self, message: str, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


def _sqlite_lock_path(settings: Settings, name: str) -> Path:
    if settings.catalog is None:  # the default catalog lives in the warehouse folder
        return settings.warehouse_dir / name
    catalog = Path(settings.catalog_url.removeprefix("sqlite:"))
    return catalog.with_name(catalog.name + name)


@contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Serialize the writers of one catalog, on one host or on many."""
    if settings.catalog_kind == "postgres":
        with _postgres_session(settings) as session:
            session.execute("select pg_advisory_lock(%s, %s)", WRITE_LOCK)
            yield  # unlocked when the session closes
        return
    path = _sqlite_lock_path(settings, ".write.lock")
    with _open_lock_file(path) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def run_alive_lock(settings: Settings, run_id: str) -> Iterator[None]:
    """Held while the run lives. For a SQLite catalog a file under `.runs/`, removed
    by `forget_run` once the run's row is final; a file left behind marks a row a
    later run must close."""
    if settings.catalog_kind == "postgres":
        with _postgres_session(settings) as session:
            session.execute("select pg_advisory_lock(%s, %s)", (RUN_LOCK_CLASS, _run_key(run_id)))
            yield
        return
    path = _run_lock_path(settings, run_id)
    with _open_lock_file(path) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def run_gone(settings: Settings, run_id: str) -> bool:
    """Whether a `running` row's process is gone: nobody holds its run-alive lock.
    With a SQLite catalog a row without a lock file here is not ours to judge."""
    if settings.catalog_kind == "postgres":
        key = (RUN_LOCK_CLASS, _run_key(run_id))
        with _postgres_session(settings) as session:
            taken = session.execute("select pg_try_advisory_lock(%s, %s)", key).fetchone()
            return bool(taken and taken[0])  # released with the session
    try:
        handle = open(_run_lock_path(settings, run_id), "rb")
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def forget_run(settings: Settings, run_id: str) -> None:
    """The run's row is final: its lock file (SQLite catalogs) is no longer needed."""
    if settings.catalog_kind != "postgres":
        _run_lock_path(settings, run_id).unlink(missing_ok=True)


def check_login(settings: Settings) -> None:
    """The catalog database answers and takes our login (PostgreSQL catalogs)."""
    if settings.catalog_kind == "postgres":
        with _postgres_session(settings):
            pass


def _run_lock_path(settings: Settings, run_id: str) -> Path:
    return settings.warehouse_dir / ".runs" / f"{run_id}.lock"


def _run_key(run_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(run_id.encode(), digest_size=4).digest(), "big", signed=True)


@contextmanager
def _open_lock_file(path: Path) -> Iterator[Any]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b")
    except OSError as exc:
        raise LockError(f"cannot write the warehouse lock {path}: {exc}") from exc
    with handle:
        yield handle


@contextmanager
def _postgres_session(settings: Settings) -> Iterator[Any]:
    """A session of its own, in autocommit: its advisory locks end with it. One per
    lock taken: a few milliseconds a batch commit, and no session shared by threads
    (advisory locks are re-entrant within one session, so a shared one would let two
    threads in at once)."""
    try:
        import psycopg
    except ImportError:
        raise LockError("a postgres: catalog needs the scale extra: pip install 'newsdesk[scale]'") from None
    conninfo = settings.catalog_url.removeprefix("postgres:")
    if "connect_timeout" not in conninfo:  # theirs wins; else a dead host fails in seconds
        conninfo += f" connect_timeout={CONNECT_TIMEOUT_SECONDS}"
    try:
        session = psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as exc:
        raise LockError(
            f"cannot reach the catalog database ({describe_postgres_error(exc)})",
            unreachable=not _auth_failure(str(exc)),
        ) from None
    with session:
        yield session


def _auth_failure(message: str) -> bool:
    """A login or configuration mistake (exit 2), not a server that does not answer (3)."""
    lowered = message.lower()
    return any(
        word in lowered
        for word in (
            "password",
            "authentication",
            "role",
            "does not exist",
            "permission",
            "invalid connection option",
            'missing "="',
            "invalid integer value",
            "invalid value",
            "syntax",
        )
    )


def describe_postgres_error(exc: BaseException) -> str:
    """libpq's message on one line, without the connection string it may quote."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines)[:300] or type(exc).__name__
