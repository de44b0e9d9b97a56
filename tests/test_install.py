"""newsdesk installs like a library: a wheel, built from a clean copy of the repository,
installed non-editable in a fresh venv and used from folders that are not the repository.

One venv for the whole module (installing takes a minute or more). The tests share one
workspace and run in file order; the relocation test, which moves the warehouse, comes last.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers import ROOT, SAMPLE

pytestmark = pytest.mark.slow

PACKAGE_DATA = (
    "newsdesk/warehouse/schema.sql",
    "newsdesk/warehouse/sql/insert_articles.sql",
    "newsdesk/warehouse/reports/who_said_what.sql",
    "newsdesk/warehouse/checks/empty_claim_content.sql",
    "newsdesk/extraction/aliases.csv",
    "newsdesk/extraction/sports_orgs.csv",
    "newsdesk/extraction/first_names.csv",
    "newsdesk/py.typed",
)
# Files the build must not take from the repository: they are not package code.
NOT_SHIPPED = re.compile(r"^(flows|tests|bench|deploy|seeds|warehouse)/")
NEW_ARTICLE = (
    "Harbor bridge to reopen in May\n"
    "The mayor said on Tuesday that the harbor bridge would reopen in May. "
    "Engineers finished replacing the cables last week, according to the city's transport office. "
    '"We owe the commuters an apology for the delay," said Councillor Dana Whitfield.\n'
)


@dataclass
class Venv:
    root: Path
    wheel: Path
    site_packages: Path
    pristine: set[str] = field(repr=False)  # every file in the venv right after installing

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> str:
        return str(self.bin / "python")

    @property
    def newsdesk(self) -> str:
        return str(self.bin / "newsdesk")


def run(
    args: list[str | Path],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    expect: int | None = 0,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if expect is not None:
        assert result.returncode == expect, describe(result)
    return result


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"`{' '.join(result.args)}` exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
    )


def source_copy(destination: Path) -> Path:
    """The repository's files as a clean clone plus uncommitted work would have them
    (tracked and untracked, not ignored ones): building there leaves no build/ folder in
    the repository, and no stale build/lib or .egg-info can slip files into the wheel."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
    )
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.split("\0")):
            source = ROOT / name
            if source.is_file():  # a file deleted but not yet staged is still listed
                (destination / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination / name)
    else:  # not a git checkout: everything but what .gitignore names
        shutil.copytree(
            ROOT,
            destination,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(
                ".git",
                ".venv",
                "build",
                "dist",
                "*.egg-info",
                "__pycache__",
                "*.pyc",
                ".pytest_cache",
                ".prefect",
                "bench-results",
                "catalog.sqlite*",
                "lake",
            ),
        )
    return destination


