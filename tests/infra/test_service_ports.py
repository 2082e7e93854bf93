"""A container's `port` moves the process: the stack sets the services' own port variables and
the edge's upstream URLs from the configured ports, and refuses an `environment` that disagrees."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import HttpUrl

from common.settings import (
    NLP_CLIENT_PORT_ENV,
    PROSE_ENDPOINT_ENV,
    PROSE_PORT_ENV,
    RAKE_ENDPOINT_ENV,
    RAKE_PORT_ENV,
    NlpClientSettings,
    ProseSettings,
    RakeSettings,
    ServiceSettings,
)
from components.service_ports import PORT_VARIABLES, UPSTREAM_VARIABLES, derived_environment
from tests.infra.app_helpers import container_definitions_of, health_check
from tests.infra.harness import PROJECT, StackRun, only, run_stack, stack_config

# The customer's three containers on other ports than the images' defaults (8080-8082).
MOVED_PORTS = {"nlp-client": 9080, "rake-app": 9081, "prose-app": 9082}
SERVICES: dict[str, type[ServiceSettings]] = {
    "nlp-client": NlpClientSettings,
    "rake-app": RakeSettings,
    "prose-app": ProseSettings,
}


def customer_app(ports: dict[str, int], **environment: dict[str, str]) -> dict[str, Any]:
    """Pulumi.customer.yaml's `app` with these ports and extra environment per container."""
    app: dict[str, Any] = copy.deepcopy(stack_config("customer")[f"{PROJECT}:app"])
    for container in app["containers"]:
        container["port"] = ports[container["name"]]
        container.setdefault("environment", {}).update(environment.get(container["name"], {}))
    return app


@pytest.fixture(scope="module")
def moved_run() -> StackRun:
    return run_stack("customer", overrides={"app": customer_app(MOVED_PORTS)})


def test_service_ports_name_the_variables_the_services_read() -> None:
    assert (PORT_VARIABLES, UPSTREAM_VARIABLES) == (
        {"nlp-client": NLP_CLIENT_PORT_ENV, "rake-app": RAKE_PORT_ENV, "prose-app": PROSE_PORT_ENV},
        {"nlp-client": {RAKE_ENDPOINT_ENV: "rake-app", PROSE_ENDPOINT_ENV: "prose-app"}},
    )


def test_service_ports_derive_nothing_for_a_container_of_another_name() -> None:
    assert derived_environment("worker", {"worker": 9000, "rake-app": 9081}) == {}
    assert derived_environment("nlp-client", {"nlp-client": 9080}) == {"NLP_CLIENT_PORT": "9080"}


def test_moved_ports_reach_every_container_its_check_and_the_target_group(
    moved_run: StackRun,
) -> None:
    assert [
        (c["name"], c["portMappings"][0]["containerPort"], c["healthCheck"], c["environment"])
        for c in container_definitions_of(moved_run)
    ] == [
        (
            "nlp-client",
            9080,
            health_check(9080),
            [
                {"name": "NLP_CLIENT_PORT", "value": "9080"},
                {"name": "PROSE_ENDPOINT", "value": "http://localhost:9082"},
                {"name": "RAKE_ENDPOINT", "value": "http://localhost:9081"},
            ],
        ),
        (
            "rake-app",
            9081,
            health_check(9081),
            [{"name": "BIND_HOST", "value": "127.0.0.1"}, {"name": "RAKE_PORT", "value": "9081"}],
        ),
        (
            "prose-app",
            9082,
            health_check(9082),
            [{"name": "BIND_HOST", "value": "127.0.0.1"}, {"name": "PROSE_PORT", "value": "9082"}],
        ),
    ]
    assert only(moved_run.resources, "aws:lb/targetGroup:TargetGroup").inputs["port"] == 9080


def test_moved_ports_are_where_each_service_listens_and_finds_its_upstreams(
    moved_run: StackRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each container's environment, read by the service's own settings (what its process does).
    listening: dict[str, int] = {}
    for definition in container_definitions_of(moved_run):
        with monkeypatch.context() as env:
            env.setenv("API_KEY", "k")
            for variable in definition["environment"]:
                env.setenv(variable["name"], variable["value"])
            settings = SERVICES[definition["name"]]()
            listening[definition["name"]] = settings.port
            if isinstance(settings, NlpClientSettings):
                upstreams = (settings.rake_endpoint, settings.prose_endpoint)
    assert listening == MOVED_PORTS
    assert upstreams == (HttpUrl("http://localhost:9081"), HttpUrl("http://localhost:9082"))


def test_an_environment_that_contradicts_the_ports_is_refused_at_preview() -> None:
    app = customer_app(
        MOVED_PORTS,
        **{
            "nlp-client": {"RAKE_ENDPOINT": "http://localhost:8081"},
            "prose-app": {"PROSE_PORT": "8082"},
        },
    )
    with pytest.raises(ValueError) as exc_info:
        run_stack("customer", overrides={"app": app}, preview=True)
    assert str(exc_info.value).splitlines() == [
        "ecr-cross-account:app.containers[0].environment.RAKE_ENDPOINT: expected "
        "'http://localhost:9081' or no RAKE_ENDPOINT (the stack sets it from the containers' "
        "ports), got 'http://localhost:8081'.",
        "ecr-cross-account:app.containers[2].environment.PROSE_PORT: expected '9082' or no "
        "PROSE_PORT (the stack sets it from the containers' ports), got '8082'.",
    ]


def test_an_environment_that_repeats_the_derived_values_is_accepted() -> None:
    # A stack file written before the stack derived them keeps working, unchanged.
    same = {"RAKE_ENDPOINT": "http://localhost:8081", "PROSE_ENDPOINT": "http://localhost:8082"}
    run = run_stack(
        "customer",
        overrides={
            "app": customer_app(
                {"nlp-client": 8080, "rake-app": 8081, "prose-app": 8082}, **{"nlp-client": same}
            )
        },
    )
    assert container_definitions_of(run) == container_definitions_of(run_stack("customer"))
