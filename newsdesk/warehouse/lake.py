"""The ONLY module that talks to the warehouse: a DuckLake (a SQLite or PostgreSQL
catalog, Parquet in a folder or in S3-compatible object storage).

Every batch is one transaction: a reader sees all of it or none of it.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from newsdesk.settings import Settings
from newsdesk.warehouse import locks
from newsdesk.warehouse.files import checks, schema_sql, sql
from newsdesk.warehouse.records import KnownSource, RecordedStat

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")

CATALOG_ALIAS = "news"
READ_ONLY_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})
# Storage failures (not bugs): reported as WarehouseError with the cause.
_STORAGE_ERRORS = (
    "read-only",
    "readonly",
    "no space",
    "disk is full",
    "disk full",
    "permission denied",
    "not a directory",
    "could not write",
    "failed to write",
    "i/o error",
)


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or written; the message says why."""

    exit_code = 2  # bad configuration or storage: fix and run again


class WarehouseUnreachable(WarehouseError):
    """The catalog database or the object store does not answer."""

    exit_code = 3


# Query failures, re-exported so the layers above never import DuckDB.
QueryError = duckdb.Error
QueryOutOfMemory = duckdb.OutOfMemoryException
Connection = duckdb.DuckDBPyConnection


class ReadOnlyViolation(PermissionError):
    """A statement that would change something was sent down the read-only path."""


def _scalar(con: duckdb.DuckDBPyConnection, statement: str, params: Any = None) -> Any:
    """The one value a one-row, one-column statement returns."""
    row = con.execute(statement, params).fetchone()
    if row is None:
        raise WarehouseError(f"expected one row from: {statement[:80]}")
    return row[0]


def _split(script: str) -> list[str]:
    """A script's statements, as DuckDB's own parser splits them."""
    return [statement.query for statement in duckdb.extract_statements(script)]


def connect(settings: Settings, read_only: bool = False, also: Sequence[Settings] = ()) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `news` and selected with USE.

    Extensions come from the duckdb-extension-* wheels (no download at run time);
    DuckDB verifies their signatures on load. `also`: other warehouses this session
    will attach (`migrate`), whose extensions and secrets it needs too.
    """
    if not read_only:
        try:
            settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(f"cannot create the warehouse folder {settings.warehouse_dir}: {exc}") from exc
    elif settings.catalog_kind == "sqlite" and not exists(settings):
        raise NoWarehouse(f"no warehouse at {settings.warehouse_dir}: run `newsdesk ingest` first")
    # Creating a new catalog is several statements: two first runs at once would both
    # create it and one fails "database is locked". Writers attach under the write lock.
    with nullcontext() if read_only else write_lock(settings):
        return _attach(settings, read_only, also)


def _attach(settings: Settings, read_only: bool, also: Sequence[Settings] = ()) -> duckdb.DuckDBPyConnection:
    if not read_only and settings.catalog is None:
        _use_wal(settings.warehouse_dir / "catalog.sqlite")
    con = _session(settings, *also)
    options = "DATA_INLINING_ROW_LIMIT 0" + (", READ_ONLY" if read_only else "")
    if settings.data_path is None:
        # The default data path lives inside the warehouse folder: follow the folder if it moved.
        options += ", OVERRIDE_DATA_PATH true"
    try:
        if settings.remote_data and not read_only:
            _check_bucket(con, settings)
        con.execute(
            f"ATTACH 'ducklake:{_quote(_with_timeout(settings.catalog_url))}' AS {CATALOG_ALIAS} "
            f"(DATA_PATH '{_quote(settings.lake_data_path)}', {options})"
        )
    except duckdb.Error as exc:
        con.close()
        raise _open_error(settings, exc) from None
    con.execute(f"USE {CATALOG_ALIAS}")
    if not read_only:
        try:
            _ensure_schema_locked(con)
        except duckdb.Error as exc:
            con.close()
            raise WarehouseError(f"cannot write the warehouse at {settings.warehouse_dir}: {exc}") from exc
    return con


def _with_timeout(catalog: str) -> str:
    """A PostgreSQL catalog string that gives up on a host that never answers (libpq
    otherwise waits forever); a timeout the user set wins."""
    if catalog.startswith("postgres:") and "connect_timeout" not in catalog:
        return f"{catalog} connect_timeout={locks.CONNECT_TIMEOUT_SECONDS}"
    return catalog


def _session(settings: Settings, *others: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the extensions the catalog and data path need: a spare
    one `prepare_session` loaded ahead, else a new one.

    Object storage credentials reach DuckDB as a secret, never in a URL.
    """
    every = (settings, *others)  # `migrate` attaches two warehouses in one session
    needed = _extensions_needed(every)
    con = _take_spare(needed) or _loaded_session(needed, settings)
    try:
        for number, each in enumerate(every):
            if each.remote_data:
                con.execute(s3_secret_statement(each, f"newsdesk_lake_{number}"))
    except BaseException:
        con.close()
        raise
    return con


def _extensions_needed(every: Sequence[Settings]) -> tuple[str, ...]:
    needed = ["ducklake", "sqlite"]
    needed += ["postgres"] if any(s.catalog_kind == "postgres" for s in every) else []
    needed += ["httpfs"] if any(s.remote_data for s in every) else []
    return tuple(needed)