def user_env(home: Path, venv: Venv) -> dict[str, str]:
    """A user's shell: no PYTHONPATH, no newsdesk or Prefect settings (the test session's
    PREFECT_HOME included), the venv's binaries first on PATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NEWSDESK_", "PREFECT_"))
        and k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"}
    }
    env["PATH"] = f"{venv.bin}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(home)  # nothing may depend on, or be written to, the real home
    # The one exception, as in conftest.py: a developer's own `newsdesk up` must not receive the tests' runs.
    env["NEWSDESK_USE_RUNNING_SERVER"] = "false"
    return env


def files_under(folder: Path) -> set[str]:
    """Every file under `folder` but byte-code caches, as relative paths."""
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if not p.is_dir() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def parquet_files(folder: Path) -> set[Path]:
    return set(folder.rglob("*.parquet"))


def csv_rows(text: str) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(text)))


@pytest.fixture(scope="module")
def scratch():
    """The module's temporary folder (venv, workspaces), removed at the end."""
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-install-")).resolve()
    assert not folder.is_relative_to(ROOT)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def venv(scratch: Path) -> Venv:
    """The wheel, built with this interpreter, installed non-editable in a fresh venv with the
    repository's constraints."""
    source = source_copy(scratch / "source")
    wheels = scratch / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", wheels, source], cwd=scratch, timeout=600)
    built = sorted(wheels.glob("newsdesk-*.whl"))
    assert len(built) == 1, f"expected one newsdesk wheel in {wheels}, found {[w.name for w in built]}"
    root = scratch / "venv"
    run([sys.executable, "-m", "venv", root], cwd=scratch, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    run([root / "bin" / "pip", "install", "-c", ROOT / "constraints.txt", built[0]], cwd=scratch, env=env, timeout=1800)
    site = run(
        [root / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=scratch,
        env=env,
    ).stdout.strip()
    return Venv(root, built[0], Path(site), files_under(root))


@pytest.fixture(scope="module")
def home(scratch: Path) -> Path:
    folder = scratch / "home"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def env(venv: Venv, home: Path) -> dict[str, str]:
    return user_env(home, venv)


@pytest.fixture(scope="module")
def workspace(scratch: Path) -> Path:
    """An analyst's folder, not the repository, holding seeds/ with the sample article."""
    folder = scratch / "analyst"
    (folder / "seeds").mkdir(parents=True)
    shutil.copy(SAMPLE, folder / "seeds" / SAMPLE.name)
    return folder


@pytest.fixture(scope="module")
def ingested(venv: Venv, env: dict[str, str], workspace: Path) -> subprocess.CompletedProcess[str]:
    """`newsdesk ingest --seeds seeds --warehouse wh`, run once from the workspace."""
    return run([venv.newsdesk, "ingest", "--seeds", "seeds", "--warehouse", "wh"], cwd=workspace, env=env, expect=None)


def test_wheel_installs_cleanly(venv: Venv, scratch: Path) -> None:
    with zipfile.ZipFile(venv.wheel) as wheel:
        names = set(wheel.namelist())
    missing = [name for name in PACKAGE_DATA if name not in names]
    assert not missing, f"package data missing from {venv.wheel.name}: {missing}"
    stray = sorted(name for name in names if NOT_SHIPPED.match(name))
    assert not stray, f"repository files that are not the package went into the wheel: {stray[:10]}"
    checked = run([venv.bin / "pip", "check"], cwd=scratch, expect=None)
    assert checked.returncode == 0 and "No broken requirements" in checked.stdout, describe(checked)
    # installed as files in site-packages, not as a link back to the repository
    assert (venv.site_packages / "newsdesk" / "warehouse" / "schema.sql").is_file()
    links = [p.name for p in venv.site_packages.iterdir() if p.suffix == ".pth" and "newsdesk" in p.name.lower()]
    assert not links, f"an editable install's path hook is in site-packages: {links}"


def test_version(venv: Venv, env: dict[str, str], workspace: Path) -> None:
    expected = run(
        [venv.python, "-c", "import newsdesk; print(newsdesk.__version__)"], cwd=workspace, env=env
    ).stdout.strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", expected), expected
    result = run([venv.newsdesk, "--version"], cwd=workspace, env=env)
    assert result.stdout.split() == ["newsdesk", expected], describe(result)


def test_ingest_from_another_folder(
    venv: Venv, ingested: subprocess.CompletedProcess[str], workspace: Path, home: Path
) -> None:
    assert ingested.returncode == 0, describe(ingested)
    assert re.search(r"Ingested: 1 articles added\b", ingested.stdout), describe(ingested)
    assert (workspace / "wh" / "catalog.sqlite").is_file(), describe(ingested)
    assert parquet_files(workspace / "wh" / "lake"), f"no Parquet under {workspace / 'wh' / 'lake'}"
    # runtime state under the working directory ...
    assert (workspace / ".prefect").is_dir(), (
        f"no ./.prefect in {workspace}: {sorted(os.listdir(workspace))}\n" + describe(ingested)
    )
    assert not (home / ".prefect").exists(), "Prefect wrote its state under $HOME, not ./.prefect"
    # ... and nothing inside the venv, the installed package included
    written = sorted(files_under(venv.root) - venv.pristine)
    assert not written, f"running newsdesk wrote into the venv {venv.root}: {written[:20]}"
    for name in (".prefect", "wh", "seeds", "warehouse/catalog.sqlite", "warehouse/lake"):
        assert not (venv.site_packages / name).exists(), f"{name} was created in site-packages"
        assert not (venv.site_packages / "newsdesk" / name).exists(), f"{name} was created in the package"


def test_report_who_said_what_jsonl(venv: Venv, env: dict[str, str], workspace: Path, ingested) -> None:
    result = run(
        [venv.newsdesk, "report", "who_said_what", "--warehouse", "wh", "--format", "jsonl"], cwd=workspace, env=env
    )
    lines = result.stdout.splitlines()
    assert len(lines) >= 5, describe(result)  # the sample article has 10 attributed statements
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            pytest.fail(f"not a JSON line ({exc}): {line!r}\n{describe(result)}")
    for row in rows:
        assert isinstance(row, dict) and {"speaker", "speaker_as_written", "cue", "content"} <= row.keys(), row
    assert any("Rutte" in (row["speaker"] or "") for row in rows), describe(result)


def test_connect_from_python(venv: Venv, env: dict[str, str], workspace: Path, ingested) -> None:
    code = (
        "import newsdesk; con = newsdesk.connect('wh'); "
        "print(con.sql('select count(*) from claims').fetchone()[0]); print(newsdesk.__file__)"
    )
    result = run([venv.python, "-c", code], cwd=workspace, env=env)
    count, module_file = result.stdout.split()[-2:]
    assert int(count) > 0, describe(result)
    # the installed copy, not the repository's
    assert Path(module_file).resolve().is_relative_to(venv.site_packages.resolve()), describe(result)


def test_builtin_reports_listed(venv: Venv, env: dict[str, str], workspace: Path) -> None:
    result = run([venv.python, "-m", "newsdesk", "reports"], cwd=workspace, env=env)
    for name in ("top_entities", "who_said_what", "claims_by_speaker"):
        assert name in result.stdout, describe(result)
    assert "built-in" in result.stdout, describe(result)


def test_own_reports(venv: Venv, env: dict[str, str], workspace: Path, ingested) -> None:
    reports = workspace / "wh" / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "my_report.sql").write_text("-- How many articles?\nselect count(*) as n from articles\n")
    (reports / "top_entities.sql").write_text("select 'mine' as who\n")

    listed = run([venv.newsdesk, "reports", "--warehouse", "wh"], cwd=workspace, env=env)
    assert "my_report" in listed.stdout and "top_entities" in listed.stdout, describe(listed)

    mine = run([venv.newsdesk, "report", "my_report", "--warehouse", "wh", "-f", "csv"], cwd=workspace, env=env)
    assert csv_rows(mine.stdout) == [["n"], ["1"]], describe(mine)

    overridden = run(
        [venv.newsdesk, "report", "top_entities", "--warehouse", "wh", "-f", "csv"], cwd=workspace, env=env
    )
    assert csv_rows(overridden.stdout) == [["who"], ["mine"]], describe(overridden)


# Reads real column data: a bare count(*) is answered from the catalog's statistics
# without opening a single Parquet file, so it would pass with the data path broken.
PROBE = "select count(*) as n, sum(length(title)) as chars, count(distinct article_id) as ids from articles"


def test_relocated_warehouse(venv: Venv, env: dict[str, str], workspace: Path, scratch: Path, ingested) -> None:
    """The warehouse folder can be moved or copied: its data path follows the folder."""
    original = workspace / "wh"
    before = run([venv.newsdesk, "sql", PROBE, "--warehouse", original, "-f", "csv"], cwd=workspace, env=env)
    before_rows = csv_rows(before.stdout)
    assert before_rows[1][0] == "1", describe(before)

    moved = scratch / "elsewhere" / "moved-wh"
    moved.parent.mkdir()
    shutil.move(original, moved)
    copy = scratch / "third" / "copied-wh"
    shutil.copytree(moved, copy)
    assert not original.exists()

    other_cwd = scratch / "another-cwd"
    other_cwd.mkdir()
    after = run([venv.newsdesk, "sql", PROBE, "--warehouse", moved, "-f", "csv"], cwd=other_cwd, env=env)
    assert csv_rows(after.stdout) == before_rows, describe(after)

    code = (
        "import sys, newsdesk; con = newsdesk.connect(sys.argv[1]); "
        f"print(','.join(map(str, con.sql({PROBE!r}).fetchone())))"
    )
    copied = run([venv.python, "-c", code, copy], cwd=other_cwd, env=env)
    assert copied.stdout.strip().split(",") == before_rows[1], describe(copied)

    # A write to the moved warehouse lands in the moved folder.
    seeds = workspace / "seeds"
    (seeds / "harbor_bridge.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    parquet_before = parquet_files(moved)
    again = run([venv.newsdesk, "ingest", "--seeds", seeds, "--warehouse", moved], cwd=other_cwd, env=env)
    assert re.search(r"Ingested: 1 articles added\b", again.stdout), describe(again)
    assert not original.exists(), f"the ingest recreated the old warehouse path {original}: " + str(
        sorted(str(p.relative_to(original)) for p in original.rglob("*"))
    )
    assert parquet_files(moved) - parquet_before, f"no new Parquet file under {moved}"

    titles = run(
        [venv.newsdesk, "sql", "select title from articles order by title", "--warehouse", moved, "-f", "csv"],
        cwd=other_cwd,
        env=env,
    )
    assert [r[0] for r in csv_rows(titles.stdout)[1:]] == sorted(
        [NEW_ARTICLE.splitlines()[0], "South Korea vows to respond to North Korea aiding Russia"]
    ), describe(titles)
    claims = run(
        [
            venv.newsdesk,
            "sql",
            "select count(*) from claims c join articles a using (article_id) "
            "where a.title like 'Harbor bridge%' and length(c.content) > 0",
            "--warehouse",
            moved,
            "-f",
            "csv",
        ],
        cwd=other_cwd,
        env=env,
    )
    assert int(csv_rows(claims.stdout)[1][0]) >= 1, describe(claims)

    # Every data file the catalog lists is in the moved folder and exists.
    listed = run(
        [
            venv.newsdesk,
            "sql",
            "select data_file from ducklake_list_files('news', 'articles')",
            "--warehouse",
            moved,
            "-f",
            "csv",
        ],
        cwd=other_cwd,
        env=env,
    )
    data_files = [Path(r[0]) for r in csv_rows(listed.stdout)[1:]]
    assert len(data_files) >= 2, describe(listed)
    outside = [str(p) for p in data_files if not (p.is_relative_to(moved) and p.is_file())]
    assert not outside, f"data files not in {moved}: {outside}"

    # The copy is its own warehouse: the write to the moved one did not reach it.
    untouched = run([venv.newsdesk, "sql", PROBE, "--warehouse", copy, "-f", "csv"], cwd=other_cwd, env=env)
    assert csv_rows(untouched.stdout) == before_rows, describe(untouched)
