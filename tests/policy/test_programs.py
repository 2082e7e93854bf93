"""Both stacks' real programs (run under mocks) through every guardrail, with zero findings.

Each stack file runs once through `__main__.py` (tests/infra/harness.py records what it
registers). Every recorded resource then goes to the policy pack process with its provider, as
`pulumi preview --policy-pack policy` would send it; every IAM and ECR policy document is linted
with parliament and loaded into moto's fake AWS (S3 bucket policies only linted: moto accepts any);
lifecycle policies meet the documented schema; task definitions are valid
`RegisterTaskDefinition` requests. The one advisory finding expected is the missing web ACL of an
internet-facing load balancer without `app.waf`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from policy.rules import LISTENER_TYPES
from tests.infra.app_helpers import EVERY_OPTION
from tests.infra.harness import PROJECT, Resource, StackRun, run_stack, stack_config
from tests.infra.mirror_configs import CUSTOMER_CACHE, CUSTOMER_REPLICATION, run_chain
from tests.policy.analyzer import Analyzer, Diagnostic, Provider
from tests.policy.aws_api import (
    FakeAws,
    lifecycle_policy_schema_errors,
    register_task_definition_report,
    task_definition_params,
)
from tests.policy.documents import Document, Kind, as_json, documents, plain
from tests.policy.iam_lint import lint

CERTIFICATE_ARN = "arn:aws:acm:us-west-2:999988887777:certificate/0a1b2c3d-4e5f"
CUSTOMER_KINDS = {Kind.IDENTITY, Kind.LIFECYCLE, Kind.TRUST, Kind.TASK_DEFINITION, Kind.BUCKET}
NO_WAF = "alb-internet-facing-has-waf"


@dataclass(frozen=True)
class Case:
    """A program run and what it must hand AWS (so the checks below cannot pass vacuously)."""

    run: StackRun
    kinds: set[Kind]
    # (port, protocol) of its load balancer listeners.
    listeners: list[tuple[int, str]]
    # The advisory policies it is expected to trip (none mandatory).
    advisories: list[str]


def _customer(**app_changes: object) -> StackRun:
    """The customer stack file with `app` keys changed."""
    app = stack_config("customer")[f"{PROJECT}:app"]
    return run_stack("customer", overrides={"app": {**app, **app_changes}})


HTTPS = [(80, "HTTP"), (443, "HTTPS")]
CASES: dict[str, Callable[[], Case]] = {
    "vendor": lambda: Case(
        run=run_stack("vendor"),
        kinds={Kind.IDENTITY, Kind.REPOSITORY, Kind.LIFECYCLE},
        listeners=[],
        advisories=[],
    ),
    "customer": lambda: Case(
        run=run_stack("customer"),
        kinds=CUSTOMER_KINDS,
        listeners=[(80, "HTTP")],
        advisories=[NO_WAF],
    ),
    # A certificate: an HTTPS listener, and HTTP redirecting to it.
    "customer-https": lambda: Case(
        run=_customer(certificateArn=CERTIFICATE_ARN),
        kinds=CUSTOMER_KINDS,
        listeners=HTTPS,
        advisories=[NO_WAF],
    ),
    "customer-every-option": lambda: Case(
        run=_customer(**EVERY_OPTION), kinds=CUSTOMER_KINDS, listeners=HTTPS, advisories=[]
    ),
    # Internal: neither the access-log rule nor the WAF rule applies, and the stack meets both.
    "customer-internal": lambda: Case(
        run=_customer(**{**EVERY_OPTION, "internal": True, "waf": False}),
        kinds=CUSTOMER_KINDS,
        listeners=HTTPS,
        advisories=[],
    ),
    # The copy options (docs/mirroring.md), each customer reading the vendor's real exports.
    "vendor-copies": lambda: Case(
        run=run_chain(CUSTOMER_CACHE)[0],
        kinds={Kind.IDENTITY, Kind.REPOSITORY, Kind.LIFECYCLE},
        listeners=[],
        advisories=[],
    ),
    "customer-cache": lambda: Case(
        run=run_chain(CUSTOMER_CACHE)[1],
        kinds=CUSTOMER_KINDS,
        listeners=[(80, "HTTP")],
        advisories=[NO_WAF],
    ),
    "customer-replication-nat-less": lambda: Case(
        run=run_chain(CUSTOMER_REPLICATION)[1],
        kinds=CUSTOMER_KINDS | {Kind.REGISTRY},
        listeners=[(80, "HTTP")],
        advisories=[NO_WAF],
    ),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[request.param]()


@pytest.fixture(scope="module")
def run(case: Case) -> StackRun:
    return case.run


def _provider(run: StackRun, resource: Resource) -> Provider | None:
    found = [r for r in run.resources if r.urn == resource.provider_urn]
    if not found:
        return None
    return Provider(type=found[0].type, urn=found[0].urn, name=found[0].name, props=found[0].inputs)


def test_stack_hands_aws_the_expected_documents_and_listeners(case: Case) -> None:
    listeners = [r.inputs for r in case.run.resources if r.type in LISTENER_TYPES]
    assert {doc.kind for doc in documents(case.run)} == case.kinds
    assert sorted((int(x["port"]), x["protocol"]) for x in listeners) == case.listeners


def test_stack_passes_every_mandatory_policy_of_the_pack(case: Case, analyzer: Analyzer) -> None:
    run = case.run
    found: list[tuple[str, Diagnostic]] = []
    for resource in run.resources:
        diagnostics = analyzer.analyze(
            resource.type,
            resource.inputs,
            urn=resource.urn,
            name=resource.name,
            provider=_provider(run, resource),
        )
        found += [(resource.urn, d) for d in diagnostics]
    stack = analyzer.analyze_stack([(r.type, r.inputs) for r in run.resources])
    found += [(f"stack {run.stack}", d) for d in stack]
    assert [(where, d.policy, d.enforcement) for where, d in found] == [
        (f"stack {run.stack}", name, "advisory") for name in case.advisories
    ]


def _of_kinds(docs: list[Document], kinds: set[Kind]) -> list[Document]:
    return [doc for doc in docs if doc.kind in kinds]


def test_stack_policy_documents_lint_clean(run: StackRun) -> None:
    docs = _of_kinds(
        documents(run), {Kind.IDENTITY, Kind.TRUST, Kind.REPOSITORY, Kind.REGISTRY, Kind.BUCKET}
    )
    findings = {doc.urn: lint(doc.content, attached_to=doc.attached_to) for doc in docs}
    assert {urn: found for urn, found in findings.items() if found} == {}


def test_stack_policy_documents_are_accepted_by_the_aws_api(run: StackRun, aws: FakeAws) -> None:
    calls = {
        Kind.IDENTITY: aws.create_policy,
        Kind.TRUST: aws.update_assume_role_policy,
        Kind.REPOSITORY: aws.set_repository_policy,
        Kind.REGISTRY: aws.put_registry_policy,
        Kind.LIFECYCLE: aws.put_lifecycle_policy,
    }
    rejections = {
        f"{doc.kind.value} of {doc.urn}": calls[doc.kind](as_json(doc.content))
        for doc in _of_kinds(documents(run), set(calls))
    }
    assert {where: why for where, why in rejections.items() if why} == {}


def test_stack_lifecycle_policies_match_the_documented_shape(run: StackRun) -> None:
    errors = {
        doc.urn: lifecycle_policy_schema_errors(doc.content)
        for doc in _of_kinds(documents(run), {Kind.LIFECYCLE})
    }
    assert {urn: found for urn, found in errors.items() if found} == {}


def test_stack_task_definitions_are_valid_register_requests(run: StackRun) -> None:
    reports = {
        doc.urn: register_task_definition_report(task_definition_params(plain(doc.content)))
        for doc in _of_kinds(documents(run), {Kind.TASK_DEFINITION})
    }
    assert {urn: report for urn, report in reports.items() if report} == {}
