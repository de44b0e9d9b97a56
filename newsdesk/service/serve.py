"""Deployments (event trigger + cron sweep + nightly upkeep) and the process that runs them.

Prefect's own runner starts a fresh Python process for every flow run: about
5 s of imports and model loading before the first file is read. `newsdesk
serve` instead registers the same deployments and executes their flow runs in
one long-lived process, where the spaCy model, the DuckDB extensions and the
Prefect client stay warm. Runs still go through Prefect: they are created by
the server (schedule, event trigger, UI), claimed here, and their states,
logs, tasks and artifacts are reported as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from newsdesk.flows.runtime import in_process_run_settings
from newsdesk.service.watch import EVENT_NAME
from newsdesk.settings import Settings

log = logging.getLogger("newsdesk.serve")
INGEST_DEPLOYMENT = "ingest"
MAINTAIN_DEPLOYMENT = "maintain"
QUEUED_STATE = "AwaitingConcurrencySlot"  # Prefect's name for a run waiting on a deployment slot
QUEUED_LOOKAHEAD = timedelta(minutes=5)  # past any slot wait a server is likely to be set to


@dataclass(frozen=True)
class DeploymentSpec:
    """Pure description of a deployment: serve, prefect.yaml and the tests read this."""

    flow_name: str
    name: str
    entrypoint: str
    cron: str
    schedule_parameters: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    concurrency_limit: int | None = None
    collision_strategy: str | None = None
    tags: list[str] = field(default_factory=list)


def deployment_specs(settings: Settings) -> list[DeploymentSpec]:
    folders = {"seeds": str(settings.seeds_dir), "warehouse": str(settings.warehouse_dir)}
    return [
        DeploymentSpec(
            flow_name="ingest",
            name=INGEST_DEPLOYMENT,
            entrypoint="flows/ingest.py:ingest",
            cron=settings.sweep_cron,
            schedule_parameters={"trigger": "schedule"},
            parameters=folders,
            triggers=[
                {
                    "type": "event",
                    "enabled": True,
                    "expect": [EVENT_NAME],
                    "match": {"prefect.resource.id": "newsdesk.seeds.*"},
                    "parameters": {"paths": "{{ event.payload.paths }}", "trigger": "event"},
                }
            ],
            concurrency_limit=1,
            collision_strategy="ENQUEUE",
            tags=["newsdesk"],
        ),
        DeploymentSpec(
            flow_name="maintain",
            name=MAINTAIN_DEPLOYMENT,
            entrypoint="flows/maintain.py:maintain",
            cron=settings.maintain_cron,
            schedule_parameters={},
            parameters={"warehouse": str(settings.warehouse_dir)},
            concurrency_limit=1,
            collision_strategy="ENQUEUE",
            tags=["newsdesk"],
        ),
    ]


def runner_deployments(settings: Settings) -> list:
    """The specs as Prefect RunnerDeployments."""
    from prefect import Flow
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
    from prefect.schedules import Cron

    from newsdesk.flows.ingest import ingest
    from newsdesk.flows.maintain import maintain

    flows: dict[str, Flow[..., Any]] = {"ingest": ingest, "maintain": maintain}
    out = []
    for spec in deployment_specs(settings):
        triggers: list[Any] = [
            DeploymentEventTrigger(**{k: v for k, v in t.items() if k != "type"}) for t in spec.triggers
        ]
        out.append(
            flows[spec.flow_name].to_deployment(
                name=spec.name,
                schedule=Cron(spec.cron, parameters=spec.schedule_parameters),
                parameters=spec.parameters,
                triggers=triggers,
                concurrency_limit=ConcurrencyLimitConfig(
                    limit=spec.concurrency_limit,
                    collision_strategy=ConcurrencyLimitStrategy(spec.collision_strategy),
                ),
                tags=spec.tags,
            )
        )
    return out


def ingest_trigger_ids(client: Any) -> set[str]:
    """Ids of the enabled automations that run the ingest deployment on the watcher's
    event; empty while the deployment or its trigger is not registered. `client` is a
    sync Prefect client (it carries the API's address, auth and TLS settings); API
    errors propagate."""
    from prefect.exceptions import ObjectNotFound

    try:
        deployment = client.read_deployment_by_name(f"ingest/{INGEST_DEPLOYMENT}")
    except ObjectNotFound:
        return set()
    related = client.read_resource_related_automations(f"prefect.deployment.{deployment.id}")
    return {str(a.id) for a in related if a.enabled and EVENT_NAME in (getattr(a.trigger, "expect", None) or ())}


def ask_ingest_trigger_ids(api: str | None = None) -> set[str]:
    """`ingest_trigger_ids` of the API at `api` (default: PREFECT_API_URL), asked once:
    no client retries and a 5 s timeout, so a poll never stalls for minutes and a
    stop request is seen. Prefect's own client: the auth and TLS settings apply."""
    from prefect.client.orchestration import get_client
    from prefect.settings import (
        PREFECT_API_REQUEST_TIMEOUT,
        PREFECT_API_URL,
        PREFECT_CLIENT_MAX_RETRIES,
        temporary_settings,
    )

    updates: dict[Any, Any] = {PREFECT_CLIENT_MAX_RETRIES: 0, PREFECT_API_REQUEST_TIMEOUT: 5.0}
    if api is not None:
        updates[PREFECT_API_URL] = api
    with temporary_settings(updates=updates), get_client(sync_client=True) as client:
        return ingest_trigger_ids(client)


def serve(settings: Settings, stop=lambda: False) -> None:
    """Register the deployments, then execute their runs here, one at a time, until stopped."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateDetails
    from prefect.flow_engine import run_flow
    from prefect.states import Pending
    from prefect.utilities.engine import propose_state_sync

    from newsdesk.extraction.nlp import load_model
    from newsdesk.flows.ingest import ingest
    from newsdesk.flows.maintain import maintain

    load_model(settings.model)  # warm, so the first run pays nothing
    prepare_next_session(settings)
    flows = {"ingest": ingest, "maintain": maintain}
    deployments = _apply_with_retry(settings, stop)
    if deployments is None:
        return
    log.info("serving deployments %s", ", ".join(sorted(name for name in deployments.values())))
    with in_process_run_settings(), get_client(sync_client=True) as client:
        while not stop():
            try:
                now = datetime.now(UTC)
                runs = client.get_scheduled_flow_runs_for_deployments(
                    deployment_ids=list(deployments), scheduled_before=now + QUEUED_LOOKAHEAD, limit=20
                )
            except Exception as exc:  # server restarting: wait and poll again
                log.warning("cannot reach the Prefect API (%s); retrying", exc)
                _sleep(2.0, stop)
                continue
            due = [run for run in runs if is_due(run, now, settings.queued_retry_seconds)]
            for run in sorted(due, key=_start_order):
                if stop():
                    break
                if _is_queued(run) and not _slot_free(client, run.deployment_id):
                    continue  # asking now would only add a refused state to its history
                flow = flows[deployments[run.deployment_id]]
                executed = _execute(
                    client, run, flow, propose_state_sync, _pending_for(run, Pending, StateDetails), run_flow
                )
                if executed:
                    prepare_next_session(settings)  # the run took the spare
                    # Minutes may have passed: another serve may have run what the list
                    # holds, and a finished run can be claimed again. Poll afresh.
                    break
            _sleep(settings.serve_poll_seconds, stop)


def prepare_next_session(settings: Settings) -> None:
    """Load the next run's DuckDB extensions while serve waits for it, in a thread of
    its own (`lake.prepare_session`): opening the warehouse is then most of 0.3 s
    shorter, before the run's first file. On failure the run loads them itself."""
    from newsdesk.warehouse import lake

    def prepare() -> None:
        try:
            lake.prepare_session(settings)
        except Exception as exc:  # the run will say what is missing, in its own words
            log.warning("could not prepare the next warehouse session: %s", exc)

    # Not a daemon: at exit the interpreter waits for it (0.3 s) instead of stopping
    # it inside DuckDB's extension loading.
    threading.Thread(target=prepare, name="newsdesk-next-session").start()


def is_due(run: Any, now: datetime, queued_retry_seconds: float) -> bool:
    """A run whose start time has come, or one queued behind the deployment's slot
    (AwaitingConcurrencySlot) that was last refused `queued_retry_seconds` ago.

    The server puts a queued run off by its own slot wait, 30 s by default, however
    soon the slot frees: an event that came during a run then waited half a minute or
    more. serve claims it only once `_slot_free` says so."""
    start = _start_time(run)
    if start is None or start <= now:
        return True
    return (
        _is_queued(run)
        and run.state.timestamp is not None
        and (now - run.state.timestamp).total_seconds() >= queued_retry_seconds
    )


def _is_queued(run: Any) -> bool:
    return run.state is not None and run.state.name == QUEUED_STATE


def _slot_free(client, deployment_id) -> bool:
    """Whether the deployment's concurrency limit has a slot free now: a read, where a
    refused claim writes a state, an update and an event on the server."""
    try:
        limit = client.read_deployment(deployment_id).global_concurrency_limit
    except Exception:  # let the claim itself find out
        return True
    return limit is None or limit.active_slots < limit.limit


def _pending_for(run: Any, pending_state, state_details) -> Any:
    """The state that claims `run`. A queued run taken before the time the server put
    it off to gets its server-stamped expected start (already past), or the engine would
    wait until the put-off time to start it; any other run keeps its own time."""
    if _is_queued(run) and run.expected_start_time is not None:
        return pending_state(state_details=state_details(scheduled_time=run.expected_start_time))
    return pending_state()


def _execute(client, run, flow, propose_state_sync, pending, run_flow) -> bool:
    """Claim and execute one run; False when it was not ours to run."""
    try:
        state = propose_state_sync(client, pending, flow_run_id=run.id)
    except Exception as exc:  # another executor claimed it, or the server refused
        log.info("skipped flow run %s: %s", run.id, exc)
        return False
    if not state.is_pending():
        return False
    flow_run = client.read_flow_run(run.id)
    log.info("running %s (%s, flow run %s)", flow_run.name, flow.name, flow_run.id)
    try:
        run_flow(flow, flow_run=flow_run, parameters=flow_run.parameters, return_type="state")
    except Exception:  # the run's own state records the failure; keep serving
        log.exception("flow run %s failed", flow_run.name)
    return True


def _apply_with_retry(settings: Settings, stop) -> dict | None:
    """deployment id -> flow name, once the server accepts the deployments."""
    delay = 1.0
    while not stop():
        try:
            applied = {}
            for deployment in runner_deployments(settings):
                applied[deployment.apply()] = deployment.flow_name
            return applied
        except Exception as exc:
            log.warning("cannot register deployments (%s); retrying in %.0f s", exc, delay)
            _sleep(delay, stop)
            delay = min(delay * 2, 30)
    return None


def _sleep(seconds: float, stop) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop():
        time.sleep(min(0.1, seconds))


def _start_time(run: Any) -> datetime | None:
    return run.next_scheduled_start_time or run.expected_start_time


def _start_order(run: Any) -> float:
    """Oldest scheduled start first; a run without one (not expected) goes first."""
    when = _start_time(run)
    return when.timestamp() if when is not None else 0.0
