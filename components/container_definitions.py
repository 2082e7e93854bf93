"""Pure builder of an ECS task definition's `containerDefinitions` JSON.

Plain values in, plain dicts out: `FargateApp` resolves its `Output`s (image digests, the secret
ARN, the log group name) and hands them here, so every container document is unit-tested directly
(tests/infra/test_container_definitions.py). AWS spelling (`portMappings`, `valueFrom`, ...)
appears only in these JSON leaves, and keys whose value is `None` are dropped.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ContainerDefinition = dict[str, Any]

# The probe every image ships (services/common/healthcheck.py): it GETs
# http://127.0.0.1:<port>/health and exits 0 on `200`. The images have no curl or wget.
HEALTHCHECK_COMMAND: tuple[str, ...] = ("CMD", "python", "-m", "common.healthcheck")

# Sized for the slowest container: prose-app loads spaCy's pipeline in ~3-5 s before it listens.
# `startPeriod` absorbs that load (failures in it do not count); afterwards 3 misses 10 s apart
# mark a container UNHEALTHY within ~30 s. Limits: interval 5-300, timeout 2-60, retries 1-10,
# startPeriod 0-300 seconds.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
HEALTHCHECK_INTERVAL_SECONDS = 10
HEALTHCHECK_TIMEOUT_SECONDS = 5
HEALTHCHECK_RETRIES = 3
HEALTHCHECK_START_PERIOD_SECONDS = 30

# The services write nothing to disk: uvicorn serves from memory, spaCy reads its pipeline from
# site-packages, logs go to stdout (awslogs), and Python merely skips `__pycache__` writes it
# cannot make. A read-only root filesystem therefore costs nothing and stops an exploited process
# from dropping files into the image.
READONLY_ROOT_FILESYSTEM = True

# ECS's init process (tini) as PID 1: it passes ECS's SIGTERM on to the service. As PID 1 itself,
# a Python process ignores SIGTERM until it installs a handler (prose-app spends seconds loading
# spaCy first), and ECS would wait out its stop timeout, then SIGKILL. It also reaps zombies.
LINUX_PARAMETERS = {"initProcessEnabled": True}


@dataclass(frozen=True, kw_only=True)
class Container:
    """One container of the task, with every value already resolved to plain data."""

    name: str
    # Digest-pinned image URI (`<registry>/<repo>@sha256:...`).
    image: str
    # The port the process listens on; containers of a Fargate task share `localhost`.
    port: int
    # Default: no environment variables besides the secrets.
    environment: Mapping[str, str] = field(default_factory=dict)
    # Default: no secrets. Env var name -> Secrets Manager secret ARN, injected at start.
    secrets: Mapping[str, str] = field(default_factory=dict)
    # Default: starts at once. Containers that must be HEALTHY before this one starts.
    depends_on: Sequence[str] = ()
    # Default: essential, so the task stops (and is replaced) when this container dies.
    essential: bool = True


@dataclass(frozen=True, kw_only=True)
class LogSettings:
    """Where every container's stdout/stderr goes (the `awslogs` driver)."""

    group: str
    region: str


def health_check(port: int) -> dict[str, Any]:
    """The container health check probing `GET /health` on the container's own port."""
    return {
        "command": [*HEALTHCHECK_COMMAND, str(port)],
        "interval": HEALTHCHECK_INTERVAL_SECONDS,
        "timeout": HEALTHCHECK_TIMEOUT_SECONDS,
        "retries": HEALTHCHECK_RETRIES,
        "startPeriod": HEALTHCHECK_START_PERIOD_SECONDS,
    }


def container_definition(container: Container, logs: LogSettings) -> ContainerDefinition:
    """The `containerDefinitions` entry of one container.

    `Container(name="rake-app", image="r@sha256:1", port=8081, secrets={"API_KEY": arn})` ->
    `{"name": "rake-app", "image": "r@sha256:1", "essential": True, "portMappings":
    [{"containerPort": 8081, "protocol": "tcp"}], "secrets": [{"name":
    "API_KEY", "valueFrom": arn}], "healthCheck": {...}, "logConfiguration": {...}, ...}`.
    """
    definition: ContainerDefinition = {
        "name": container.name,
        "image": container.image,
        "essential": container.essential,
        # No mapping `name`: only Service Connect uses it (not used here), and ECS accepts only
        # lower-case letters, digits, `_` and `-` there, which container names need not be.
        # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
        "portMappings": [{"containerPort": container.port, "protocol": "tcp"}],
        "environment": [
            {"name": key, "value": value} for key, value in sorted(container.environment.items())
        ]
        or None,
        # Secrets are fetched by the execution role at start and never appear in the task
        # definition, `describe-tasks` or the console, unlike `environment`.
        "secrets": [
            {"name": key, "valueFrom": arn} for key, arn in sorted(container.secrets.items())
        ]
        or None,
        "healthCheck": health_check(container.port),
        "dependsOn": [
            {"containerName": name, "condition": "HEALTHY"} for name in container.depends_on
        ]
        or None,
        "readonlyRootFilesystem": READONLY_ROOT_FILESYSTEM,
        "linuxParameters": LINUX_PARAMETERS,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": logs.group,
                "awslogs-region": logs.region,
                "awslogs-stream-prefix": container.name,
            },
        },
    }
    return _drop_none(definition)


def container_definitions(
    containers: Sequence[Container], logs: LogSettings
) -> list[ContainerDefinition]:
    """The task definition's `containerDefinitions`, in the given order."""
    return [container_definition(container, logs) for container in containers]


def _drop_none(document: dict[str, Any]) -> dict[str, Any]:
    # AWS rejects or misreads explicit nulls; an absent key means "use the default".
    return {key: value for key, value in document.items() if value is not None}