def _loaded_session(needed: Sequence[str], settings: Settings) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB with `needed` loaded. Extensions come from the
    duckdb-extension-* wheels only: never a download at run time. DuckDB verifies their
    signatures as it loads them (about 0.13 s each)."""
    import duckdb_extensions

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    for extension in needed:
        try:
            duckdb_extensions.import_extension(extension, con=con)  # INSTALL from the wheel's file
            con.execute(f"LOAD {extension}")
        except (ImportError, ModuleNotFoundError, duckdb.Error):
            con.close()
            raise WarehouseError(
                f"the {extension} extension is not installed: pip install 'newsdesk[scale]' "
                f"(needed by NEWSDESK_CATALOG={settings.catalog_kind}:... or an s3:// NEWSDESK_DATA_PATH)"
            ) from None
    if "httpfs" in needed:
        # httpfs copies the AWS_* variables into its global s3_* settings as it loads, where
        # any query could read them; the credentials reach DuckDB as a scoped secret instead.
        for setting in ("s3_access_key_id", "s3_secret_access_key", "s3_session_token"):
            con.execute(f"set {setting} = ''")
    return con


# Sessions with their extensions loaded and nothing else (no lake attached, no secret),
# one per extension set, each taken by one connect; and the ones being loaded.
_spare_sessions: dict[tuple[str, ...], duckdb.DuckDBPyConnection] = {}
_preparing: dict[tuple[str, ...], threading.Event] = {}
_spare_lock = threading.Lock()
SPARE_WAIT_SECONDS = 1.0  # a connect waits this long for a spare half loaded: it is nearer than a new one


def prepare_session(settings: Settings) -> None:
    """Load the next session's extensions ahead of time, in this process: `newsdesk serve`
    calls it between runs, as the loading was 0.29 s of the 0.38 s a run took to open
    the warehouse, before its first file. A spare no connect takes stays open (a few MB)."""
    needed = _extensions_needed((settings,))
    with _spare_lock:
        if needed in _spare_sessions or needed in _preparing:
            return
        ready = _preparing[needed] = threading.Event()
    con = None
    try:
        con = _loaded_session(needed, settings)
    finally:
        with _spare_lock:
            del _preparing[needed]
            if con is not None:
                _spare_sessions[needed] = con  # none there: only one preparer at a time
        ready.set()


def _take_spare(needed: tuple[str, ...]) -> duckdb.DuckDBPyConnection | None:
    with _spare_lock:
        con = _spare_sessions.pop(needed, None)
        loading = _preparing.get(needed)
    if con is not None or loading is None:
        return con
    loading.wait(SPARE_WAIT_SECONDS)
    with _spare_lock:
        return _spare_sessions.pop(needed, None)


def s3_secret_statement(settings: Settings, name: str = "newsdesk_lake_0") -> str:
    """CREATE SECRET for the data path's bucket, from the standard AWS variables.

    DDL takes no bound parameters, so the values are quoted here. A custom endpoint
    (MinIO, other S3-compatible stores) gets path-style URLs, and plain HTTP when it
    says http://.
    """
    options = {"TYPE": "s3", "SCOPE": "s3://" + settings.lake_data_path.removeprefix("s3://").split("/")[0]}
    if settings.aws_access_key_id:
        options["KEY_ID"] = settings.aws_access_key_id
    if settings.aws_secret_access_key:
        options["SECRET"] = settings.aws_secret_access_key.get_secret_value()
    if settings.aws_session_token:
        options["SESSION_TOKEN"] = settings.aws_session_token.get_secret_value()
    if settings.aws_region:
        options["REGION"] = settings.aws_region
    endpoint = settings.aws_endpoint_url
    if endpoint:
        scheme, _, host = endpoint.rstrip("/").rpartition("://")
        options |= {"ENDPOINT": host, "URL_STYLE": "path", "USE_SSL": "false" if scheme == "http" else "true"}
    body = ", ".join(
        f"{key} {value}" if key in ("TYPE", "USE_SSL") else f"{key} '{_quote(value)}'" for key, value in options.items()
    )
    return f"CREATE OR REPLACE SECRET {name} ({body})"


def check_storage(settings: Settings) -> None:
    """Before a run starts anything: the extensions load, the bucket answers to the
    credentials and the catalog database to its login. Writes nothing."""
    con = _session(settings)
    try:
        if settings.remote_data:
            _check_bucket(con, settings)
    except duckdb.Error as exc:
        raise _open_error(settings, exc) from None
    finally:
        con.close()
    if settings.catalog_kind == "postgres":
        with _lock_errors():
            locks.check_login(settings)


def _check_bucket(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """List one unlikely name under the data path before anything is written: a missing
    bucket, wrong credentials or a dead endpoint fail here, with nothing half-written."""
    con.execute("select count(*) from glob(?)", [settings.lake_data_path + ".newsdesk-probe-*"]).fetchall()


def _open_error(settings: Settings, exc: duckdb.Error) -> WarehouseError:
    """One line for a catalog or bucket that cannot be opened: exit 3 when it does not
    answer, 2 when the configuration is wrong. The catalog string holds no password
    (settings refuse one), so naming it is safe."""
    message = " ".join(str(exc).split())
    lowered = message.lower()
    where = _where(settings)
    if "creating a new ducklake is explicitly disabled" in lowered:
        return NoWarehouse(f"no warehouse in the {where} yet: run `newsdesk ingest` first")
    if "nosuchbucket" in lowered or "bucket does not exist" in lowered:
        return WarehouseError(f"the bucket of NEWSDESK_DATA_PATH={settings.lake_data_path} does not exist")
    if any(
        code in lowered
        for code in ("http 403", "http 401", "accessdenied", "invalidaccesskeyid", "signaturedoesnotmatch")
    ):
        return WarehouseError(
            f"object storage refused the credentials for {settings.lake_data_path} "
            "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"
        )
    if "does not match existing data path" in lowered:
        return WarehouseError(
            f"the {where} keeps its data at another path than NEWSDESK_DATA_PATH={settings.lake_data_path}: "
            "use the path it was created with, or `newsdesk migrate` to move it"
        )
    if "password authentication failed" in lowered or "authentication" in lowered or "no password supplied" in lowered:
        return WarehouseError(f"the {where} refused the login: check the user and PGPASSWORD or ~/.pgpass")
    if any(word in lowered for word in ("invalid connection option", 'missing "="', "invalid integer value")):
        return WarehouseError(f"NEWSDESK_CATALOG is not a valid PostgreSQL connection string: {_libpq_reason(message)}")
    if "does not exist" in lowered and settings.catalog_kind == "postgres" and "fatal" in lowered:
        return WarehouseError(f"the {where} does not exist or the role is unknown: {_libpq_reason(message)}")
    if any(
        word in lowered
        for word in (
            "unable to connect",
            "connection refused",
            "could not connect",
            "could not translate host",
            "timeout expired",
            "could not resolve",
            "connection error",
            "http get error",
        )
    ):
        return WarehouseUnreachable(f"cannot reach the {where}: {_libpq_reason(message)}")
    return WarehouseError(f"cannot open the warehouse at {where}: {message[:400]}")


def _catalog_place(settings: Settings) -> str:
    """dbname/host/port/user of a postgres: catalog, for messages."""
    fields = dict(re.findall(r"(\w+)\s*=\s*(\S+)", settings.catalog_url.removeprefix("postgres:")))
    return " ".join(f"{k}={fields[k]}" for k in ("dbname", "host", "port", "user") if k in fields) or "libpq defaults"


def _libpq_reason(message: str) -> str:
    """The part of a connection error after the (quoted) connection string."""
    tail = message.rsplit('": ', 1)[-1]
    return tail[:300]


def _use_wal(catalog: Path) -> None:
    """Put the SQLite catalog in WAL mode (a setting stored in the file): readers
    then never block the writer's commit, nor the writer the readers. Measured:
    a one-file run took 3.1 s instead of 1.1 s while a reader polled at 20 Hz
    in the default rollback-journal mode."""
    import sqlite3

    try:
        db = sqlite3.connect(catalog)
    except sqlite3.Error as exc:
        raise WarehouseError(f"cannot open the catalog {catalog}: {exc}") from exc
    try:
        db.execute("pragma journal_mode=wal")
    except sqlite3.Error as exc:
        raise WarehouseError(f"cannot write the warehouse catalog {catalog}: {exc}") from exc
    finally:
        db.close()


class NoWarehouse(WarehouseError):
    """The catalog holds no warehouse yet."""


class OutdatedWarehouse(WarehouseError):
    """A query needs a table or column that a writer of this version adds on its next write."""


def exists(settings: Settings) -> bool:
    """Whether there is a warehouse to read. A catalog named in settings is asked:
    a PostgreSQL database may be there and still hold no warehouse."""
    if settings.catalog is None:
        return (settings.warehouse_dir / "catalog.sqlite").exists()
    if settings.catalog_kind == "sqlite":
        return Path(settings.catalog_url.removeprefix("sqlite:")).exists()
    try:
        _attach(settings, read_only=True).close()
    except NoWarehouse:
        return False
    return True


def _quote(value: str) -> str:
    # ATTACH takes no bound parameters; the values come from settings, not users' SQL.
    return value.replace("'", "''")


# Every table and view of schema.sql: one missing (an older warehouse) runs it again.
SCHEMA_TABLES = (
    *("sources", "articles", "mentions", "claims", "quantities", "stances", "runs"),
    *("entities", "entity_spellings"),
)

# Columns added after the first release: an older warehouse gets them on its next write.
ADDED_COLUMNS = (
    ("sources", "ctime_ns"),
    ("articles", "published_raw"),
    ("claims", "content_gap_start"),
    ("claims", "content_gap_end"),
    ("mentions", "first_in_article"),
    ("runs", "swept_at"),
)


def _ensure_schema_locked(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing; the caller holds the write lock."""
    existing = set(con.execute(sql("catalog_columns"), {"catalog": CATALOG_ALIAS}).fetchall())
    tables = {table for table, _ in existing}
    if set(SCHEMA_TABLES) <= tables:
        if set(ADDED_COLUMNS) <= existing:
            return  # nothing to create: skip a catalog write on every run
        statements = _split(sql("add_columns"))
    else:
        # A new table in schema.sql (CREATE ... IF NOT EXISTS) leaves an older warehouse's
        # existing tables as they were: their added columns come after.
        statements = _split(schema_sql()) + _split(sql("add_columns"))
    if "entity_spellings" in tables:
        for statement in statements:
            _retry(partial(con.execute, statement))
        return

    # A warehouse from before entity_spellings gets it filled from its mentions in the
    # transaction that creates it: a crash in between must not leave it empty for good.
    def create_and_fill() -> None:
        con.execute("begin transaction")
        try:
            for statement in statements:
                con.execute(statement)
            rebuild_entity_spellings(con)
            con.execute("commit")
        except BaseException:
            _rollback(con)
            raise

    _retry(create_and_fill)


