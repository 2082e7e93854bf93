"""The three images built and run for real: each alone as the task runs it, then the whole task.

Needs a Docker engine (tests/images/conftest.py starts one where it can, else these skip saying
what is missing). The images come from the same build contexts as `pulumi up`'s
(components/image_inputs.py), on the official base or, where it cannot be pulled, a stand-in.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

import pytest

from common import errors
from common.settings import GRACEFUL_SHUTDOWN_SECONDS
from local_stack import SERVICES, Service
from tests.images.compose_stack import ComposeStack, compose_command
from tests.images.task import HARDENING, LocalTask, TaskDefinition, customer_task, state
from tests.images.task import wait_healthy as wait_until_healthy
from tests.support.http import TEST_API_KEY, call
from tests.support.samples import PARITY_ROWS, PROSE_TEXT, PROSE_TOKENS

# The first test also waits for the session fixtures: the base image and three builds when cold.
pytestmark = [pytest.mark.needs_docker, pytest.mark.timeout(900)]
BY_SERVICE = [pytest.param(service, id=service.name) for service in SERVICES]
APP_USER_ID = "10001"


@pytest.fixture(scope="module")
def alone(docker: str, images: dict[Service, str]) -> Iterator[dict[Service, str]]:
    """Each image in its own container, started together, as the task runs it."""
    containers: dict[Service, str] = {}
    try:
        for service, image in images.items():
            run = [docker, "run", "--detach", "--read-only", "--init", *HARDENING]
            run += ["--env", f"API_KEY={TEST_API_KEY}", image]
            containers[service] = subprocess.run(
                run, capture_output=True, text=True, check=True, timeout=60
            ).stdout.strip()
        yield containers
    finally:
        if containers:
            remove = [docker, "rm", "--force", *containers.values()]
            subprocess.run(remove, capture_output=True, check=False, timeout=60)


@pytest.mark.parametrize("service", BY_SERVICE)
def test_image_runs_read_only_as_non_root_and_its_healthcheck_passes(
    docker: str, alone: dict[Service, str], service: Service
) -> None:
    container = alone[service]
    wait_until_healthy(docker, container)  # the image's own HEALTHCHECK
    user = subprocess.run(
        [docker, "exec", container, "python", "-c", "import os; print(os.getuid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    write = subprocess.run(
        [docker, "exec", container, "python", "-c", "open('/app/x', 'w')"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (state(docker, container)["Health"]["Status"], user) == ("healthy", APP_USER_ID)
    assert "Read-only file system" in write.stderr


@pytest.mark.parametrize("service", BY_SERVICE)
def test_runtime_venv_holds_no_installer_test_suites_or_build_tools(
    docker: str, images: dict[Service, str], service: Service
) -> None:
    script = (
        "import importlib.util as u, pathlib, shutil, sysconfig;"
        "site = pathlib.Path(sysconfig.get_paths()['purelib']);"
        "print([m for m in ('pip', 'setuptools', 'wheel') if u.find_spec(m)],"
        " sorted(str(p.relative_to(site)) for p in site.rglob('tests') if p.is_dir()),"
        " [t for t in ('strip', 'ld', 'gcc') if shutil.which(t)])"
    )
    found = subprocess.run(
        [docker, "run", "--rm", "--read-only", "--entrypoint", "python", images[service]]
        + ["-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert found == "[] [] []"


# ---- The task, locally, and compose.yaml ---------------------------------------------------------


@pytest.fixture(scope="module")
def task_definition() -> TaskDefinition:
    return customer_task()


class Running(Protocol):
    url: str

    def container(self, service: str) -> str: ...


@pytest.fixture(scope="module", params=["task", "compose"])
def api(
    request: pytest.FixtureRequest,
    docker: str,
    base: str,
    images: dict[Service, str],
    task_definition: TaskDefinition,
) -> Iterator[Running]:
    """The three containers as the task runs them, then as services/compose.yaml runs them."""
    running: contextlib.AbstractContextManager[Running]
    if request.param == "task":
        by_name = {service.name: image for service, image in images.items()}
        running = LocalTask(docker, task_definition, by_name, {"API_KEY": TEST_API_KEY})
    else:
        compose = compose_command(docker)
        if compose is None:
            pytest.skip("no compose implementation (docker-compose or the docker compose plugin)")
        running = ComposeStack(docker, compose, base, TEST_API_KEY)
    with running as started:
        yield started


def instant(text: str) -> datetime:
    """A docker timestamp (RFC 3339 with up to 9 fraction digits) as a datetime."""
    found = re.fullmatch(r"([0-9-]+T[0-9:]+)(?:\.(\d+))?(Z|[+-][0-9:]+)", text)
    assert found, text
    whole, fraction, zone = found.groups()
    return datetime.fromisoformat(
        f"{whole}.{(fraction or '')[:6]:0<6}{zone.replace('Z', '+00:00')}"
    )


def _post(task: Running, path: str, body: Any, key: str | None = TEST_API_KEY) -> Any:
    reply = call("POST", f"{task.url}{path}", json_body=body, key=key)
    return reply.status, reply.body


def test_edge_starts_after_its_upstreams_are_healthy_and_only_it_is_published(
    docker: str, api: Running, task_definition: TaskDefinition
) -> None:
    containers = {name: api.container(name) for name in ("rake-app", "prose-app", "nlp-client")}
    if isinstance(api, LocalTask):  # the pause container holds the task's network and ports
        containers["network"] = api.pause
        assert task_definition.ingress == "nlp-client"
    states = {name: state(docker, container) for name, container in containers.items()}
    upstreams_healthy = max(
        min(
            instant(probe["End"])
            for probe in states[name]["Health"]["Log"]
            if not probe["ExitCode"]
        )
        for name in ("rake-app", "prose-app")
    )
    assert upstreams_healthy < instant(states["nlp-client"]["StartedAt"])
    published = {
        name: subprocess.run(
            [docker, "port", container], capture_output=True, text=True, check=True
        ).stdout.split()
        for name, container in containers.items()
    }
    edge = "network" if isinstance(api, LocalTask) else "nlp-client"
    assert {name: ports[:2] for name, ports in published.items() if ports} == {
        edge: ["8080/tcp", "->"]
    }
    assert published[edge][2].startswith("127.0.0.1:")


def test_keywords_equal_the_parity_fixture_through_the_edge(api: Running) -> None:
    differing = []
    for index, row in enumerate(PARITY_ROWS):
        status, body = _post(api, "/keywords", {"text": row["text"]})
        if status != 200 or {k["candidate"]: k["score"] for k in body} != row["expected"]:
            differing.append(index)
    assert differing == []


def test_prose_routes_through_the_edge(api: Running) -> None:
    assert _post(api, "/entities", {"text": PROSE_TEXT}) == (
        200,
        [{"text": "Barack Obama", "label": "PERSON"}, {"text": "Paris", "label": "GPE"}],
    )
    assert _post(api, "/sentences", {"text": PROSE_TEXT}) == (
        200,
        [{"text": "Barack Obama visited Paris."}, {"text": "It rained."}],
    )
    assert _post(api, "/tokens", {"text": PROSE_TEXT}) == (200, PROSE_TOKENS)


def test_edge_refuses_a_wrong_key_and_an_oversized_body(api: Running) -> None:
    assert _post(api, "/keywords", {"text": "x"}, key="wrong-key") == (
        401,
        {"message": errors.INVALID_KEY},
    )
    assert _post(api, "/keywords", {"text": "x" * 1_100_000}) == (
        413,
        {"message": errors.BODY_TOO_LARGE},
    )


def test_deep_health_checks_reach_both_upstreams(api: Running) -> None:
    replies = [call("GET", f"{api.url}/health/{name}") for name in ("rake", "prose")]
    assert [(r.status, r.body) for r in replies] == [(200, {"status": "UP"})] * 2


def test_edge_answers_502_without_rake_app_and_recovers(docker: str, api: Running) -> None:
    rake = api.container("rake-app")
    subprocess.run([docker, "kill", rake], capture_output=True, check=True)
    down = _post(api, "/keywords", {"text": "global system"})
    subprocess.run([docker, "start", rake], capture_output=True, check=True)
    # Back as soon as rake-app listens: the edge's pool reconnects on its next request (under
    # compose, once its DNS cache of rake-app's address expires, if the address changed).
    deadline = time.monotonic() + 60
    while (up := _post(api, "/keywords", {"text": "global system"}))[0] != 200:
        assert time.monotonic() < deadline, up
        time.sleep(0.5)
    # In the task (one network namespace, as on Fargate) rake-app's port refuses at once. On
    # compose's bridge network the edge still holds rake-app's old address (its DNS cache) and
    # a connection to an address nobody answers for runs into the edge's connect timeout.
    assert down == (
        (502, {"message": errors.UPSTREAM_UNREACHABLE})
        if isinstance(api, LocalTask)
        else (504, {"message": errors.UPSTREAM_TIMEOUT})
    )
    assert up == (200, [{"candidate": "global system", "score": 4}])


# Last: it stops the api.
def test_containers_stop_cleanly_within_the_drain(docker: str, api: Running) -> None:
    stops = {}
    for name in ("nlp-client", "rake-app", "prose-app"):  # the reverse of the start order
        started = time.monotonic()
        stop = [docker, "stop", "--time", "30", api.container(name)]
        subprocess.run(stop, capture_output=True, check=True, timeout=60)
        stops[name] = (
            time.monotonic() - started < GRACEFUL_SHUTDOWN_SECONDS,
            state(docker, api.container(name))["ExitCode"],
        )
    # 143 = 128 + SIGTERM: after its graceful shutdown uvicorn re-raises the signal it caught
    # (uvicorn/server.py); a container killed at the end of `--time` would show 137.
    assert stops == dict.fromkeys(("nlp-client", "rake-app", "prose-app"), (True, 143))
