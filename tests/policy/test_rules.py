"""Each rule of policy/rules.py on a compliant and a violating resource, with exact messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.mirror import (
    CacheSpec,
    Upstream,
    replication_acceptance_policy,
    upstream_grant_statement,
    upstream_read_policy,
    upstream_read_trust_policy,
)
from policy import rules
from policy.rules import (
    ECR_REPOSITORY,
    ECR_REPOSITORY_POLICY,
    ECS_SERVICE,
    ECS_TASK_DEFINITION,
    IAM_POLICY,
    IAM_ROLE,
    LOG_GROUP,
    SECURITY_GROUP,
    SECURITY_GROUP_INGRESS_RULE,
    SECURITY_GROUP_RULE,
    ResourceRule,
)
from tests.policy.factories import (
    CUSTOMER_ACCOUNT,
    REPO_ARN,
    VENDOR_ACCOUNT,
    identity_policy_props,
    repository_policy_props,
    statement_policy,
    task_definition_props,
)

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
VENDOR_ARN_ACCOUNT = VENDOR_ACCOUNT
ECS_TRUST = json.dumps(
    statement_policy(
        Effect="Allow", Principal={"Service": "ecs-tasks.amazonaws.com"}, Action="sts:AssumeRole"
    )
)
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
LISTENER = "aws:lb/listener:Listener"
CUSTOMER_ROOT = f"arn:aws:iam::{CUSTOMER_ACCOUNT}:root"
PUBLIC_TAGS = {"network-exposure": "internet-facing-load-balancer"}
GOOD_REPOSITORY = {
    "name": "rake-app",
    "imageTagMutability": "IMMUTABLE",
    "imageScanningConfiguration": {"scanOnPush": True},
}
GOOD_SERVICE = {
    "networkConfiguration": {"assignPublicIp": False, "subnets": ["subnet-1"]},
    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
}
CONSUMERS_MAY = (
    "other accounts may only pull, describe and cache (ecr:BatchCheckLayerAvailability, "
    "ecr:BatchGetImage, ecr:BatchImportUpstreamImage, ecr:DescribeImages, "
    "ecr:DescribeRepositories, ecr:GetDownloadUrlForLayer, ecr:GetImageCopyStatus), so remove "
    "the rest and grant same-account access with an identity policy."
)
OPEN_INGRESS_FIX = (
    "only the load balancer's group (tagged network-exposure=internet-facing-load-balancer) may "
    "accept the internet, and only on TCP 80/443: use the load balancer's security group as the "
    "source."
)


def role_policy(**statement: Any) -> dict[str, Any]:
    return {"role": "r", "policy": json.dumps(statement_policy(**statement))}


def repo_policy(**statement: Any) -> dict[str, Any]:
    return repository_policy_props(statement_policy(**statement))


CASES = [
    # --- ECR repositories
    pytest.param(
        rules.ecr_repo_immutable_tags, ECR_REPOSITORY, GOOD_REPOSITORY, [], id="immutable-ok"
    ),
    pytest.param(
        rules.ecr_repo_immutable_tags,
        ECR_REPOSITORY,
        {"name": "rake-app"},
        [
            "repository tags are MUTABLE (the default): a push can silently replace the image "
            'behind a tag; set image_tag_mutability="IMMUTABLE".'
        ],
        id="immutable-default-mutable",
    ),
    pytest.param(rules.ecr_repo_scan_on_push, ECR_REPOSITORY, GOOD_REPOSITORY, [], id="scan-ok"),
    pytest.param(
        rules.ecr_repo_scan_on_push,
        ECR_REPOSITORY,
        {**GOOD_REPOSITORY, "imageScanningConfiguration": {"scanOnPush": False}},
        [
            "repository does not scan images on push; set "
            "image_scanning_configuration={'scan_on_push': True}."
        ],
        id="scan-off",
    ),
    # --- ECR repository policies (the compliant one is components.iam's real builder output)
    pytest.param(
        rules.ecr_repo_policy_no_auth_token,
        ECR_REPOSITORY_POLICY,
        repository_policy_props(),
        [],
        id="auth-token-absent",
    ),
    pytest.param(
        rules.ecr_repo_policy_no_auth_token,
        ECR_REPOSITORY_POLICY,
        repo_policy(
            Sid="Seed",
            Effect="Allow",
            Principal={"AWS": CUSTOMER_ROOT},
            Action=["ecr:BatchGetImage", "ecr:GetAuthorizationToken"],
        ),
        [
            "repository policy statement 'Seed': allows ecr:GetAuthorizationToken, which covers "
            "ecr:GetAuthorizationToken: it is registry-level and has no effect in a repository "
            'policy; grant it in the puller\'s identity policy on Resource "*" and remove it here.'
        ],
        id="auth-token-explicit",
    ),
    pytest.param(
        rules.ecr_repo_policy_no_auth_token,
        ECR_REPOSITORY_POLICY,
        repo_policy(Effect="Allow", Principal={"AWS": CUSTOMER_ROOT}, Action="ecr:Get*"),
        [
            "repository policy statement 1: allows ecr:Get*, which covers "
            "ecr:GetAuthorizationToken: it is registry-level and has no effect in a repository "
            'policy; grant it in the puller\'s identity policy on Resource "*" and remove it here.'
        ],
        id="auth-token-by-wildcard",
    ),
    pytest.param(
        rules.ecr_repo_policy_star_needs_org_condition,
        ECR_REPOSITORY_POLICY,
        repository_policy_props(),
        [],
        id="star-with-org-condition",
    ),
    pytest.param(
        rules.ecr_repo_policy_star_needs_org_condition,
        ECR_REPOSITORY_POLICY,
        repo_policy(
            Sid="Anyone",
            Effect="Allow",
            Principal={"AWS": "*"},
            Action="ecr:BatchGetImage",
            Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}},
        ),
        [
            "repository policy statement 'Anyone': allows Principal \"*\" without an "
            "aws:PrincipalOrgID or aws:PrincipalOrgPaths condition, so every AWS account could "
            'use it; add {"StringEquals": {"aws:PrincipalOrgID": "o-..."}} or name the consumer '
            "accounts."
        ],
        id="star-without-org-condition",
    ),
    pytest.param(
        rules.ecr_repo_policy_no_resource_element,
        ECR_REPOSITORY_POLICY,
        repository_policy_props(),
        [],
        id="no-resource-element",
    ),
    pytest.param(
        rules.ecr_repo_policy_no_resource_element,
        ECR_REPOSITORY_POLICY,
        repo_policy(
            Sid="Pull",
            Effect="Allow",
            Principal={"AWS": CUSTOMER_ROOT},
            Action="ecr:BatchGetImage",
            Resource=REPO_ARN,
        ),
        [
            "repository policy statement 'Pull': has a Resource element; a repository policy "
            "always applies to its own repository, so remove Resource."
        ],
        id="resource-element",
    ),
    pytest.param(
        rules.ecr_repo_policy_no_resource_element,
        ECR_REPOSITORY_POLICY,
        {"repository": "rake-app", "policy": "{not json"},
        [
            "repository policy: the policy is not valid JSON (Expecting property name enclosed "
            "in double quotes: line 1 column 2 (char 1)); pass json.dumps(...)."
        ],
        id="policy-not-json",
    ),
    # --- ECS task definitions (the compliant one is the real container-definition builder's)
    pytest.param(
        rules.ecs_task_no_secrets_in_environment,
        ECS_TASK_DEFINITION,
        task_definition_props(),
        [],
        id="secrets-via-secrets",
    ),
    pytest.param(
        rules.ecs_task_no_secrets_in_environment,
        ECS_TASK_DEFINITION,
        task_definition_props(
            environment=[
                {"name": "API_KEY", "value": "ChangeMe"},
                {"name": "db_password", "value": "x"},
                {"name": "RAKE_PORT", "value": "8081"},
            ]
        ),
        [
            "container 'rake-app': sets API_KEY in `environment`, where anyone who can describe "
            "the task definition reads it in plain text; inject it with `secrets` (valueFrom a "
            "Secrets Manager or SSM ARN) instead.",
            "container 'rake-app': sets db_password in `environment`, where anyone who can "
            "describe the task definition reads it in plain text; inject it with `secrets` "
            "(valueFrom a Secrets Manager or SSM ARN) instead.",
        ],
        id="secrets-in-environment",
    ),
    pytest.param(
        rules.ecs_task_images_pinned_by_digest,
        ECS_TASK_DEFINITION,
        task_definition_props(),
        [],
        id="image-by-digest",
    ),
    pytest.param(
        rules.ecs_task_images_pinned_by_digest,
        ECS_TASK_DEFINITION,
        task_definition_props(image="rake-app:1.1.0"),
        [
            "container 'rake-app': image 'rake-app:1.1.0' is not pinned by digest; reference it "
            "as <repository>@sha256:<digest> so a deploy runs exactly the image that was "
            "reviewed."
        ],
        id="image-by-tag",
    ),
    pytest.param(
        rules.ecs_task_containers_log,
        ECS_TASK_DEFINITION,
        task_definition_props(),
        [],
        id="container-logs",
    ),
    pytest.param(
        rules.ecs_task_containers_log,
        ECS_TASK_DEFINITION,
        task_definition_props(logConfiguration=None),
        [
            "container 'rake-app': has no logConfiguration, so its output is lost; set "
            'logConfiguration {"logDriver": "awslogs", "options": {"awslogs-group": ..., '
            '"awslogs-region": ..., "awslogs-stream-prefix": ...}}.'
        ],
        id="container-without-logs",
    ),
    pytest.param(
        rules.ecs_task_runtime_platform_set,
        ECS_TASK_DEFINITION,
        task_definition_props(),
        [],
        id="runtime-platform-set",
    ),
    pytest.param(
        rules.ecs_task_runtime_platform_set,
        ECS_TASK_DEFINITION,
        {**task_definition_props(), "runtimePlatform": {"operatingSystemFamily": "LINUX"}},
        [
            "task definition runtimePlatform lacks cpuArchitecture, so Fargate may pick a "
            "platform the images were not built for; set runtime_platform="
            "{'operating_system_family': 'LINUX', 'cpu_architecture': 'X86_64'} (or ARM64) to "
            "match the image build."
        ],
        id="runtime-platform-without-architecture",
    ),
    # --- ECS services
    pytest.param(rules.ecs_service_no_public_ip, ECS_SERVICE, GOOD_SERVICE, [], id="private-ip"),
    pytest.param(
        rules.ecs_service_no_public_ip,
        ECS_SERVICE,
        {**GOOD_SERVICE, "networkConfiguration": {"assignPublicIp": True}},
        [
            "service assigns its tasks public IPs, exposing them past the load balancer; set "
            "assign_public_ip=False and run the tasks in private subnets (egress through NAT)."
        ],
        id="public-ip",
    ),
    pytest.param(
        rules.ecs_service_circuit_breaker_rollback,
        ECS_SERVICE,
        GOOD_SERVICE,
        [],
        id="circuit-breaker-rollback",
    ),
    pytest.param(
        rules.ecs_service_circuit_breaker_rollback,
        ECS_SERVICE,
        {**GOOD_SERVICE, "deploymentCircuitBreaker": {"enable": True, "rollback": False}},
        [
            "service has no deployment circuit breaker with rollback, so a broken image keeps "
            "replacing healthy tasks; set deployment_circuit_breaker={'enable': True, "
            "'rollback': True}."
        ],
        id="circuit-breaker-without-rollback",
    ),
    # --- Security groups: inline ingress, aws.vpc ingress rules, aws.ec2 security group rules
    pytest.param(
        rules.sg_no_open_ingress_except_alb_web,
        SECURITY_GROUP,
        {
            "tags": PUBLIC_TAGS,
            "ingress": [
                {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}
            ],
        },
        [],
        id="alb-group-open-on-443",
    ),
    pytest.param(
        rules.sg_no_open_ingress_except_alb_web,
        SECURITY_GROUP,
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]},
                {"protocol": "tcp", "fromPort": 22, "toPort": 22, "ipv6CidrBlocks": ["::/0"]},
            ]
        },
        [f"security group allows ingress from ::/0 on tcp 22; {OPEN_INGRESS_FIX}"],
        id="untagged-group-open-ssh",
    ),
    pytest.param(
        rules.sg_no_open_ingress_except_alb_web,
        SECURITY_GROUP,
        {
            "tags": PUBLIC_TAGS,
            "ingress": [
                {"protocol": "tcp", "fromPort": 80, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}
            ],
        },
        [f"security group allows ingress from 0.0.0.0/0 on tcp 80-443; {OPEN_INGRESS_FIX}"],
        id="alb-group-open-port-range",
    ),
    pytest.param(
        rules.sg_no_open_ingress_except_alb_web,
        SECURITY_GROUP_INGRESS_RULE,
        {
            "tags": PUBLIC_TAGS,
            "ipProtocol": "tcp",
            "fromPort": 80,
            "toPort": 80,
            "cidrIpv6": "::/0",
        },
        [],
        id="tagged-ingress-rule-open-on-80",
    ),
    pytest.param(
        rules.sg_no_open_ingress_except_alb_web,
        SECURITY_GROUP_INGRESS_RULE,
        {"ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0"},
        [
            "ingress rule allows ingress from 0.0.0.0/0 on all protocols and ports; "
            + OPEN_INGRESS_FIX
        ],
        id="untagged-ingress-rule-open-everything",
    ),
    pytest.param(
        rules.sg_no_open_ingress_except_alb_web,
        SECURITY_GROUP_INGRESS_RULE,
        {"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "referencedSecurityGroupId": "sg"},
        [],
        id="ingress-rule-from-a-group",
    ),
    pytest.param(
        rules.sg_no_open_ingress_except_alb_web,
        SECURITY_GROUP_RULE,
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrBlocks": ["0.0.0.0/0"],
        },
        [
            "security group rule (no tags possible) allows ingress from 0.0.0.0/0 on tcp 443; "
            + OPEN_INGRESS_FIX
        ],
        id="ec2-rule-open-on-443",
    ),
    pytest.param(
        rules.sg_no_open_ingress_except_alb_web,
        SECURITY_GROUP_RULE,
        {
            "type": "egress",
            "protocol": "-1",
            "fromPort": 0,
            "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"],
        },
        [],
        id="ec2-rule-open-egress",
    ),
    # --- IAM (the compliant identity policy is built with components.iam)
    pytest.param(
        rules.iam_no_star_action, ROLE_POLICY, identity_policy_props(), [], id="exact-actions"
    ),
    pytest.param(
        rules.iam_no_star_action,
        IAM_POLICY,
        {
            "policy": statement_policy(
                Sid="All", Effect="Allow", Action=["ecr:*", "*"], Resource="*"
            )
        },
        [
            "policy statement 'All': allows ecr:*, every action of ecr; list the exact actions "
            "the principal needs.",
            "policy statement 'All': allows *, every action of every service; list the exact "
            "actions the principal needs.",
        ],
        id="star-actions",
    ),
    pytest.param(
        rules.iam_no_star_action,
        IAM_ROLE,
        {
            "inlinePolicies": [
                {
                    "name": "app",
                    "policy": json.dumps(
                        statement_policy(Effect="Allow", NotAction="iam:*", Resource="*")
                    ),
                }
            ]
        },
        [
            "inline policy 'app' statement 1: Allow with NotAction grants every action but the "
            "listed ones; list the allowed actions in Action instead."
        ],
        id="not-action-in-role-inline-policy",
    ),
    pytest.param(
        rules.iam_no_star_action,
        IAM_POLICY,
        {"policy": statement_policy(Effect="Deny", Action="*", Resource="*")},
        [],
        id="deny-star-action",
    ),
    pytest.param(
        rules.iam_star_resource_only_for_resourceless_actions,
        ROLE_POLICY,
        identity_policy_props(),
        [],
        id="star-resource-for-auth-token",
    ),
    pytest.param(
        rules.iam_star_resource_only_for_resourceless_actions,
        ROLE_POLICY,
        role_policy(
            Sid="Login",
            Effect="Allow",
            Action=["ecr:GetAuthorizationToken", "ecr:BatchGetImage"],
            Resource="*",
        ),
        [
            "inline policy statement 'Login': allows ecr:BatchGetImage on Resource \"*\"; name "
            "the exact resource ARNs. Only actions without resource-level permissions "
            '(ecr:GetAuthorizationToken) may use "*": put them in a statement of their own.'
        ],
        id="star-resource-for-pull",
    ),
    pytest.param(
        rules.iam_star_resource_only_for_resourceless_actions,
        ROLE_POLICY,
        role_policy(Effect="Allow", Action="ecr:BatchGetImage", NotResource=REPO_ARN),
        [
            "inline policy statement 1: Allow with NotResource grants every resource but the "
            "listed ones; name the resource ARNs in Resource instead."
        ],
        id="not-resource",
    ),
    pytest.param(
        rules.iam_no_inline_admin, ROLE_POLICY, identity_policy_props(), [], id="no-admin"
    ),
    pytest.param(
        rules.iam_no_inline_admin,
        ROLE_POLICY,
        role_policy(Sid="Escalate", Effect="Allow", Action="iam:put*", Resource="*"),
        [
            "inline policy statement 'Escalate': allows iam:put*, which grants "
            "administrator or permission-management access (iam:PutGroupPolicy, "
            "iam:PutRolePolicy, iam:PutUserPolicy); grant only the actions the principal needs "
            "(in a reviewed managed policy if it must manage IAM)."
        ],
        id="inline-permissions-management",
    ),
    pytest.param(
        rules.iam_no_inline_admin,
        IAM_POLICY,
        {"policy": statement_policy(Effect="Allow", Action="iam:PassRole", Resource=REPO_ARN)},
        [],
        id="managed-policy-is-not-inline",
    ),
    pytest.param(
        rules.iam_no_admin_managed_policy,
        ATTACHMENT,
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
        [],
        id="read-only-attachment",
    ),
    pytest.param(
        rules.iam_no_admin_managed_policy,
        IAM_ROLE,
        {"managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
        [
            "attaches arn:aws:iam::aws:policy/AdministratorAccess, which amounts to administrator "
            "access; attach a policy that allows only the actions the principal needs."
        ],
        id="admin-attachment",
    ),
    # --- Logs
    pytest.param(
        rules.log_group_has_retention, LOG_GROUP, {"retentionInDays": 30}, [], id="retention"
    ),
    pytest.param(
        rules.log_group_has_retention,
        LOG_GROUP,
        {"name": "app"},
        [
            "log group keeps its events forever (no retentionInDays); set retention_in_days, "
            "e.g. 30."
        ],
        id="no-retention",
    ),
    pytest.param(
        rules.log_group_has_retention,
        LOG_GROUP,
        {"retentionInDays": 45},
        [
            "log group retentionInDays 45 is not a value CloudWatch accepts; use one of 1, 3, 5, "
            "7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, "
            "3288, 3653."
        ],
        id="retention-not-accepted",
    ),
]


@pytest.mark.parametrize(("rule", "resource_type", "props", "expected"), CASES)
def test_rule_on_resource_reports_exact_violations(
    rule: ResourceRule, resource_type: str, props: dict[str, Any], expected: list[str]
) -> None:
    assert rule(resource_type, props) == expected


@pytest.mark.parametrize("rule", rules.RESOURCE_RULES, ids=rules.policy_name)
def test_rule_ignores_resource_types_it_does_not_govern(rule: ResourceRule) -> None:
    bad_everywhere = {
        "policy": "{not json",
        "containerDefinitions": "{not json",
        "ingress": [{"protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}],
    }
    assert rule("aws:s3/bucket:Bucket", bad_everywhere) == []


@pytest.mark.parametrize(
    ("statement", "account_id", "expected"),
    [
        pytest.param(
            {"Principal": {"AWS": CUSTOMER_ROOT}, "Action": ["ecr:BatchGetImage"]},
            VENDOR_ACCOUNT,
            [],
            id="consumer-pulls",
        ),
        pytest.param(
            {"Principal": {"AWS": VENDOR_ACCOUNT}, "Action": ["ecr:PutImage"]},
            VENDOR_ACCOUNT,
            [],
            id="own-account-pushes",
        ),
        pytest.param(
            {
                "Principal": {"AWS": [CUSTOMER_ROOT]},
                "Action": ["ecr:BatchGetImage", "ecr:PutImage"],
            },
            VENDOR_ACCOUNT,
            [
                f"repository policy statement 'S': grants ecr:PutImage to {CUSTOMER_ROOT}, "
                f"outside account {VENDOR_ACCOUNT}; {CONSUMERS_MAY}"
            ],
            id="consumer-pushes",
        ),
        pytest.param(
            {"Principal": {"AWS": f"arn:aws:iam::{VENDOR_ACCOUNT}:root"}, "Action": "ecr:PutImage"},
            None,
            [
                "repository policy statement 'S': grants ecr:PutImage to "
                f"arn:aws:iam::{VENDOR_ACCOUNT}:root, outside the repository's account; "
                + CONSUMERS_MAY
            ],
            id="unknown-account-treats-everyone-as-consumer",
        ),
        pytest.param(
            {"Principal": "*", "NotAction": "ecr:DeleteRepository"},
            VENDOR_ACCOUNT,
            [
                "repository policy statement 'S': grants NotAction (every action but the listed "
                f"ones) to *, outside account {VENDOR_ACCOUNT}; {CONSUMERS_MAY}"
            ],
            id="not-action",
        ),
        pytest.param(
            {"Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "ecr:*"},
            VENDOR_ACCOUNT,
            [
                "repository policy statement 'S': grants ecr:* to codebuild.amazonaws.com, "
                f"outside account {VENDOR_ACCOUNT}; {CONSUMERS_MAY}"
            ],
            id="service-principal-wildcard",
        ),
        pytest.param(
            {"NotPrincipal": {"AWS": CUSTOMER_ROOT}, "Action": "ecr:BatchGetImage"},
            VENDOR_ACCOUNT,
            [
                "repository policy statement 'S': Allow with NotPrincipal grants every principal "
                "but the listed ones; name the consumer accounts in Principal instead."
            ],
            id="not-principal",
        ),
    ],
)
def test_pull_only_rule_limits_principals_outside_the_account(
    statement: dict[str, Any], account_id: str | None, expected: list[str]
) -> None:
    props = repo_policy(Sid="S", Effect="Allow", **statement)
    assert (
        rules.ecr_repo_policy_pull_only_for_consumers(ECR_REPOSITORY_POLICY, props, account_id)
        == expected
    )


@pytest.mark.parametrize(
    "props",
    [
        pytest.param(
            repository_policy_props(
                {
                    "Version": "2012-10-17",
                    "Statement": [upstream_grant_statement([CUSTOMER_ACCOUNT])],
                }
            ),
            id="upstream-grant-a-pull-through-cache-needs",
        ),
        pytest.param(repository_policy_props(), id="builders-policy"),
    ],
)
def test_pull_only_rule_passes_the_policies_the_builders_write(props: dict[str, Any]) -> None:
    assert (
        rules.ecr_repo_policy_pull_only_for_consumers(ECR_REPOSITORY_POLICY, props, VENDOR_ACCOUNT)
        == []
    )


HTTPS = {"port": 443, "protocol": "HTTPS", "defaultActions": [{"type": "forward"}]}
FORWARD_HTTP = {"port": 80, "protocol": "HTTP", "defaultActions": [{"type": "forward"}]}
REDIRECT_HTTP = {
    "port": 80,
    "defaultActions": [
        {
            "type": "redirect",
            "redirect": {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"},
        }
    ],
}


@pytest.mark.parametrize(
    ("listeners", "expected"),
    [
        pytest.param([HTTPS, REDIRECT_HTTP], [], id="https-and-redirect"),
        pytest.param([FORWARD_HTTP], [], id="http-only"),
        pytest.param(
            [HTTPS, FORWARD_HTTP],
            [
                "HTTP listener on port 80 serves plain HTTP although the load balancer has an "
                "HTTPS listener; make its default action a redirect (protocol HTTPS, port 443, "
                "status HTTP_301)."
            ],
            id="https-and-forwarding-http",
        ),
    ],
)
def test_alb_rule_requires_http_redirect_when_https_exists(
    listeners: list[dict[str, Any]], expected: list[str]
) -> None:
    resources = [(LISTENER, listener) for listener in listeners] + [(ECS_SERVICE, GOOD_SERVICE)]
    assert rules.alb_http_redirects_when_https(resources) == expected


ALB: tuple[str, dict[str, Any]] = (
    "aws:lb/loadBalancer:LoadBalancer",
    {"securityGroups": ["sg-alb"]},
)


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        pytest.param("sg-alb", [], id="load-balancer-group"),
        pytest.param(
            "sg-tasks",
            [
                "ingress rule tagged network-exposure=internet-facing-load-balancer belongs to "
                "security group sg-tasks, which no load balancer uses; only the load balancer's "
                "group may accept the internet, so remove the tag (and the open source) from "
                "this rule."
            ],
            id="tasks-group",
        ),
    ],
)
def test_public_ingress_tag_is_only_accepted_on_load_balancer_groups(
    group: str, expected: list[str]
) -> None:
    tagged = {"tags": PUBLIC_TAGS, "securityGroupId": group, "cidrIpv4": "0.0.0.0/0"}
    untagged = {"securityGroupId": "sg-tasks", "referencedSecurityGroupId": "sg-alb"}
    resources: list[tuple[str, dict[str, Any]]] = [
        ALB,
        (SECURITY_GROUP_INGRESS_RULE, tagged),
        (SECURITY_GROUP_INGRESS_RULE, untagged),
    ]
    assert rules.sg_public_ingress_tag_only_on_load_balancer_groups(resources) == expected


def test_resource_violations_collects_every_rule_by_policy_name() -> None:
    props = {"policy": json.dumps(statement_policy(Effect="Allow", Action="*", Resource="*"))}
    assert rules.resource_violations(ROLE_POLICY, props, account_id=VENDOR_ACCOUNT) == {
        "iam-no-star-action": [
            "inline policy statement 1: allows *, every action of every service; list the exact "
            "actions the principal needs."
        ],
        "iam-star-resource-only-for-resourceless-actions": [
            'inline policy statement 1: allows * on Resource "*"; name the exact resource ARNs. '
            "Only actions without resource-level permissions (ecr:GetAuthorizationToken) may use "
            '"*": put them in a statement of their own.'
        ],
        "iam-no-inline-admin": [
            "inline policy statement 1: allows *, which grants administrator or "
            "permission-management access (*, iam:*, iam:AttachGroupPolicy, iam:AttachRolePolicy, "
            "iam:AttachUserPolicy, iam:CreatePolicyVersion, iam:PassRole, iam:PutGroupPolicy, "
            "iam:PutRolePolicy, iam:PutUserPolicy, iam:SetDefaultPolicyVersion, "
            "iam:UpdateAssumeRolePolicy); grant only the actions the principal needs (in a "
            "reviewed managed policy if it must manage IAM)."
        ],
    }


VPC_NO_NAT = (rules.AWSX_VPC, {"natGateways": {"strategy": "None"}, "enableDnsHostnames": True})


def endpoint(
    service: str, *, gateway: bool = False, dns: bool = True
) -> tuple[str, dict[str, Any]]:
    props: dict[str, Any] = {
        "serviceName": f"com.amazonaws.us-west-2.{service}",
        "vpcEndpointType": "Gateway" if gateway else "Interface",
    }
    if not gateway:
        props["privateDnsEnabled"] = dns
    return (rules.VPC_ENDPOINT, props)


ALL_ENDPOINTS = [
    endpoint("ecr.api"),
    endpoint("ecr.dkr"),
    endpoint("logs"),
    endpoint("secretsmanager"),
    endpoint("s3", gateway=True),
]
NO_ENDPOINTS_FIX = (
    "add them (components/endpoints.py VpcEndpoints) or choose the Single or OnePerAz NAT "
    "gateway strategy."
)


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        pytest.param([VPC_NO_NAT, *ALL_ENDPOINTS], [], id="nat-less-with-endpoints"),
        pytest.param([(rules.AWSX_VPC, {"natGateways": {"strategy": "Single"}})], [], id="nat"),
        pytest.param(
            [(rules.AWSX_VPC, {**VPC_NO_NAT[1], "subnetSpecs": [{"type": "Isolated"}]})],
            [],
            id="no-private-subnets",
        ),
        pytest.param(
            [VPC_NO_NAT],
            [
                "VPC has natGateways strategy None, so its private subnets reach AWS only through "
                "VPC endpoints, but it lacks the ecr.api interface endpoint with private DNS, the "
                "ecr.dkr interface endpoint with private DNS, the logs interface endpoint with "
                "private DNS, the S3 gateway endpoint (image layers); " + NO_ENDPOINTS_FIX
            ],
            id="nat-less-without-endpoints",
        ),
        pytest.param(
            [
                (
                    rules.AWSX_VPC,
                    {
                        **VPC_NO_NAT[1],
                        "vpcEndpointSpecs": [
                            {
                                "serviceName": "com.amazonaws.us-west-2.s3",
                                "vpcEndpointType": "Gateway",
                            }
                        ],
                    },
                ),
                *ALL_ENDPOINTS[:4],
            ],
            [],
            id="s3-gateway-as-the-vpcs-own-endpoint",
        ),
        pytest.param(
            [(rules.AWSX_VPC, {"natGateways": {"strategy": "None"}}), *ALL_ENDPOINTS],
            [
                "VPC has natGateways strategy None, so its private subnets reach AWS only through "
                "VPC endpoints, but it lacks enableDnsHostnames: true (private DNS); "
                + NO_ENDPOINTS_FIX
            ],
            id="no-dns-hostnames",
        ),
        pytest.param(
            [VPC_NO_NAT, *ALL_ENDPOINTS[1:4], endpoint("ecr.api", dns=False), endpoint("s3")],
            [
                "VPC has natGateways strategy None, so its private subnets reach AWS only through "
                "VPC endpoints, but it lacks the ecr.api interface endpoint with private DNS, the "
                "S3 gateway endpoint (image layers); " + NO_ENDPOINTS_FIX
            ],
            id="no-private-dns-and-s3-as-interface",
        ),
    ],
)
def test_nat_less_vpc_needs_the_ecr_logs_and_s3_endpoints(
    resources: list[tuple[str, dict[str, Any]]], expected: list[str]
) -> None:
    assert rules.vpc_without_nat_has_endpoints(resources) == expected


CACHE = CacheSpec(
    upstream=Upstream.from_arn(REPO_ARN),
    prefix="vendor",
    account=CUSTOMER_ACCOUNT,
    region="us-west-2",
)
CACHE_RULE = (
    rules.PULL_THROUGH_CACHE_RULE,
    {"ecrRepositoryPrefix": "vendor", "upstreamRegistryUrl": CACHE.upstream.registry_url},
)
CACHE_ROLE = (
    IAM_ROLE,
    {"name": CACHE.role_name, "assumeRolePolicy": json.dumps(upstream_read_trust_policy())},
)
UPSTREAM_REGISTRY = f"arn:aws:ecr:us-east-2:{VENDOR_ARN_ACCOUNT}:repository/"


def cache_role_policy(document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return (rules.IAM_ROLE_POLICY, {"role": CACHE.role_name, "policy": json.dumps(document)})


def too_wide(resource: str, actions: str = "ecr:BatchGetImage") -> str:
    return (
        f"inline policy of role '{CACHE.role_name}' statement 'S': the pull-through cache role "
        f"'{CACHE.role_name}' allows {actions} on {resource}, which is not one repository of a "
        f"cache rule's upstream registry ({UPSTREAM_REGISTRY}); allow it on the vendor "
        "repository's ARN only."
    )


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        pytest.param(
            {"Action": "ecr:BatchGetImage", "Resource": REPO_ARN}, [], id="vendor-repository"
        ),
        pytest.param(
            {"Action": "ecr:BatchGetImage", "Resource": f"{UPSTREAM_REGISTRY}*"},
            [too_wide(f"{UPSTREAM_REGISTRY}*")],
            id="every-vendor-repository",
        ),
        pytest.param(
            {"Action": "ecr:*", "Resource": "*"}, [too_wide("*", "ecr:*")], id="everything"
        ),
        pytest.param(
            {"Action": "ecr:BatchGetImage", "Resource": CACHE.repository_arn},
            [too_wide(CACHE.repository_arn)],
            id="another-registry",
        ),
        pytest.param(
            {"Action": "ecr:BatchGetImage", "NotResource": REPO_ARN},
            [too_wide("NotResource (every resource but the listed ones)")],
            id="not-resource",
        ),
    ],
)
def test_cache_role_may_pull_only_single_upstream_repositories(
    statement: dict[str, Any], expected: list[str]
) -> None:
    policy = cache_role_policy(statement_policy(Sid="S", Effect="Allow", **statement))
    assert rules.ecr_cache_role_pulls_only_upstream([CACHE_RULE, CACHE_ROLE, policy]) == expected


# A role another service assumes (the task's execution role), with a policy that would be too
# wide for the cache's role: not the cache's business.
OTHER_SERVICE_ROLE = [
    (IAM_ROLE, {"name": "app-task-exec", "assumeRolePolicy": ECS_TRUST}),
    (rules.IAM_ROLE_POLICY, {"role": "app-task-exec", "policy": identity_policy_props()["policy"]}),
    (
        rules.IAM_ROLE_POLICY,
        {
            "role": "app-task-exec",
            "policy": json.dumps(
                statement_policy(Effect="Allow", Action="ecr:BatchGetImage", Resource="*")
            ),
        },
    ),
]


@pytest.mark.parametrize(
    "resources",
    [
        pytest.param(
            [CACHE_RULE, CACHE_ROLE, cache_role_policy(upstream_read_policy(CACHE))],
            id="builders-policy",
        ),
        pytest.param([CACHE_RULE, *OTHER_SERVICE_ROLE], id="role-other-services-assume"),
    ],
)
def test_cache_role_rule_passes(resources: list[tuple[str, dict[str, Any]]]) -> None:
    assert rules.ecr_cache_role_pulls_only_upstream(resources) == []


REPLICA = "arn:aws:ecr:us-west-2:999988887777:repository/rake-app"
REPLICATION_FIX = (
    "a registry policy here only admits named vendor accounts' replication "
    "(ecr:CreateRepository, ecr:ReplicateImage) into named repositories (components/mirror.py "
    "replication_acceptance_policy)."
)


def registry_policy(**statement: Any) -> dict[str, Any]:
    document = statement_policy(Sid="S", Effect="Allow", **statement)
    return {"policy": json.dumps(document)}


@pytest.mark.parametrize(
    ("statement", "problems"),
    [
        pytest.param(
            {
                "Principal": {"AWS": f"arn:aws:iam::{VENDOR_ACCOUNT}:root"},
                "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                "Resource": [REPLICA],
            },
            [],
            id="named-account-and-repository",
        ),
        pytest.param(
            {
                "Principal": "*",
                "Action": ["ecr:ReplicateImage", "ecr:BatchImportUpstreamImage"],
                "Resource": "arn:aws:ecr:us-west-2:999988887777:repository/*",
            },
            [
                "allows ecr:BatchImportUpstreamImage",
                "admits *",
                "names arn:aws:ecr:us-west-2:999988887777:repository/*",
            ],
            id="anyone-anything-anywhere",
        ),
        pytest.param(
            {
                "Principal": {"AWS": f"arn:aws:iam::{VENDOR_ACCOUNT}:root"},
                "NotAction": "ecr:DeleteRepository",
                "NotResource": REPLICA,
            },
            ["uses NotAction", "uses NotResource"],
            id="negations",
        ),
    ],
)
def test_registry_policy_admits_named_accounts_replication_into_named_repositories(
    statement: dict[str, Any], problems: list[str]
) -> None:
    assert rules.ecr_registry_policy_replication_into_named_repositories(
        rules.ECR_REGISTRY_POLICY, registry_policy(**statement)
    ) == [f"registry policy statement 'S': {problem}; {REPLICATION_FIX}" for problem in problems]


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [
        pytest.param(
            rules.ECR_REGISTRY_POLICY,
            {
                "policy": json.dumps(
                    replication_acceptance_policy(
                        source_accounts=[VENDOR_ACCOUNT], repository_arns=[REPLICA]
                    )
                )
            },
            id="builders-policy",
        ),
        pytest.param(
            ECR_REPOSITORY_POLICY,
            registry_policy(Principal="*", Action="ecr:*"),
            id="other-resource-type",
        ),
    ],
)
def test_registry_policy_rule_passes(resource_type: str, props: dict[str, Any]) -> None:
    rule = rules.ecr_registry_policy_replication_into_named_repositories
    assert rule(resource_type, props) == []
