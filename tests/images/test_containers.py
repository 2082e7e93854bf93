"""The three images built and run for real: each alone as the task runs it, then the whole task.

Needs a Docker engine (tests/images/conftest.py starts one where it can, else these skip saying
what is missing). The images come from the same build contexts as `pulumi up`'s
(components/image_inputs.py), on the official base or, where it cannot be pulled, a stand-in.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from common import errors
from common.settings import GRACEFUL_SHUTDOWN_SECONDS
from local_stack import SERVICES, Service
from tests.e2e.test_local_stack import PROSE_TEXT, PROSE_TOKENS
from tests.images.task import HARDENING, LocalTask, TaskDefinition, customer_task, state
from tests.images.task import wait_healthy as wait_until_healthy
from tests.services.helpers import TEST_API_KEY, call
from tests.services.test_rake import PARITY_ROWS

pytestmark = pytest.mark.needs_docker
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


# ---- The task, locally -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def task_definition() -> TaskDefinition:
    return customer_task()


@pytest.fixture(scope="module")
def task(
    docker: str, images: dict[Service, str], task_definition: TaskDefinition
) -> Iterator[LocalTask]:
    by_name = {service.name: image for service, image in images.items()}
    with LocalTask(docker, task_definition, by_name, {"API_KEY": TEST_API_KEY}) as running:
        yield running


def _post(task: LocalTask, path: str, body: Any, key: str | None = TEST_API_KEY) -> Any:
    reply = call("POST", f"{task.url}{path}", json_body=body, key=key)
    return reply.status, reply.body


def test_task_starts_in_depends_on_order_with_only_the_edge_published(
    docker: str, task: LocalTask, task_definition: TaskDefinition
) -> None:
    started = {
        name: state(docker, task.name(name))["StartedAt"]
        for name in ("rake-app", "prose-app", "nlp-client")
    }
    assert max(started["rake-app"], started["prose-app"]) < started["nlp-client"]
    published = subprocess.run(
        [docker, "port", task.pause], capture_output=True, text=True, check=True
    ).stdout.split()
    assert (task_definition.ingress, published[0]) == ("nlp-client", "8080/tcp")
    assert len(published) == 3  # one mapping: "8080/tcp -> 127.0.0.1:<port>"


def test_task_keywords_equal_the_parity_fixture_through_the_edge(task: LocalTask) -> None:
    differing = []
    for index, row in enumerate(PARITY_ROWS):
        status, body = _post(task, "/keywords", {"text": row["text"]})
        if status != 200 or {k["candidate"]: k["score"] for k in body} != row["expected"]:
            differing.append(index)
    assert differing == []


def test_task_prose_routes_through_the_edge(task: LocalTask) -> None:
    assert _post(task, "/entities", {"text": PROSE_TEXT}) == (
        200,
        [{"text": "Barack Obama", "label": "PERSON"}, {"text": "Paris", "label": "GPE"}],
    )
    assert _post(task, "/sentences", {"text": PROSE_TEXT}) == (
        200,
        [{"text": "Barack Obama visited Paris."}, {"text": "It rained."}],
    )
    assert _post(task, "/tokens", {"text": PROSE_TEXT}) == (200, PROSE_TOKENS)


def test_task_refuses_a_wrong_key_and_an_oversized_body(task: LocalTask) -> None:
    assert _post(task, "/keywords", {"text": "x"}, key="wrong-key") == (
        401,
        {"message": errors.INVALID_KEY},
    )
    assert _post(task, "/keywords", {"text": "x" * 1_100_000}) == (
        413,
        {"message": errors.BODY_TOO_LARGE},
    )


def test_task_deep_health_checks_reach_both_upstreams(task: LocalTask) -> None:
    replies = [call("GET", f"{task.url}/health/{name}") for name in ("rake", "prose")]
    assert [(r.status, r.body) for r in replies] == [(200, {"status": "UP"})] * 2


def test_task_edge_answers_502_without_rake_app_and_recovers(docker: str, task: LocalTask) -> None:
    rake = task.name("rake-app")
    subprocess.run([docker, "kill", rake], capture_output=True, check=True)
    down = _post(task, "/keywords", {"text": "global system"})
    subprocess.run([docker, "start", rake], capture_output=True, check=True)
    wait_until_healthy(docker, rake)
    assert down == (502, {"message": errors.UPSTREAM_UNREACHABLE})
    assert _post(task, "/keywords", {"text": "global system"}) == (
        200,
        [{"candidate": "global system", "score": 4}],
    )


# Last: it stops the task.
def test_task_containers_stop_cleanly_within_the_drain(docker: str, task: LocalTask) -> None:
    stops = {}
    for name in ("nlp-client", "rake-app", "prose-app"):  # the reverse of the start order
        started = time.monotonic()
        stop = [docker, "stop", "--time", "30", task.name(name)]
        subprocess.run(stop, capture_output=True, check=True, timeout=60)
        stops[name] = (
            time.monotonic() - started < GRACEFUL_SHUTDOWN_SECONDS,
            state(docker, task.name(name))["ExitCode"],
        )
    # 143 = 128 + SIGTERM: after its graceful shutdown uvicorn re-raises the signal it caught
    # (uvicorn/server.py); a container killed at the end of `--time` would show 137.
    assert stops == dict.fromkeys(("nlp-client", "rake-app", "prose-app"), (True, 143))
