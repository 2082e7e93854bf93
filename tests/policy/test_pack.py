"""The policy pack process (`python policy/`), driven over gRPC the way the Pulumi CLI drives it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.pack import PACK_NAME, provider_account_id
from policy.rules import ECR_REPOSITORY_POLICY, ECS_TASK_DEFINITION
from tests.policy.analyzer import PACK_DIR, Analyzer, Diagnostic, Provider
from tests.policy.factories import (
    VENDOR_ACCOUNT,
    repository_policy_props,
    statement_policy,
    task_definition_props,
)

# Pulumi's wire form of a secret value (rpc.py `_secret_sig`).
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
VENDOR_PROVIDER = Provider(
    type="pulumi:providers:aws",
    urn="urn:pulumi:vendor::ecr-cross-account::pulumi:providers:aws::aws",
    name="aws",
    # Provider inputs reach analyzers JSON-encoded, as the engine sends them.
    props={"region": "us-east-2", "allowedAccountIds": json.dumps([VENDOR_ACCOUNT])},
)
OWN_ACCOUNT_PUSH = repository_policy_props(
    statement_policy(
        Sid="VendorCi",
        Effect="Allow",
        Principal={"AWS": f"arn:aws:iam::{VENDOR_ACCOUNT}:role/ci"},
        Action=["ecr:PutImage"],
    )
)


def test_pack_serves_every_rule_mandatory_except_the_advisory_waf_rule(analyzer: Analyzer) -> None:
    info = analyzer.info()
    assert info.name == PACK_NAME
    assert [(p.name, p.enforcementLevel) for p in info.policies] == [
        *(
            (name, 1)  # 1 = mandatory
            for name in [
                "ecr-repo-policy-no-auth-token",
                "ecr-repo-policy-star-needs-org-condition",
                "ecr-repo-policy-no-resource-element",
                "ecr-repo-immutable-tags",
                "ecr-repo-scan-on-push",
                "ecs-task-no-secrets-in-environment",
                "ecs-task-images-pinned-by-digest",
                "ecs-task-containers-log",
                "ecs-task-runtime-platform-set",
                "ecs-service-no-public-ip",
                "ecs-service-circuit-breaker-rollback",
                "sg-no-open-ingress-except-alb-web",
                "iam-no-star-action",
                "iam-star-resource-only-for-resourceless-actions",
                "iam-no-inline-admin",
                "iam-no-admin-managed-policy",
                "log-group-has-retention",
                "ecr-registry-policy-replication-into-named-repositories",
                "alb-internet-facing-has-access-logs",
                "ecr-repo-policy-pull-only-for-consumers",
                "sg-public-ingress-tag-only-on-load-balancer-groups",
                "alb-http-redirects-when-https",
                "vpc-without-nat-has-endpoints",
                "ecr-cache-role-pulls-only-upstream",
            ]
        ),
        ("alb-internet-facing-has-waf", 0),  # 0 = advisory
    ]


def test_pack_reads_the_own_account_from_the_provider_guard(analyzer: Analyzer) -> None:
    assert analyzer.analyze(ECR_REPOSITORY_POLICY, OWN_ACCOUNT_PUSH, provider=VENDOR_PROVIDER) == []


def test_pack_without_provider_treats_every_principal_as_consumer(analyzer: Analyzer) -> None:
    assert analyzer.analyze(ECR_REPOSITORY_POLICY, OWN_ACCOUNT_PUSH) == [
        Diagnostic(
            policy="ecr-repo-policy-pull-only-for-consumers",
            # The SDK puts the policy's description first, as the CLI prints it.
            message=(
                "Principals outside the repository's account may only pull and describe images.\n"
                "repository policy statement 'VendorCi': grants ecr:PutImage to "
                f"arn:aws:iam::{VENDOR_ACCOUNT}:role/ci, outside the repository's account; other "
                "accounts may only pull, describe and cache (ecr:BatchCheckLayerAvailability, "
                "ecr:BatchGetImage, ecr:BatchImportUpstreamImage, ecr:DescribeImages, "
                "ecr:DescribeRepositories, ecr:GetDownloadUrlForLayer, ecr:GetImageCopyStatus), "
                "so remove the rest and grant same-account access with an identity policy."
            ),
            enforcement="mandatory",
        )
    ]


def test_pack_checks_values_the_program_marked_secret(analyzer: Analyzer) -> None:
    props: dict[str, Any] = task_definition_props(image="rake-app:latest")
    props["containerDefinitions"] = {**SECRET_SIG, "value": props["containerDefinitions"]}
    assert [d.policy for d in analyzer.analyze(ECS_TASK_DEFINITION, props)] == [
        "ecs-task-images-pinned-by-digest"
    ]


def test_pack_skips_values_unknown_during_preview_with_an_advisory_note(
    analyzer: Analyzer,
) -> None:
    props = {**task_definition_props(), "containerDefinitions": UNKNOWN_STRING_VALUE}
    diagnostics = analyzer.analyze(ECS_TASK_DEFINITION, props)
    assert [(d.policy, d.enforcement) for d in diagnostics] == [
        ("ecs-task-no-secrets-in-environment", "advisory"),
        ("ecs-task-images-pinned-by-digest", "advisory"),
        ("ecs-task-containers-log", "advisory"),
    ]
    assert diagnostics[0].message == (
        "can't run policy 'ecs-task-no-secrets-in-environment' from policy pack "
        f"'{PACK_NAME}@v0.0.1' during preview: string value at .containerDefinitions can't be "
        "known during preview"
    )


def test_pack_stack_policy_sees_all_listeners(analyzer: Analyzer) -> None:
    listener = "aws:lb/listener:Listener"
    resources = [
        (listener, {"port": 443, "protocol": "HTTPS", "defaultActions": [{"type": "forward"}]}),
        (listener, {"port": 80, "protocol": "HTTP", "defaultActions": [{"type": "forward"}]}),
    ]
    assert analyzer.analyze_stack(resources) == [
        Diagnostic(
            policy="alb-http-redirects-when-https",
            message=(
                "When a stack has an HTTPS listener, its HTTP listeners only redirect to HTTPS.\n"
                "HTTP listener on port 80 serves plain HTTP although the load balancer has an "
                "HTTPS listener; make its default action a redirect (protocol HTTPS, port 443, "
                "status HTTP_301)."
            ),
            enforcement="mandatory",
        )
    ]


@pytest.mark.parametrize(
    ("provider_props", "expected"),
    [
        pytest.param({"allowedAccountIds": [VENDOR_ACCOUNT]}, VENDOR_ACCOUNT, id="list"),
        pytest.param({"allowedAccountIds": f'["{VENDOR_ACCOUNT}"]'}, VENDOR_ACCOUNT, id="json"),
        pytest.param({"allowedAccountIds": ["111122223333", "444455556666"]}, None, id="two"),
        pytest.param({"region": "us-east-2"}, None, id="no-guard"),
        pytest.param(None, None, id="no-provider"),
    ],
)
def test_provider_account_id_is_the_single_allowed_account(
    provider_props: dict[str, Any] | None, expected: str | None
) -> None:
    assert provider_account_id(provider_props) == expected


def test_pack_project_file_runs_the_pack_in_the_projects_locked_environment() -> None:
    # uv toolchain without `virtualenv`: Pulumi uses the .venv beside the nearest uv.lock (the
    # repository root), so the pack needs no environment or requirements list of its own.
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "uv"}}
    assert [f for f in ("requirements.txt", "pyproject.toml") if (PACK_DIR / f).exists()] == []


def test_pack_refuses_a_nat_less_vpc_without_endpoints(analyzer: Analyzer) -> None:
    diagnostics = analyzer.analyze_stack([("awsx:ec2:Vpc", {"natGateways": {"strategy": "None"}})])
    assert [(d.policy, d.enforcement) for d in diagnostics] == [
        ("vpc-without-nat-has-endpoints", "mandatory")
    ]