# What `migrate` copies, parents first; `entities` is a view over mentions, and
# entity_spellings is rebuilt from them.
MIGRATED_TABLES = ("sources", "articles", "mentions", "claims", "quantities", "stances", "runs")
MIGRATION_SOURCE = "migration_source"


def migrate(source: Settings, target: Settings) -> dict[str, int]:
    """Copy every row of the source warehouse into an empty target warehouse (another
    catalog and data path) in one transaction, snapshot history aside.

    The source is attached READ_ONLY: it is never written. Row counts of every table
    must agree before the copy commits; otherwise nothing of it is visible.
    """
    if not exists(source):
        raise NoWarehouse(f"no warehouse to migrate at {_where(source)}")
    if source.catalog_url == target.catalog_url:
        raise WarehouseError("the target catalog is the source catalog: name another NEWSDESK catalog to migrate to")
    if _overlap(source.lake_data_path, target.lake_data_path):
        # each warehouse's upkeep would delete the other's files as orphans
        raise WarehouseError(
            "the target data path overlaps the source's: give the new warehouse a data path of its own"
        )
    con = connect(target, also=[source])
    try:
        if _holds_files(con, target):
            raise WarehouseError(f"the target data path {target.lake_data_path} already holds files: name an empty one")
        _attach_source(con, source)
        counts = {table: _scalar(con, f"select count(*) from {MIGRATION_SOURCE}.{table}") for table in MIGRATED_TABLES}
        return transaction(con, target, lambda: _copy_rows(con, counts))
    finally:
        con.close()


def _overlap(first: str, second: str) -> bool:
    """Whether one data path lies inside the other (or they are the same)."""
    a, b = (path if "://" in path else str(Path(path).resolve()) + "/" for path in (first, second))
    a, b = a.rstrip("/") + "/", b.rstrip("/") + "/"
    return a.startswith(b) or b.startswith(a)


