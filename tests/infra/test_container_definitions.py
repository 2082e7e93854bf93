from __future__ import annotations

import re

from components.container_definitions import (
    Container,
    LogSettings,
    container_definition,
    container_definitions,
)

SECRET_ARN = "arn:aws:secretsmanager:us-west-2:999988887777:secret:api-key-AbCdEf"
LOGS = LogSettings(group="/ecs/app", region="us-west-2")


def test_container_definition_full_container_renders_every_aws_key() -> None:
    container = Container(
        name="nlp-client",
        image="999988887777.dkr.ecr.us-west-2.amazonaws.com/nlp-client@sha256:abc",
        port=8080,
        environment={"RAKE_ENDPOINT": "http://localhost:8081", "PROSE_ENDPOINT": "x"},
        secrets={"API_KEY": SECRET_ARN},
        depends_on=["rake-app", "prose-app"],
    )

    assert container_definition(container, LOGS) == {
        "name": "nlp-client",
        "image": "999988887777.dkr.ecr.us-west-2.amazonaws.com/nlp-client@sha256:abc",
        "essential": True,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
        "environment": [
            {"name": "PROSE_ENDPOINT", "value": "x"},
            {"name": "RAKE_ENDPOINT", "value": "http://localhost:8081"},
        ],
        "secrets": [{"name": "API_KEY", "valueFrom": SECRET_ARN}],
        "healthCheck": {
            "command": ["CMD", "python", "-m", "common.healthcheck", "8080"],
            "interval": 10,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 30,
        },
        "dependsOn": [
            {"containerName": "rake-app", "condition": "HEALTHY"},
            {"containerName": "prose-app", "condition": "HEALTHY"},
        ],
        "readonlyRootFilesystem": True,
        "linuxParameters": {"initProcessEnabled": True},
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": "/ecs/app",
                "awslogs-region": "us-west-2",
                "awslogs-stream-prefix": "nlp-client",
            },
        },
    }


def test_container_definition_without_env_secrets_or_dependencies_drops_those_keys() -> None:
    definition = container_definition(
        Container(name="rake-app", image="r@sha256:1", port=8081), LOGS
    )

    assert sorted(definition) == [
        "essential",
        "healthCheck",
        "image",
        "linuxParameters",
        "logConfiguration",
        "name",
        "portMappings",
        "readonlyRootFilesystem",
    ]


def test_container_definition_health_check_probes_the_containers_own_port() -> None:
    definition = container_definition(Container(name="prose-app", image="p", port=8082), LOGS)

    assert definition["healthCheck"]["command"] == [
        "CMD",
        "python",
        "-m",
        "common.healthcheck",
        "8082",
    ]


def test_container_definition_non_essential_container_says_so() -> None:
    definition = container_definition(
        Container(name="sidecar", image="s", port=9000, essential=False), LOGS
    )

    assert definition["essential"] is False


def test_container_definitions_keeps_order_and_gives_each_its_own_log_prefix() -> None:
    containers = [
        Container(name="b", image="b@sha256:2", port=8082),
        Container(name="a", image="a@sha256:1", port=8081),
    ]

    definitions = container_definitions(containers, LOGS)

    assert [
        (d["name"], d["logConfiguration"]["options"]["awslogs-stream-prefix"]) for d in definitions
    ] == [
        ("b", "b"),
        ("a", "a"),
    ]


# ECS's rule for a port mapping's `name`: lower-case letters, digits, `_` and `-`, at most 64
# characters, not starting with `-`. Container names may be up to 255 of [A-Za-z0-9_-].
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
PORT_MAPPING_NAME = re.compile(r"[a-z0-9_][a-z0-9_-]{0,63}")


def test_container_definition_port_mappings_are_valid_for_any_container_name() -> None:
    # Names the config accepts (components.aws_values.CONTAINER_NAME) that the mapping rule does
    # not: upper case, a leading hyphen, more than 64 characters.
    names = ["Edge_Proxy", "-edge", "e" * 200]

    mappings = [
        mapping
        for name in names
        for mapping in container_definition(
            Container(name=name, image="r@sha256:1", port=8081), LOGS
        )["portMappings"]
    ]

    assert mappings == [{"containerPort": 8081, "protocol": "tcp"}] * 3
    assert [
        m["name"] for m in mappings if not PORT_MAPPING_NAME.fullmatch(m.get("name", "ok"))
    ] == []
