"""The customer's Fargate task, run locally with docker from the task definition the program builds.

`customer_task()` runs the real `__main__.py` for the customer stack under the mocks and returns
its `containerDefinitions` and the load balancer's container; `LocalTask` turns each definition
into a `docker run`, as Fargate runs it:

- one network namespace for the task (awsvpc mode): a pause container holds it and publishes only
  the load balancer's container port, and every container joins it (`--network container:`),
  so they reach each other on localhost exactly as the task's environment says;
- start order from `dependsOn` (a container starts once those it depends on are HEALTHY), the
  definition's `environment`, its `secrets` given as plain variables (locally there is no
  Secrets Manager), its `healthCheck`, `readonlyRootFilesystem`, `initProcessEnabled`;
- and what Fargate's platform adds or what we add on top: the image's non-root user, all
  capabilities dropped, no new privileges.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.infra.app_helpers import container_definitions_of
from tests.infra.harness import only, run_stack

HARDENING = ("--cap-drop", "ALL", "--security-opt", "no-new-privileges")
HEALTHY_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class TaskDefinition:
    containers: list[dict[str, Any]]
    # The load balancer's target: the only published port.
    ingress: str
    ingress_port: int


def customer_task() -> TaskDefinition:
    run = run_stack("customer")
    service = only(run.resources, "aws:ecs/service:Service").inputs
    target = service["loadBalancers"][0]
    return TaskDefinition(
        containers=container_definitions_of(run),
        ingress=target["containerName"],
        ingress_port=int(target["containerPort"]),
    )


def docker_json(docker: str, *args: str) -> Any:
    result = subprocess.run([docker, *args], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(result.stdout)


def state(docker: str, container: str) -> dict[str, Any]:
    """`docker inspect`'s State of one container (Status, ExitCode, Health...)."""
    found: dict[str, Any] = docker_json(docker, "inspect", "--format", "{{json .State}}", container)
    return found


def wait_healthy(docker: str, container: str, timeout: float = HEALTHY_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while True:
        current = state(docker, container)
        health = current.get("Health", {}).get("Status")
        if health == "healthy":
            return
        if current["Status"] != "running" or time.monotonic() > deadline:
            logs = subprocess.run(
                [docker, "logs", "--tail", "20", container], capture_output=True, text=True
            )
            raise AssertionError(
                f"{container}: {current['Status']}, health {health}\n{logs.stdout}{logs.stderr}"
            )
        time.sleep(0.5)


def _health_flags(check: Mapping[str, Any]) -> list[str]:
    kind, *command = check["command"]
    assert kind == "CMD", check  # docker run takes the shell form; CMD words quoted for it
    return [
        f"--health-cmd={shlex.join(command)}",
        f"--health-interval={check['interval']}s",
        f"--health-timeout={check['timeout']}s",
        f"--health-retries={check['retries']}",
        f"--health-start-period={check['startPeriod']}s",
    ]


def start_order(containers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The definitions in an order where each comes after everything it depends on."""
    ordered: list[dict[str, Any]] = []
    pending = list(containers)
    while pending:
        ready = [
            c
            for c in pending
            if {d["containerName"] for d in c.get("dependsOn", [])} <= {o["name"] for o in ordered}
        ]
        assert ready, f"dependsOn cycle among {[c['name'] for c in pending]}"
        ordered += ready
        pending = [c for c in pending if c not in ready]
    return ordered


class LocalTask:
    """`with LocalTask(docker, task, images, secrets) as running:`; removed on exit."""

    def __init__(
        self,
        docker: str,
        task: TaskDefinition,
        images: Mapping[str, str],
        secrets: Mapping[str, str],
    ) -> None:
        self.docker, self.task, self.images, self.secrets = docker, task, images, secrets
        self.prefix = f"task-{uuid.uuid4().hex[:8]}"
        self.pause = f"{self.prefix}-pause"
        self.started: list[str] = []
        self.url = ""

    def container(self, container: str) -> str:
        return f"{self.prefix}-{container}"

    def _docker(self, *args: str) -> str:
        result = subprocess.run(
            [self.docker, *args], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, f"docker {args[0]}: {result.stderr}"
        return result.stdout.strip()

    def __enter__(self) -> LocalTask:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        any_image = next(iter(self.images.values()))
        port = str(self.task.ingress_port)
        self._docker(
            "run", "--detach", "--name", self.pause, "--init", "--read-only", *HARDENING,
            "--publish", f"127.0.0.1::{port}", "--entrypoint", "python", any_image,
            "-c", "import signal; signal.pause()",
        )  # fmt: skip
        self.started.append(self.pause)
        host_port = self._docker("port", self.pause, f"{port}/tcp").splitlines()[0]
        self.url = f"http://{host_port}"
        for container in start_order(self.task.containers):
            for dependency in container.get("dependsOn", []):
                assert dependency["condition"] == "HEALTHY"
                wait_healthy(self.docker, self.container(dependency["containerName"]))
            self._run(container)
        wait_healthy(self.docker, self.container(self.task.ingress))

    def _run(self, container: Mapping[str, Any]) -> None:
        environment = {e["name"]: e["value"] for e in container.get("environment", [])}
        environment.update({s["name"]: self.secrets[s["name"]] for s in container["secrets"]})
        flags = [f"--env={key}={value}" for key, value in sorted(environment.items())]
        if container.get("readonlyRootFilesystem"):
            flags.append("--read-only")
        if container.get("linuxParameters", {}).get("initProcessEnabled"):
            flags.append("--init")
        name = self.container(container["name"])
        self._docker(
            "run", "--detach", "--name", name, f"--network=container:{self.pause}",
            *HARDENING, *flags, *_health_flags(container["healthCheck"]),
            self.images[container["name"]],
        )  # fmt: skip
        self.started.append(name)

    def __exit__(self, *exc: object) -> None:
        if self.started:
            subprocess.run(
                [self.docker, "rm", "--force", "--volumes", *reversed(self.started)],
                capture_output=True,
                check=False,
                timeout=120,
            )