def _holds_files(con: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """Whether the data path has any file that the target's catalog does not know."""
    known = _scalar(con, sql("live_data_files"))
    found = con.execute("select count(*) from glob(?)", [settings.lake_data_path + "**"]).fetchone()
    return known == 0 and bool(found and found[0])


def _attach_source(con: duckdb.DuckDBPyConnection, source: Settings) -> None:
    options = "READ_ONLY" + (", OVERRIDE_DATA_PATH true" if source.data_path is None else "")
    try:
        con.execute(
            f"ATTACH 'ducklake:{_quote(_with_timeout(source.catalog_url))}' AS {MIGRATION_SOURCE} "
            f"(DATA_PATH '{_quote(source.lake_data_path)}', {options})"
        )
    except duckdb.Error as exc:
        raise _open_error(source, exc) from None


def _copy_rows(con: duckdb.DuckDBPyConnection, expected: dict[str, int]) -> dict[str, int]:
    """Inside the target's transaction: refuse a target with rows, copy, compare counts."""
    present = {table: _scalar(con, f"select count(*) from {CATALOG_ALIAS}.{table}") for table in MIGRATED_TABLES}
    if any(present.values()):
        held = ", ".join(f"{table} {rows}" for table, rows in present.items() if rows)
        raise WarehouseError(f"the target warehouse is not empty ({held}): migrate only into a new one")
    for table in MIGRATED_TABLES:
        # by column name: the source may be an older warehouse with fewer added columns
        params = {"catalog": MIGRATION_SOURCE, "table": table}
        columns = [row[0] for row in con.execute(sql("table_columns"), params).fetchall()]
        listed = ", ".join(f'"{column}"' for column in columns)
        con.execute(f"insert into {CATALOG_ALIAS}.{table} ({listed}) select {listed} from {MIGRATION_SOURCE}.{table}")
    copied = {table: _scalar(con, f"select count(*) from {CATALOG_ALIAS}.{table}") for table in MIGRATED_TABLES}
    if copied != expected:
        raise WarehouseError(f"row counts differ after the copy (source {expected}, target {copied}): nothing kept")
    rebuild_entity_spellings(con)  # derived from mentions; a source from before it has none
    return copied


def _where(settings: Settings) -> str:
    return (
        settings.catalog_url if settings.catalog_kind == "sqlite" else f"postgres catalog ({_catalog_place(settings)})"
    )


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables and views the warehouse has (an older one may lack a newer table)."""
    return {table for table, _ in con.execute(sql("catalog_columns"), {"catalog": CATALOG_ALIAS}).fetchall()}


def recorded_stats(con: duckdb.DuckDBPyConnection) -> dict[str, RecordedStat]:
    """The recorded stat of every path in the sources table: what a plan of the whole tree needs."""
    return {row[0]: RecordedStat._make(row[1:]) for row in con.execute(sql("recorded_stats")).fetchall()}


def known_sources(con: duckdb.DuckDBPyConnection, paths: Sequence[str] | None = None) -> dict[str, KnownSource]:
    """What the sources table remembers, per path: of every path, or of `paths` only."""
    if paths is None:
        rows = con.execute(sql("known_sources")).fetchall()
    else:
        rows = con.execute(sql("known_sources_of"), {"paths": list(paths)}).fetchall()
    return {row[0]: KnownSource._make(row[1:]) for row in rows}  # the query's columns are the fields' order


def known_article_ids(con: duckdb.DuckDBPyConnection, ids: Sequence[str] | None = None) -> dict[str, str]:
    """article_id -> extractor_version of every stored article, or of those among `ids`."""
    if ids is None:
        return dict(con.execute(sql("known_article_ids")).fetchall())
    return dict(con.execute(sql("known_article_ids_of"), {"ids": list(ids)}).fetchall())


@dataclass
class BatchRows:
    """Everything one batch writes, as lists of row dicts per table."""

    sources: list[dict[str, Any]]
    articles: list[dict[str, Any]]
    mentions: list[dict[str, Any]]
    claims: list[dict[str, Any]]
    quantities: list[dict[str, Any]]
    previous_article_ids: list[str]  # articles the batch's files pointed at before
    stances: list[dict[str, Any]] = field(default_factory=list)

    @property
    def replaced_ids(self) -> list[str]:
        return sorted({row["article_id"] for row in self.articles})


@contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Serialize writers: two runs committing the same article at once must not both
    insert it (see `locks`). A file lock for SQLite, an advisory lock for PostgreSQL."""
    with _lock_errors():
        with locks.write_lock(settings):
            yield


@contextmanager
def _lock_errors() -> Iterator[None]:
    try:
        yield
    except locks.LockError as exc:
        raise (WarehouseUnreachable if exc.unreachable else WarehouseError)(str(exc)) from None


def transaction(con: duckdb.DuckDBPyConnection, settings: Settings, work: Callable[[], T]) -> T:
    """Run `work` in one warehouse transaction under the write lock, retrying on conflict."""

    def attempt() -> T:
        with write_lock(settings):
            con.execute("begin transaction")
            try:
                result = work()
                con.execute("commit")
                return result
            except BaseException:
                _rollback(con)
                raise

    try:
        return _retry(attempt)
    except duckdb.Error as exc:
        message = str(exc).lower()
        if isinstance(exc, duckdb.IOException) or any(word in message for word in _STORAGE_ERRORS):
            raise WarehouseError(f"cannot write the warehouse at {settings.warehouse_dir}: {exc}") from exc
        raise


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("rollback")
    except duckdb.Error:
        pass  # the failed commit already ended the transaction


@dataclass(frozen=True)
class Committed:
    """What one batch commit changed, judged inside its transaction."""

    added: int  # articles that were not in the warehouse
    replaced: int  # articles whose rows were rewritten: re-extracted, or a concurrent run stored them first
    retired: list[str]  # article ids no file points at any more
    # files whose content was already stored when read, and whose article was retired
    # (by an earlier batch, or another run) before this commit: no row, read again next run
    left_for_later: int = 0


def commit_batch(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    rows: BatchRows,
    fault: str | None = None,
    retired_earlier: Collection[str] = (),
) -> Committed:
    """Write one batch in one transaction.

    `retired_earlier`: articles the run's earlier commits retired; a file of this batch
    read before then may name one (see `_with_their_articles`).
    `fault` names a point at which to die (tests use it to prove atomicity).
    """

    global _commits_started
    _commits_started += 1

    def work() -> Committed:
        try:
            retired = _write(con, rows, fault, retired_earlier)
            _fault(fault, "before_commit")
            return retired
        finally:
            for view in (
                "batch_replaced",
                "batch_articles",
                "batch_mentions",
                "batch_claims",
                "batch_quantities",
                "batch_sources",
                "batch_previous",
            ):
                con.unregister(view)

    return transaction(con, settings, work)


# Each content table's write behaviour, declared once: a batch replaces an article's rows
# whole (delete by article_id, then insert), children before their article.
@dataclass(frozen=True)
class ArticleTable:
    name: str  # also the BatchRows field and the registered view's suffix
    insert: str  # sql/ file names
    delete: str
    reads: tuple[str, ...] = ()  # batch columns its insert names (a batch may leave them out: null)
    sets: tuple[str, ...] = ()  # columns the insert computes: a batch's own values are dropped
    after_insert: str | None = None  # sql/ file run after the insert, and its undoing before the delete
    before_delete: str | None = None


ARTICLE_TABLES = (  # insert order: the article first, then what hangs on it
    ArticleTable("articles", "insert_articles", "delete_batch_articles"),
    ArticleTable(
        "mentions",
        "insert_mentions",
        "delete_batch_mentions",
        ("entity_id", "entity_name", "label", "text"),  # named by add_spellings.sql too
        ("first_in_article",),
        after_insert="add_spellings",  # entity_spellings counts the mentions written and deleted
        before_delete="subtract_spellings",
    ),
    ArticleTable("claims", "insert_claims", "delete_batch_claims"),
    ArticleTable("quantities", "insert_quantities", "delete_batch_quantities"),
    ArticleTable("stances", "insert_stances", "delete_batch_stances"),
)


def _delete_batch_articles(con: duckdb.DuckDBPyConnection) -> None:
    """Every row of the articles in view `batch_replaced`, children first."""
    for table in reversed(ARTICLE_TABLES):
        if table.before_delete:
            con.execute(sql(table.before_delete))
        con.execute(sql(table.delete))


def _write(
    con: duckdb.DuckDBPyConnection, rows: BatchRows, fault: str | None, retired_earlier: Collection[str] = ()
) -> Committed:
    import pyarrow as pa  # writers only: a reader (`newsdesk sql`) starts 0.2 s sooner without it

    con.register("batch_replaced", _table([{"article_id": a} for a in rows.replaced_ids], ["article_id"]))
    existing = 0
    if rows.articles:
        # Replace rows only where they exist: checked inside the transaction, so a
        # concurrent run that committed the same article first is seen (and not counted).
        existing = _scalar(con, sql("batch_existing_articles"))
        if existing:
            _delete_batch_articles(con)
        for table in ARTICLE_TABLES:
            data = getattr(rows, table.name)
            if data:
                con.register(f"batch_{table.name}", _with_columns(pa.Table.from_pylist(data), table.reads, table.sets))
                con.execute(sql(table.insert))
                if table.after_insert:
                    con.execute(sql(table.after_insert))
                _fault(fault, f"after_{table.name}")
    added = len(rows.articles) - existing
    sources = _with_their_articles(con, rows, retired_earlier)
    if sources:  # empty when every file of the batch vanished before it was read
        con.register("batch_sources", pa.Table.from_pylist(sources))
        con.execute(sql("delete_batch_sources"))
        con.execute(sql("insert_sources"))
    left = len(rows.sources) - len(sources)
    _fault(fault, "after_sources")
    if not rows.previous_article_ids:
        return Committed(added, existing, [], left)
    con.register("batch_previous", _table([{"article_id": a} for a in rows.previous_article_ids], ["article_id"]))
    retired = [row[0] for row in con.execute(sql("retire_orphans")).fetchall()]
    if retired:
        con.register("batch_replaced", _table([{"article_id": a} for a in retired], ["article_id"]))
        _delete_batch_articles(con)
    return Committed(added, existing, retired, left)


def _with_their_articles(
    con: duckdb.DuckDBPyConnection, rows: BatchRows, retired_earlier: Collection[str]
) -> list[dict[str, Any]]:
    """The batch's sources rows, less those naming an article that is neither in the
    batch nor in the warehouse any more: the file's content was stored when it was
    read (a batch is read ahead of the commits before it), so it was not extracted,
    and an earlier commit of the run retired that article. Such a file is read again
    next run. Asked inside the transaction, and only about articles the run retired:
    a batch of unchanged content (a `touch` of the tree) pays nothing."""
    written = {article["article_id"] for article in rows.articles}
    retired = set(retired_earlier)
    suspect = sorted(
        {r["article_id"] for r in rows.sources if r["status"] == "ingested" and r["article_id"] in retired} - written
    )
    if not suspect:
        return rows.sources
    gone = set(suspect) - set(known_article_ids(con, suspect))
    return [r for r in rows.sources if not (r["status"] == "ingested" and r["article_id"] in gone)]


def _with_columns(table: pa.Table, names: Sequence[str], computed: Sequence[str] = ()) -> pa.Table:
    """The batch with the columns its insert names, null where the rows had none, and
    without those the insert computes (rows copied from the warehouse carry them)."""
    import pyarrow as pa

    table = table.drop_columns([name for name in computed if name in table.column_names])
    for name in names:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
    return table


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> pa.Table:
    import pyarrow as pa

    if rows:
        return pa.Table.from_pylist(rows)
    return pa.table({c: pa.array([], pa.string()) for c in columns})


_commits_started = 0


def _fault(fault: str | None, point: str) -> None:
    """Fault injection for crash tests: die hard, as kill -9 would, at a named point.
    `point@N` dies in the Nth batch commit of this process (default: the first)."""
    if not fault:
        return
    name, _, nth = fault.partition("@")
    if name == point and _commits_started == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def _retry(action: Callable[[], T], attempts: int = 6) -> T:
    """Retry a warehouse write that lost a race with another writer."""
    for attempt in range(attempts):
        try:
            return action()
        except duckdb.Error as exc:
            conflict = isinstance(exc, duckdb.TransactionException) or "conflict" in str(exc).lower()
            if not conflict or attempt == attempts - 1:
                raise
            time.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")


def mark_deleted(con: duckdb.DuckDBPyConnection, settings: Settings, paths: Iterable[str], run_id: str) -> int:
    now = datetime.now(UTC)
    paths = list(paths)
    if not paths:
        return 0

    def work() -> int:
        for path in paths:
            con.execute(sql("mark_deleted"), {"seen_at": now, "run_id": run_id, "path": path})
        return len(paths)

    return transaction(con, settings, work)


def requeue_quarantined(con: duckdb.DuckDBPyConnection, settings: Settings, paths: Sequence[str] | None) -> int:
    """Forget the stat of quarantined files so that the next run reads them again."""

    def work() -> int:
        targets = [r[0] for r in con.execute(sql("quarantined_paths")).fetchall()]
        chosen = [p for p in targets if paths is None or p in set(paths)]
        for path in chosen:
            con.execute(sql("requeue_source"), {"path": path})
        return len(chosen)

    return transaction(con, settings, work)


@contextmanager
def recorded_run(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    flow_run_id: str | None,
    trigger: str,
    files_seen: int,
    files_pending: int,
    counts: Callable[[], dict[str, int]],
    swept_at: Callable[[], datetime | None] = lambda: None,
) -> Iterator[None]:
    """The run's `runs` row: `running` while the body runs, then `completed`, or
    `failed` with the error. The run holds a lock file for its whole life, so a later
    run can tell a dead run's leftover `running` row (closed as `abandoned`) from a
    live one."""
    with _lock_errors(), locks.run_alive_lock(settings, run_id):
        close_abandoned_runs(con, settings)
        params = {
            "run_id": run_id,
            "flow_run_id": flow_run_id,
            "trigger": trigger,
            "started_at": datetime.now(UTC),
            "files_seen": files_seen,
            "files_pending": files_pending,
        }
        transaction(con, settings, lambda: con.execute(sql("start_run"), params))
        try:
            yield
        except BaseException as exc:
            if _record_failure(con, settings, run_id, counts(), f"{type(exc).__name__}: {exc}", swept_at()):
                locks.forget_run(settings, run_id)
            raise
        _finish_run(con, settings, run_id, "completed", counts(), swept_at=swept_at())
        locks.forget_run(settings, run_id)


def _record_failure(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    counts: dict[str, int],
    error: str,
    swept_at: datetime | None,
) -> bool:
    """Best effort: the warehouse itself may be what failed (a full disk). Then the row
    stays `running` and the lock file stays behind, unlocked once we exit, so the next
    run closes the row as abandoned."""
    try:
        _finish_run(con, settings, run_id, "failed", counts, error, swept_at)
        return True
    except (duckdb.Error, WarehouseError, OSError):
        return False


def _finish_run(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    status: str,
    counts: dict[str, int],
    error: str | None = None,
    swept_at: datetime | None = None,
) -> None:
    params = {
        "swept_at": swept_at,
        "finished_at": datetime.now(UTC),
        "status": status,
        "error": error,
        "run_id": run_id,
        "articles_added": counts.get("added", 0),
        "articles_existing": counts.get("existing", 0),
        "articles_retired": counts.get("retired", 0),
        "quarantined": counts.get("quarantined", 0),
        "deleted": counts.get("deleted", 0),
        "files_seen": counts.get("files_seen"),
        "files_pending": counts.get("files_pending"),
    }
    transaction(con, settings, lambda: con.execute(sql("finish_run"), params))


def sweep_due(con: duckdb.DuckDBPyConnection, every_seconds: float) -> bool:
    """Whether no completed run has walked the whole of seeds/ within `every_seconds`.
    A sweep stamped in the future (another host's clock ahead, or this one's set back)
    is left out: it says nothing of how long ago it was."""
    now = datetime.now(UTC)
    last = _scalar(con, sql("last_sweep"), {"now": now})
    return last is None or (now - last).total_seconds() >= every_seconds


def close_abandoned_runs(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Mark `running` rows whose process is gone as `abandoned`, with the reason.

    Gone means nobody holds its run-alive lock (`locks.run_gone`): on a PostgreSQL
    catalog that holds across hosts; on SQLite a row without a lock file here is never
    touched: it may be live.
    """
    running = [row[0] for row in con.execute(sql("running_runs")).fetchall()]
    with _lock_errors():
        gone = [run_id for run_id in running if locks.run_gone(settings, run_id)]
    if not gone:
        return []
    now = datetime.now(UTC)
    reason = "abandoned: its process ended without recording the run (killed, or the warehouse failed)"

    def work() -> None:
        for run_id in gone:
            con.execute(sql("abandon_run"), {"finished_at": now, "error": reason, "run_id": run_id})

    transaction(con, settings, work)
    for run_id in gone:
        locks.forget_run(settings, run_id)
    return gone


# The end of a run (its data checks and report) reads its articles this many at a time,
# so it never holds all of a long run's articles. All at once, the checks' joins held
# every article text of the run: at 100,032 article-sized articles the end of the run
# took a fresh writer session from 115 to 403-416 MB; 208-209 MB in slices of 20,000
# (177 MB with 5,000, for 1.4 x its time). bench/writer_rss.py compares the two.
RUN_SLICE_ARTICLES = 20_000


def run_slices(con: duckdb.DuckDBPyConnection, run_id: str, slice_articles: int) -> list[tuple[str, str]]:
    """A run's articles as consecutive (first id, last id) slices of at most `slice_articles`."""
    return con.execute(sql("run_article_slices"), {"run_id": run_id, "slice_articles": slice_articles}).fetchall()


def run_checks(con: duckdb.DuckDBPyConnection, run_id: str, slice_articles: int = RUN_SLICE_ARTICLES) -> dict[str, int]:
    """Every data check (a query returning bad rows) over one run's articles, a slice at a
    time: name -> bad rows. Bad rows are counted as they stream, never held."""
    every_check = checks()
    bad = dict.fromkeys(every_check, 0)
    for first_id, last_id in run_slices(con, run_id, slice_articles):
        bounds = {"run_id": run_id, "first_id": first_id, "last_id": last_id}
        for name, text in every_check.items():
            bad[name] += _count_rows(con.execute(text, bounds))
    return bad


def _count_rows(result: duckdb.DuckDBPyConnection, chunk: int = 10_000) -> int:
    counted = 0
    while rows := result.fetchmany(chunk):
        counted += len(rows)
    return counted


MERGE_MAX_FILE_BYTES = 16_000_000  # "a few megabytes" is DuckLake's advice for a Parquet file

# Rows per Parquet row group. A DuckLake session writes with the lake options it loaded
# when it attached, or with one it set itself. A merge holds up to a row group in memory
# before writing it: a long run's merges set small ones in their own session (with
# DuckDB's 122,880 they were the run's highest peak: 800 commits of real article-sized
# batches, merged every 50, peak RSS 428 MB, 316 MB with 16,384; bench/merge_rss.py
# --articles), then put the catalog back to 122,880 for every later session. Small row
# groups everywhere made the reports at 1M articles 1.2-1.6 x slower.
RUN_MERGE_ROW_GROUP_ROWS = 16_384
READER_ROW_GROUP_ROWS = 122_880


def _set_row_group_rows(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """This session's row-group size, and the catalog's for sessions attached after it."""
    _retry(partial(con.execute, sql("set_lake_option"), {"name": "parquet_row_group_size", "value": rows}))


def merge_small_files(settings: Settings) -> None:
    """Merge the small Parquet files that batch commits write, one per table each.

    A long run calls this every `merge_every_commits` commits. Without it, each
    commit's "is this article new" check and its sources update read every earlier
    commit's file, so cost grew with the square of the run: at 100,000 one-paragraph
    files, 1,563 commits left about 9,000 files, and one later one-file run took 7 s.
    Only files under MERGE_MAX_FILE_BYTES are merged, so each merge rewrites at most
    that much per table, not the whole table. Old files stay on disk for readers still
    scanning them, until `maintain` removes them.

    The merge runs in a session of its own, closed after it: on the run's long-lived
    writer session, what merges left behind stayed in that process
    (bench/merge_rss.py, 1,600 commits merged every 50: peak 793 MB on the writer
    session, 385 MB on its own with one thread, 239 MB without merges).
    """
    try:
        con = connect(settings)
        try:
            # One thread: the merge's buffers were the run's highest transient peak, and
            # the cores are the extraction workers' anyway.
            con.execute("set threads = 1")
            # Under the write lock, as every writer's attach is: none loads the small size.
            with write_lock(settings):
                _set_row_group_rows(con, RUN_MERGE_ROW_GROUP_ROWS)
                try:
                    _retry(partial(con.execute, sql("merge_small_files"), {"max_bytes": MERGE_MAX_FILE_BYTES}))
                finally:
                    _set_row_group_rows(con, READER_ROW_GROUP_ROWS)
        finally:
            con.close()
    except (duckdb.Error, WarehouseError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WarehouseError(f"the warehouse's small files were not merged: {first_line}") from exc


def maintain(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    """DuckLake upkeep (`_maintain`); a DuckDB failure is a WarehouseError, one line."""
    try:
        return _maintain(con, settings)
    except duckdb.Error as exc:
        raise WarehouseError(f"upkeep stopped: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc


def _maintain(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    """DuckLake upkeep: rebuild entity_spellings, expire snapshots older than the retention, rewrite files with
    deleted rows, merge small files, delete the files nothing references any more; then
    compact a local SQLite catalog.

    The service commits three snapshots per one-file run (start_run, the batch,
    finish_run), each writing a small Parquet file per table it touches: without the
    merge a report reads hundreds of files (bench/catalog.py). File deletion passes a
    one-hour grace period (`older_than`), meant for readers still scanning old files and
    writers whose commit is in flight; it runs under the write lock, so no local writer
    is mid-commit.
    """
    now = datetime.now(UTC)
    grace = _catalog_time(settings, now - timedelta(hours=1))
    expire_before = now - timedelta(days=settings.snapshot_retention_days)
    counts = {
        "data_files_before": _scalar(con, sql("live_data_files")),
        "delete_files_before": _scalar(con, sql("live_delete_files")),
        "snapshots_before": _scalar(con, sql("snapshot_count")),
        "catalog_bytes_before": _catalog_bytes(settings),
    }
    with write_lock(settings):  # first: a merge killed mid-way may have left the small size
        _set_row_group_rows(con, READER_ROW_GROUP_ROWS)
    transaction(con, settings, partial(rebuild_entity_spellings, con))
    with write_lock(settings):
        _expire_snapshots(con, expire_before)
        # An edited file deletes a row or two from a merged file; DuckLake's default
        # threshold (95 % deleted) would leave those files, unmergeable, and their delete
        # files to pile up night after night. Rewritten first, the merge takes them too.
        _retry(partial(con.execute, sql("rewrite_data_files"), {"delete_threshold": 0.0}))
        _retry(partial(con.execute, sql("merge_adjacent_files")))
        _retry(partial(con.execute, sql("cleanup_old_files"), {"older_than": grace}))
        _retry(partial(con.execute, sql("delete_orphaned_files"), {"older_than": grace}))
    # Outside the lock, and never waiting long: a catalog in use is compacted next time.
    _compact_catalog(settings)
    return counts | {
        "data_files_after": _scalar(con, sql("live_data_files")),
        "delete_files_after": _scalar(con, sql("live_delete_files")),
        "snapshots_after": _scalar(con, sql("snapshot_count")),
        "catalog_bytes_after": _catalog_bytes(settings),
    }


def rebuild_entity_spellings(con: duckdb.DuckDBPyConnection) -> None:
    """entity_spellings from mentions, one row per spelling (inside the caller's
    transaction): the commits' signed rows collapse, and any drift is mended."""
    con.execute(sql("clear_spellings"))
    con.execute(sql("rebuild_spellings"))


def _expire_snapshots(con: duckdb.DuckDBPyConnection, older_than: datetime) -> None:
    """Expire the snapshots taken before `older_than`, named by id (see `_catalog_time`)."""
    versions = [row[0] for row in con.execute(sql("expirable_snapshots"), {"older_than": older_than}).fetchall()]
    if versions:  # DuckLake refuses an empty list
        _retry(partial(con.execute, sql("expire_snapshots"), {"versions": versions}))


def _sqlite_catalog(settings: Settings) -> Path | None:
    """The catalog's file when it is SQLite (the default), else None."""
    if settings.catalog is None:
        return settings.warehouse_dir / "catalog.sqlite"
    if settings.catalog.startswith("sqlite:"):
        return Path(settings.catalog.removeprefix("sqlite:"))  # as ATTACH reads it: no "~" expansion
    return None


def _catalog_time(settings: Settings, moment: datetime) -> datetime:
    """`moment` as an `older_than` that takes nothing younger than it.

    In a SQLite catalog DuckLake compares these times as text, and any moment matched
    its whole UTC day (DuckDB 1.5.5: older_than one hour ago deleted files scheduled a
    minute ago). The end of the day before `moment` matches only what is older than
    that day, so older than `moment`: such files wait up to a day longer.
    """
    if _sqlite_catalog(settings) is None:
        return moment
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(microseconds=1)


def _catalog_bytes(settings: Settings) -> int:
    """Size of a SQLite catalog with its write-ahead log (0 for another catalog)."""
    path = _sqlite_catalog(settings)
    if path is None:
        return 0
    total = 0
    for file in (path, path.with_name(path.name + "-wal")):
        try:
            total += file.stat().st_size
        except FileNotFoundError:
            continue  # the WAL goes when the last connection closes
    return total


def _compact_catalog(settings: Settings) -> None:
    """VACUUM a SQLite catalog and empty its WAL: the merge and the expiry delete catalog
    rows, but SQLite keeps the pages, and the WAL holds every commit since its last
    full checkpoint. A catalog that stays busy (a long reader) is left as it is, to be
    compacted on the next upkeep: the data is not at stake."""
    import sqlite3

    path = _sqlite_catalog(settings)
    if path is None or not path.exists():
        return
    try:
        db = sqlite3.connect(path, timeout=0.5)
    except sqlite3.Error as exc:
        raise WarehouseError(f"cannot open the catalog {path}: {exc}") from exc
    try:
        db.execute("vacuum")
        db.execute("pragma wal_checkpoint(truncate)")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise WarehouseError(f"cannot compact the catalog {path}: {exc}") from exc
    finally:
        db.close()


def query(
    con: duckdb.DuckDBPyConnection,
    statement: str,
    params: Sequence[Any] | dict[str, Any] | None = None,
    limit: int | None = None,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one read-only statement (see `check_read_only`): its columns, and all its rows or the first `limit`."""
    result = execute_read_only(con, statement, params)
    rows = result.fetchall() if limit is None else result.fetchmany(limit)
    return [d[0] for d in result.description], rows


def open_reader(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only session with bounded memory and threads, meant for `check_read_only`.

    The catalog is attached READ_ONLY; with external access off, only the lake's data
    path is allowed (DuckLake reads its files through that check). DuckDB 1.5 cannot
    make an allowed directory read-only - EXPLAIN ANALYZE COPY overwrote live data files
    in it - so what keeps the lake unwritten is `check_read_only`: no statement that
    writes, and no table function that does. No temp directory: nothing spills to disk
    (an empty one also keeps DuckDB from allowing it), a query needing more than
    memory_limit stops.
    """
    con = connect(settings, read_only=True)
    try:
        # Only the lake's own files, local or in its bucket, are readable.
        con.execute("set allowed_directories = [?]", [settings.lake_data_path])
        con.execute("set memory_limit = ?", [settings.query_memory_limit])
        con.execute("set threads = ?", [settings.query_threads])
        con.execute("set temp_directory = ''")
        con.execute("set python_enable_replacements = false")
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"cannot open a query session on {settings.warehouse_dir}: {exc}") from exc
    return con


def execute_read_only(
    con: duckdb.DuckDBPyConnection, statement: str, params: Sequence[Any] | dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Check, then run one statement on a reader; rows are fetched from the result as needed."""
    try:
        check_read_only(con, statement)
        return con.execute(statement, params or [])
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        missing = missing_schema(con)
        if not missing:
            raise
        raise OutdatedWarehouse(
            f"this warehouse was written by an older newsdesk and lacks {', '.join(missing)}: "
            f"run `newsdesk maintain` once to upgrade it ({str(exc).splitlines()[0]})"
        ) from exc


def missing_schema(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables and added columns of this version that the warehouse lacks: a reader does
    not upgrade it (the next write, or `newsdesk maintain`, does)."""
    existing = set(con.execute(sql("catalog_columns"), {"catalog": CATALOG_ALIAS}).fetchall())
    tables = {table for table, _ in existing}
    absent = [table for table in SCHEMA_TABLES if table not in tables]
    return absent + [f"{t}.{c}" for t, c in ADDED_COLUMNS if t in tables and (t, c) not in existing]


def check_read_only(con: duckdb.DuckDBPyConnection, statement: str) -> None:
    """Refuse, before it runs, a statement that could change anything.

    One statement, a SELECT or an EXPLAIN [ANALYZE] of one (ANALYZE runs what it
    explains, so that is checked as if sent alone), calling no function that writes.
    """
    statements = con.extract_statements(statement)
    if len(statements) != 1:
        raise ReadOnlyViolation(f"expected exactly one statement, got {len(statements)}")
    kind = statements[0].type.name
    if kind not in READ_ONLY_STATEMENTS:
        raise ReadOnlyViolation(f"only SELECT queries are allowed here, not {kind}")
    if kind == "EXPLAIN":
        statement = _explained_statement(con, statement)
    _check_functions(con, statement)


def _word_at(text: str, position: int) -> str:
    """The lowercased word starting at `position` (empty at punctuation)."""
    match = re.match(r"\w*", text[position:])
    return match.group(0).lower() if match else ""


def _explained_statement(con: duckdb.DuckDBPyConnection, statement: str) -> str:
    """The text after `EXPLAIN [ANALYZE]`, which must parse alone as one SELECT.
    Option lists and VERBOSE do not, so they are refused rather than interpreted."""
    tokens = [position for position, _ in duckdb.tokenize(statement)]  # comments are not tokens
    words = [(_word_at(statement, p), p) for p in tokens[:3]]
    skip = 2 if len(words) > 2 and words[1][0] in ("analyze", "analyse") else 1
    if not words or words[0][0] != "explain" or len(words) <= skip:
        raise ReadOnlyViolation("EXPLAIN is allowed here only as EXPLAIN [ANALYZE] SELECT ...")
    inner = statement[words[skip][1] :]
    try:
        kinds = [s.type.name for s in con.extract_statements(inner)]
    except duckdb.ParserException:
        kinds = []
    if kinds != ["SELECT"]:
        raise ReadOnlyViolation("EXPLAIN is allowed here only as EXPLAIN [ANALYZE] SELECT ...")
    return inner


def _check_functions(con: duckdb.DuckDBPyConnection, select: str) -> None:
    """Inside a SELECT, only functions can write. The names in DuckDB's own parse tree
    (json_serialize_sql: comments, quoting and case cannot hide a call) are checked:
    table functions against an allowlist, since every writing one is a table function
    (DuckLake maintenance, checkpoint, logging and profiling switches, query()) and
    extensions add new ones each release, so unknown means refused; other functions
    against the few DuckDB flags as having side effects beyond their result."""
    import json

    tree = _scalar(con, "select json_serialize_sql(?)", [select])
    try:
        parsed = json.loads(tree)
    except RecursionError:
        raise ReadOnlyViolation("the query is nested too deeply to check") from None
    if parsed.get("error"):
        raise ReadOnlyViolation(f"only plain SELECT queries are allowed here ({parsed.get('error_message')})")
    table_functions, functions = _function_names(parsed)
    refused = sorted(name for name in table_functions if not _read_only_table_function(name))
    refused += sorted(name for name in functions if _side_effect_function(name))
    if refused:
        raise ReadOnlyViolation(f"function {refused[0]}() is not allowed on the read-only path")
    _check_names(parsed)


# A path step up: DuckDB resolves it in an s3:// URL after the allowed-directories check.
_PARENT_STEP = re.compile(r"(^|[/\\])\.\.([/\\]|$)")


def _check_names(tree: Any) -> None:
    """Refuse, anywhere in the parse tree, a string or table name with a `..` path step
    (it would lead out of the lake's prefix, even into another bucket), and the catalog
    database DuckLake attaches beside the lake (on PostgreSQL, that database's own tables)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in ("catalog_name", "schema_name"):
                if str(node.get(key) or "").lower().startswith("__ducklake_metadata"):
                    raise ReadOnlyViolation("the catalog's own database is not readable on the read-only path")
            for key in ("table_name", "value"):
                if isinstance(node.get(key), str) and _PARENT_STEP.search(node[key]):
                    raise ReadOnlyViolation("a path with a '..' step is not allowed on the read-only path")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _function_names(tree: Any) -> tuple[set[str], set[str]]:
    """(table function names, all other function names) anywhere in a parse tree.
    Iterative: a deeply nested query must not exhaust Python's recursion limit."""
    table_functions: set[str] = set()
    functions: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "TABLE_FUNCTION":
                # no name found -> "" -> refused: an unknown shape fails closed
                table_functions.add(str((node.get("function") or {}).get("function_name", "")).lower())
            elif "function_name" in node:
                functions.add(str(node["function_name"]).lower())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return table_functions, functions


def _side_effect_function(name: str) -> bool:
    """The functions DuckDB flags has_side_effects, less those that only make a value
    (random numbers, ids, sleep, error). A fixed list, as reading DuckDB's flags costs
    30 ms a query; tests/test_query_safety.py fails when DuckDB flags a new one."""
    # current_setting: settings may hold what the session must not show (s3_* keys)
    return name in {"write_log", "nextval", "currval", "setseed", "current_setting"}


def _read_only_table_function(name: str) -> bool:
    """The table functions a query may call: they only read. File readers are here
    because the session's external-access check already confines them to the lake."""
    return name in {
        "range",
        "generate_series",
        "unnest",
        "repeat",
        "json_each",
        "json_tree",
        "duckdb_columns",
        "duckdb_constraints",
        "duckdb_databases",
        "duckdb_dependencies",
        "duckdb_functions",
        "duckdb_indexes",
        "duckdb_keywords",
        "duckdb_schemas",
        "duckdb_tables",
        "duckdb_types",
        "duckdb_views",
        "pragma_table_info",
        "pragma_version",
        "pg_timezone_names",
        "histogram",
        "histogram_values",
        "ducklake_snapshots",
        "ducklake_current_snapshot",
        "ducklake_last_committed_snapshot",
        "ducklake_table_info",
        "ducklake_list_files",
        "ducklake_options",
        "ducklake_settings",
        "ducklake_table_changes",
        "ducklake_table_insertions",
        "ducklake_table_deletions",
        # the same, called on the catalog: `select * from news.snapshots()` (time travel)
        "snapshots",
        "current_snapshot",
        "last_committed_snapshot",
        "table_info",
        "list_files",
        "table_changes",
        "table_insertions",
        "table_deletions",
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "parquet_scan",
        "read_json",
        "read_json_auto",
        "read_ndjson",
        "read_ndjson_auto",
        "read_json_objects",
        "read_text",
        "read_blob",
        "glob",
        "parquet_metadata",
        "parquet_schema",
    }


def parameters_of(statement: str) -> set[str]:
    """The `$name` parameters one statement takes, as DuckDB's parser sees them."""
    try:
        statements = duckdb.extract_statements(statement)
    except duckdb.Error as exc:
        raise ReadOnlyViolation(str(exc).splitlines()[0]) from None
    if len(statements) != 1:
        raise ReadOnlyViolation(f"expected exactly one statement, got {len(statements)}")
    return set(statements[0].named_parameters)


def stale_sources(con: duckdb.DuckDBPyConnection, extractor_version: str) -> dict[str, str]:
    """path -> article_id of ingested files extracted by another extractor version."""
    return dict(con.execute(sql("stale_sources"), {"extractor_version": extractor_version}).fetchall())


def run_highlights(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    entities: int = 10,
    claims: int = 50,
    slice_articles: int = RUN_SLICE_ARTICLES,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """One run's top entities (name, usual label, articles, mentions) and claims, for its
    report artifact."""
    top = _run_top_entities(con, run_id, entities, slice_articles)
    return top, con.execute(sql("run_claims"), {"run_id": run_id, "limit": claims}).fetchall()


def _run_top_entities(
    con: duckdb.DuckDBPyConnection, run_id: str, limit: int, slice_articles: int
) -> list[tuple[Any, ...]]:
    """Counted a slice of articles at a time into a temporary table, then summed; the
    usual label (most mentions, then the first in order) only for the top names. One
    transaction, so every step reads the same snapshot; rolling it back drops the table."""
    con.begin()
    try:
        con.execute(sql("create_run_entity_counts"))
        for first_id, last_id in run_slices(con, run_id, slice_articles):
            con.execute(sql("add_run_entity_counts"), {"run_id": run_id, "first_id": first_id, "last_id": last_id})
        top = con.execute(sql("run_top_entities"), {"limit": limit}).fetchall()
        names = [name for name, _, _ in top]
        counted = con.execute(sql("run_entity_labels"), {"run_id": run_id, "names": names}).fetchall() if top else []
    finally:
        _rollback(con)  # a failed rollback must not hide why the report failed
    labels: dict[str, dict[str, int]] = {}
    for name, label, mentions in counted:
        labels.setdefault(name, {})[label] = mentions
    return [(name, _usual_label(labels.get(name, {})), articles, mentions) for name, articles, mentions in top]


def _usual_label(mentions_by_label: dict[str, int]) -> str | None:
    """The label an entity is mentioned under most often; ties go to the first in order."""
    if not mentions_by_label:
        return None
    return min(mentions_by_label, key=lambda label: (-mentions_by_label[label], label))


def evaluation_rows(
    con: duckdb.DuckDBPyConnection,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What scoring reads: (path, article_id, text), mentions and claims of every article."""
    return (
        con.execute(sql("eval_articles")).fetchall(),
        con.execute(sql("eval_mentions")).fetchall(),
        con.execute(sql("eval_claims")).fetchall(),
    )
