"""Real servers the scale-out tests start themselves: PostgreSQL (Debian's, run as the
`postgres` user from a temporary folder on a free port), an S3-compatible server on
127.0.0.1 (moto's server mode) and a Dask cluster (`dask scheduler` + `dask worker`)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpers import free_port, stop_group

PASSWORD = "newsdesk-test-password"  # a throwaway server's: it lives for one test session
S3_KEY, S3_SECRET = "newsdesk-test-key", "newsdesk-test-secret"
BUCKET = "newsdesk-test"


class Unavailable(RuntimeError):
    """The server cannot start on this machine; the message says why (tests skip)."""


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str = "postgres"

    def catalog(self, dbname: str) -> str:
        return f"postgres:dbname={dbname} host={self.host} port={self.port} user={self.user}"

    def new_database(self) -> str:
        import psycopg

        name = f"news_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as session:
            session.execute(f"create database {name}")
        return name

    def conninfo(self, dbname: str) -> str:
        return f"dbname={dbname} host={self.host} port={self.port} user={self.user} password={PASSWORD}"


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise Unavailable("PostgreSQL is not installed (Debian package postgresql)")
    return Path(found[-1]).parent


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """initdb as `postgres` in a temporary folder, password logins only, on a free port."""
    bin_dir = _postgres_bin()
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("there is no `postgres` user to run the server as") from None
    root = Path(tempfile.mkdtemp(prefix="newsdesk-pg-"))
    os.chmod(root, 0o755)
    data, password_file = root / "data", root / "password"
    password_file.write_text(PASSWORD)
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        os.chown(root, account.pw_uid, account.pw_gid)
        os.chown(password_file, account.pw_uid, account.pw_gid)
    elif os.geteuid() != account.pw_uid:
        raise Unavailable("the PostgreSQL server runs as `postgres`: the tests need root or that user")
    port = free_port()
    init = subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
         f"--pwfile={password_file}", "--no-sync"],
        capture_output=True, text=True,
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise Unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
    server = subprocess.Popen(
        [*as_postgres, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
         "-k", str(root), "-c", "fsync=off", "-c", "max_connections=200"],
        stdout=subprocess.DEVNULL, stderr=open(root / "server.log", "wb"), start_new_session=True,
    )  # fmt: skip
    try:
        found = Postgres("127.0.0.1", port)
        _wait_for_postgres(found, server, root)
        yield found
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_postgres(found: Postgres, server: subprocess.Popen, root: Path) -> None:
    import psycopg

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise Unavailable(f"postgres exited: {(root / 'server.log').read_text()[-300:]}")
        try:
            psycopg.connect(found.conninfo("postgres"), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.2)
    raise Unavailable("postgres did not accept connections within 60 s")


@dataclass(frozen=True)
class S3:
    endpoint: str

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": self.endpoint}  # fmt: skip

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=S3_KEY,
                            aws_secret_access_key=S3_SECRET, region_name="us-east-1")  # fmt: skip

    def keys(self, prefix: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


@contextmanager
def s3_server() -> Iterator[S3]:
    """moto's S3 server on 127.0.0.1, with the test bucket."""
    import httpx

    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="newsdesk-moto-", suffix=".log", delete=False)
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(endpoint, timeout=2)
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise Unavailable(f"moto's server did not start: {Path(log.name).read_text()[-300:]}") from None
                time.sleep(0.2)
        found = S3(endpoint)
        found.client().create_bucket(Bucket=BUCKET)
        yield found
    finally:
        stop_group(server)
        os.unlink(log.name)


@dataclass(frozen=True)
class Dask:
    address: str


def extraction_tasks(address: str) -> int:
    """How many extraction tasks the Dask scheduler has recorded (its task-prefix counts outlive the tasks)."""
    from distributed import Client

    def count(dask_scheduler) -> int:
        prefix = dask_scheduler.task_prefixes.get("extract_texts_then_trim")
        return 0 if prefix is None else sum(prefix.state_counts.values())

    with Client(address, timeout=30) as client:
        return client.run_on_scheduler(count)


@contextmanager
def dask_cluster(workers: int = 2) -> Iterator[Dask]:
    """A real cluster: `dask scheduler` and `dask worker` with `workers` processes, one thread each."""
    bin_dir = Path(sys.executable).parent
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    scheduler = subprocess.Popen(
        [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
        **common,
    )
    worker = subprocess.Popen(
        [str(bin_dir / "dask"), "worker", address, "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard",
         "--memory-limit", "0"],
        **common,
    )  # fmt: skip
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield Dask(address)
    finally:
        for proc in (worker, scheduler):
            stop_group(proc)
