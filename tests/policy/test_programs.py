"""Both stacks' real programs (run under mocks) through every guardrail, with zero findings.

Each stack file runs once through `__main__.py` (tests/infra/conftest.py records what it
registers). Every recorded resource then goes to the policy pack process with its provider, as
`pulumi preview --policy-pack policy` would send it; every IAM and ECR policy document is linted
with parliament and loaded into moto's fake AWS; lifecycle policies meet the documented schema;
task definitions are valid `RegisterTaskDefinition` requests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.infra.conftest import Resource, StackRun, run_stack
from tests.policy.aws_api import (
    FakeAws,
    fake_aws,
    lifecycle_policy_schema_errors,
    register_task_definition_report,
    task_definition_params,
)
from tests.policy.conftest import Analyzer, Diagnostic, Provider
from tests.policy.documents import Document, Kind, as_json, documents, plain
from tests.policy.iam_lint import lint

# What each stack hands AWS as JSON documents (so the checks below cannot pass vacuously).
EXPECTED_KINDS = {
    "vendor": {Kind.IDENTITY, Kind.REPOSITORY, Kind.LIFECYCLE},
    # FargateApp (task definition, roles) is not wired into the customer program yet.
    "customer": {Kind.IDENTITY, Kind.LIFECYCLE},
}


@pytest.fixture(scope="module", params=sorted(EXPECTED_KINDS))
def run(request: pytest.FixtureRequest) -> StackRun:
    return run_stack(request.param)


@pytest.fixture(scope="module")
def aws() -> Iterator[FakeAws]:
    with fake_aws() as fake:
        yield fake


def _provider(run: StackRun, resource: Resource) -> Provider | None:
    found = [r for r in run.resources if r.urn == resource.provider_urn]
    if not found:
        return None
    return Provider(type=found[0].type, urn=found[0].urn, name=found[0].name, props=found[0].inputs)


def test_stack_hands_aws_the_expected_kinds_of_documents(run: StackRun) -> None:
    assert {doc.kind for doc in documents(run)} == EXPECTED_KINDS[run.stack]


def test_stack_passes_every_policy_of_the_pack(run: StackRun, analyzer: Analyzer) -> None:
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
    assert found == []


def _of_kinds(docs: list[Document], kinds: set[Kind]) -> list[Document]:
    return [doc for doc in docs if doc.kind in kinds]


def test_stack_policy_documents_lint_clean(run: StackRun) -> None:
    docs = _of_kinds(documents(run), {Kind.IDENTITY, Kind.TRUST, Kind.REPOSITORY})
    findings = {doc.urn: lint(doc.content, attached_to=doc.attached_to) for doc in docs}
    assert {urn: found for urn, found in findings.items() if found} == {}


def test_stack_policy_documents_are_accepted_by_the_aws_api(run: StackRun, aws: FakeAws) -> None:
    calls = {
        Kind.IDENTITY: aws.create_policy,
        Kind.TRUST: aws.update_assume_role_policy,
        Kind.REPOSITORY: aws.set_repository_policy,
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
