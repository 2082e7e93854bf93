"""The guardrails every resource both stacks create must pass, as pure functions.

Each resource rule is `rule(resource_type, props) -> [violation, ...]`: `props` are the resource's
inputs as CrossGuard sees them (Pulumi's camelCase property names; policy documents and container
definitions as JSON strings, or already-parsed dicts), and each violation says what is wrong and
how to fix it. A rule returns `[]` for resource types it does not govern. The policy name is the
function's name in kebab-case (`ecs_service_no_public_ip` -> `ecs-service-no-public-ip`) and its
description is the docstring's first line; `policy/pack.py` wraps them for CrossGuard and
tests/policy calls them directly. Stack rules see every resource's `(resource_type, props)` at
once, for relations no single resource shows (a listener and its HTTPS sibling).

Decisions where AWS leaves room:
- "The repository's own account" is the stack's: the AWS provider's `allowedAccountIds` guard (one
  account). When it is unknown every principal is treated as a consumer (fail closed): same-account
  access belongs in identity policies anyway (an IAM group cannot be a resource policy's
  principal; components/dev_user_group.py).
- The load balancer's ingress is marked with `PUBLIC_INGRESS_TAG`: that tag on a group (or on an
  `aws.vpc.SecurityGroupIngressRule`) is the only way to accept the internet, and only on TCP
  80/443. `aws.ec2.SecurityGroupRule` has no tags, so it never may. A stack rule checks that a
  tagged rule's group is one a load balancer uses (group IDs are unknown until the groups exist,
  so in a first preview that check is reported as not runnable; the mock-run tests always run it).
- "`*` action" means `*` or a whole service (`ecr:*`); prefixes such as `ecr:Describe*` are
  allowed. `NotAction`/`NotResource`/`NotPrincipal` in an `Allow` grant "everything but", so they
  count as the wildcard they stand for.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

# Shared with the components: the load balancer's public-ingress tag (on the one group that may
# accept the internet, on TCP 80/443 only, see above) and the retention periods CloudWatch Logs
# accepts (0 would mean "never expire").
from components.aws_values import LOG_RETENTION_DAYS, PUBLIC_INGRESS_TAG
from components.iam import AUTH_TOKEN_ACTION, DESCRIBE_ACTIONS, PULL_ACTIONS
from components.mirror import (
    PULL_THROUGH_CACHE_SERVICE,
    REPLICATION_ACCEPT_ACTIONS,
    UPSTREAM_GRANT_ACTIONS,
)

Props = Mapping[str, Any]

# Pulumi type tokens of the resources the rules govern.
ECR_REPOSITORY: Final = "aws:ecr/repository:Repository"
ECR_REPOSITORY_POLICY: Final = "aws:ecr/repositoryPolicy:RepositoryPolicy"
ECS_TASK_DEFINITION: Final = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE: Final = "aws:ecs/service:Service"
SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE: Final = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE: Final = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
LISTENER_TYPES: Final = frozenset({"aws:lb/listener:Listener", "aws:alb/listener:Listener"})
LOAD_BALANCER_TYPES: Final = frozenset(
    {"aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"}
)
PULL_THROUGH_CACHE_RULE: Final = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
ECR_REGISTRY_POLICY: Final = "aws:ecr/registryPolicy:RegistryPolicy"
AWSX_VPC: Final = "awsx:ec2:Vpc"
VPC_ENDPOINT: Final = "aws:ec2/vpcEndpoint:VpcEndpoint"
IAM_ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
WAF_ASSOCIATION: Final = "aws:wafv2/webAclAssociation:WebAclAssociation"
IAM_POLICY: Final = "aws:iam/policy:Policy"
IAM_ROLE: Final = "aws:iam/role:Role"
# Inline policies: embedded in one principal, invisible in the account's list of policies.
IAM_INLINE_POLICY_TYPES: Final = frozenset(
    {
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/groupPolicy:GroupPolicy",
        "aws:iam/userPolicy:UserPolicy",
    }
)
IAM_ATTACHMENT_TYPES: Final = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
    }
)

# What principals of other accounts may do with a shared repository: pull by tag or digest, read
# metadata (`aws ecr describe-images --registry-id`), and what AWS documents an upstream grants a
# pull-through cache in another account (import, copy status; components/mirror.py). Never push,
# never delete.
CONSUMER_ACTIONS: Final = tuple(sorted({*PULL_ACTIONS, *DESCRIBE_ACTIONS, *UPSTREAM_GRANT_ACTIONS}))

# Actions without resource-level permissions: the only ones that may (must) use Resource "*".
# ecr:GetAuthorizationToken authorises `docker login` to the whole registry; the "Resource types"
# column of the table at this URL is empty for it.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
RESOURCELESS_ACTIONS: Final = (AUTH_TOKEN_ACTION,)

# Administrator access, or IAM permissions management that lets a principal grant itself more
# (attach or write policies, swap the default version, widen a trust policy, pass a role).
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
ADMIN_ACTIONS: Final = (
    "*",
    "iam:*",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreatePolicyVersion",
    "iam:PassRole",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
)
# AWS managed policies that amount to administrator access.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_job-functions.html
ADMIN_MANAGED_POLICIES: Final = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")

# Environment variable names that look like credentials (matched case-insensitively, anywhere).
SECRET_LOOKING_NAME: Final = re.compile(r"KEY|SECRET|TOKEN|PASSWORD", re.IGNORECASE)
IMAGE_DIGEST: Final = re.compile(r"@sha256:[0-9a-f]{64}$")

OPEN_CIDRS: Final = frozenset({"0.0.0.0/0", "::/0"})
WEB_PORTS: Final = frozenset({80, 443})
TCP_PROTOCOLS: Final = frozenset({"tcp", "6"})


_ACCOUNT_ID: Final = re.compile(r"\d{12}")
_PRINCIPAL_ARN: Final = re.compile(r"arn:[a-z-]+:(?:iam|sts)::(?P<account>\d{12}):")
_ORG_CONDITION_KEYS: Final = frozenset({"aws:principalorgid", "aws:principalorgpaths"})


class ResourceRule(Protocol):
    """A rule on one resource's inputs."""

    __name__: str

    def __call__(self, resource_type: str, props: Props, /) -> list[str]: ...


class AccountRule(Protocol):
    """A rule that also needs the stack's own account ID (None when unknown)."""

    __name__: str

    def __call__(
        self, resource_type: str, props: Props, /, account_id: str | None
    ) -> list[str]: ...


class StackRule(Protocol):
    """A rule on relations between resources: `(resource_type, props)` of all of them."""

    __name__: str

    def __call__(self, resources: Iterable[tuple[str, Props]], /) -> list[str]: ...


# --- ECR repositories and their policies -----------------------------------------------------


def ecr_repo_immutable_tags(resource_type: str, props: Props) -> list[str]:
    """ECR repositories have immutable tags, so a tag always names the image that was reviewed."""
    if resource_type != ECR_REPOSITORY or props.get("imageTagMutability") == "IMMUTABLE":
        return []
    mutability = props.get("imageTagMutability") or "MUTABLE (the default)"
    return [
        f"repository tags are {mutability}: a push can silently replace the image behind a tag; "
        'set image_tag_mutability="IMMUTABLE".'
    ]


def ecr_repo_scan_on_push(resource_type: str, props: Props) -> list[str]:
    """ECR repositories scan every pushed image for known vulnerabilities."""
    if resource_type != ECR_REPOSITORY:
        return []
    if (props.get("imageScanningConfiguration") or {}).get("scanOnPush") is True:
        return []
    return [
        "repository does not scan images on push; set "
        "image_scanning_configuration={'scan_on_push': True}."
    ]


def ecr_repo_policy_no_auth_token(resource_type: str, props: Props) -> list[str]:
    """Repository policies never grant ecr:GetAuthorizationToken (registry-level: no effect)."""

    def check(label: str, statement: Props) -> list[str]:
        granting = [a for a in _allowed_actions(statement) if _covers(a, AUTH_TOKEN_ACTION)]
        return [
            f"{label}: allows {action}, which covers {AUTH_TOKEN_ACTION}: it is registry-level and "
            "has no effect in a repository policy; grant it in the puller's identity policy on "
            'Resource "*" and remove it here.'
            for action in granting
        ]

    return _check_repository_policy(resource_type, props, check)


def ecr_repo_policy_pull_only_for_consumers(
    resource_type: str, props: Props, account_id: str | None
) -> list[str]:
    """Principals outside the repository's account may only pull and describe images."""
    owner = f"account {account_id}" if account_id else "the repository's account"

    def check(label: str, statement: Props) -> list[str]:
        if statement.get("Effect") != "Allow":
            return []
        if "NotPrincipal" in statement:
            return [
                f"{label}: Allow with NotPrincipal grants every principal but the listed ones; "
                "name the consumer accounts in Principal instead."
            ]
        outsiders = [p for p in _principals(statement) if _principal_account(p) != account_id]
        if not outsiders:
            return []
        extra = [a for a in _allowed_actions(statement) if a.lower() not in _CONSUMER_LOWER]
        if "NotAction" in statement:
            extra.append("NotAction (every action but the listed ones)")
        if not extra:
            return []
        return [
            f"{label}: grants {', '.join(extra)} to {', '.join(outsiders)}, outside {owner}; "
            "other accounts may only pull, describe and cache "
            f"({', '.join(CONSUMER_ACTIONS)}), so remove the rest and grant same-account access "
            "with an identity policy."
        ]

    return _check_repository_policy(resource_type, props, check)


def ecr_repo_policy_star_needs_org_condition(resource_type: str, props: Props) -> list[str]:
    """Principal "*" in a repository policy is narrowed to one AWS Organization by a condition."""

    def check(label: str, statement: Props) -> list[str]:
        if statement.get("Effect") != "Allow" or "*" not in _principals(statement):
            return []
        if _condition_keys(statement) & _ORG_CONDITION_KEYS:
            return []
        return [
            f'{label}: allows Principal "*" without an aws:PrincipalOrgID or '
            "aws:PrincipalOrgPaths condition, so every AWS account could use it; add "
            '{"StringEquals": {"aws:PrincipalOrgID": "o-..."}} or name the consumer accounts.'
        ]

    return _check_repository_policy(resource_type, props, check)


def ecr_repo_policy_no_resource_element(resource_type: str, props: Props) -> list[str]:
    """Repository policy statements have no Resource element (the repository is the resource)."""

    def check(label: str, statement: Props) -> list[str]:
        return [
            f"{label}: has a {key} element; a repository policy always applies to its own "
            f"repository, so remove {key}."
            for key in ("Resource", "NotResource")
            if key in statement
        ]

    return _check_repository_policy(resource_type, props, check)


# --- ECS task definitions and services -------------------------------------------------------


def ecs_task_no_secrets_in_environment(resource_type: str, props: Props) -> list[str]:
    """Secret-looking names (KEY, SECRET, TOKEN, PASSWORD) are `secrets`, not `environment`."""

    def check(label: str, container: Props) -> list[str]:
        names = [str(v.get("name")) for v in _as_list(container.get("environment"))]
        return [
            f"{label}: sets {name} in `environment`, where anyone who can describe the task "
            "definition reads it in plain text; inject it with `secrets` (valueFrom a Secrets "
            "Manager or SSM ARN) instead."
            for name in names
            if SECRET_LOOKING_NAME.search(name)
        ]

    return _check_containers(resource_type, props, check)


def ecs_task_images_pinned_by_digest(resource_type: str, props: Props) -> list[str]:
    """Every container image is referenced by digest (`repo@sha256:...`), not by a tag."""

    def check(label: str, container: Props) -> list[str]:
        image = str(container.get("image"))
        if IMAGE_DIGEST.search(image):
            return []
        return [
            f"{label}: image '{image}' is not pinned by digest; reference it as "
            "<repository>@sha256:<digest> so a deploy runs exactly the image that was reviewed."
        ]

    return _check_containers(resource_type, props, check)


def ecs_task_containers_log(resource_type: str, props: Props) -> list[str]:
    """Every container sends its output to a log driver (awslogs or another)."""

    def check(label: str, container: Props) -> list[str]:
        if (container.get("logConfiguration") or {}).get("logDriver"):
            return []
        return [
            f"{label}: has no logConfiguration, so its output is lost; set logConfiguration "
            '{"logDriver": "awslogs", "options": {"awslogs-group": ..., "awslogs-region": ..., '
            '"awslogs-stream-prefix": ...}}.'
        ]

    return _check_containers(resource_type, props, check)


def ecs_task_runtime_platform_set(resource_type: str, props: Props) -> list[str]:
    """Task definitions pin the OS and CPU architecture the images were built for."""
    if resource_type != ECS_TASK_DEFINITION:
        return []
    platform = props.get("runtimePlatform") or {}
    missing = [k for k in ("operatingSystemFamily", "cpuArchitecture") if not platform.get(k)]
    if not missing:
        return []
    return [
        f"task definition runtimePlatform lacks {' and '.join(missing)}, so Fargate may pick a "
        "platform the images were not built for; set runtime_platform={'operating_system_family': "
        "'LINUX', 'cpu_architecture': 'X86_64'} (or ARM64) to match the image build."
    ]


def ecs_service_no_public_ip(resource_type: str, props: Props) -> list[str]:
    """ECS tasks get no public IP; they sit in private subnets behind the load balancer."""
    if resource_type != ECS_SERVICE:
        return []
    if (props.get("networkConfiguration") or {}).get("assignPublicIp") is not True:
        return []
    return [
        "service assigns its tasks public IPs, exposing them past the load balancer; set "
        "assign_public_ip=False and run the tasks in private subnets (egress through NAT)."
    ]


def ecs_service_circuit_breaker_rollback(resource_type: str, props: Props) -> list[str]:
    """ECS services roll a failing deployment back automatically."""
    if resource_type != ECS_SERVICE:
        return []
    breaker = props.get("deploymentCircuitBreaker") or {}
    if breaker.get("enable") is True and breaker.get("rollback") is True:
        return []
    return [
        "service has no deployment circuit breaker with rollback, so a broken image keeps "
        "replacing healthy tasks; set deployment_circuit_breaker={'enable': True, "
        "'rollback': True}."
    ]


# --- Security groups -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ingress:
    where: str
    sources: list[str]
    protocol: str
    from_port: float | None
    to_port: float | None
    tags: Props


def sg_no_open_ingress_except_alb_web(resource_type: str, props: Props) -> list[str]:
    """No ingress from 0.0.0.0/0 or ::/0, except TCP 80/443 on the load balancer's group."""
    messages = []
    key, value = PUBLIC_INGRESS_TAG
    for ingress in _ingresses(resource_type, props):
        web_ok = (
            ingress.tags.get(key) == value
            and ingress.protocol.lower() in TCP_PROTOCOLS
            and ingress.from_port == ingress.to_port
            and ingress.from_port in WEB_PORTS
        )
        for source in ingress.sources:
            if source in OPEN_CIDRS and not web_ok:
                messages.append(
                    f"{ingress.where} allows ingress from {source} on {_port_text(ingress)}; only "
                    f"the load balancer's group (tagged {key}={value}) may accept the internet, "
                    "and only on TCP 80/443: use the load balancer's security group as the source."
                )
    return messages


# --- IAM -------------------------------------------------------------------------------------


def iam_no_star_action(resource_type: str, props: Props) -> list[str]:
    """IAM policies never allow `*` or a whole service (`ecr:*`)."""

    def check(label: str, statement: Props) -> list[str]:
        messages = [
            f"{label}: allows {action}, every action of "
            f"{'every service' if action == '*' else action.split(':')[0]}; list the exact "
            "actions the principal needs."
            for action in _allowed_actions(statement)
            if action == "*" or action.endswith(":*")
        ]
        if statement.get("Effect") == "Allow" and "NotAction" in statement:
            messages.append(
                f"{label}: Allow with NotAction grants every action but the listed ones; "
                "list the allowed actions in Action instead."
            )
        return messages

    return _check_statements(_iam_documents(resource_type, props), check)


def iam_star_resource_only_for_resourceless_actions(resource_type: str, props: Props) -> list[str]:
    """Resource "*" is used only by actions that have no resource-level permissions."""
    allowed = {a.lower() for a in RESOURCELESS_ACTIONS}

    def check(label: str, statement: Props) -> list[str]:
        if statement.get("Effect") != "Allow":
            return []
        if "NotResource" in statement:
            return [
                f"{label}: Allow with NotResource grants every resource but the listed ones; "
                "name the resource ARNs in Resource instead."
            ]
        if "*" not in _as_list(statement.get("Resource")):
            return []
        extra = [a for a in _allowed_actions(statement) if a.lower() not in allowed]
        if not extra:
            return []
        return [
            f'{label}: allows {", ".join(extra)} on Resource "*"; name the exact resource ARNs. '
            f"Only actions without resource-level permissions ({', '.join(RESOURCELESS_ACTIONS)}) "
            'may use "*": put them in a statement of their own.'
        ]

    return _check_statements(_iam_documents(resource_type, props), check)


def iam_no_inline_admin(resource_type: str, props: Props) -> list[str]:
    """Inline policies grant neither administrator access nor IAM permissions management."""

    def check(label: str, statement: Props) -> list[str]:
        messages = []
        for action in _allowed_actions(statement):
            covered = [admin for admin in ADMIN_ACTIONS if _covers(action, admin)]
            if covered:
                messages.append(
                    f"{label}: allows {action}, which grants administrator or "
                    f"permission-management access ({', '.join(covered)}); grant only the "
                    "actions the principal needs (in a reviewed managed policy if it must manage "
                    "IAM)."
                )
        return messages

    if resource_type not in IAM_INLINE_POLICY_TYPES and resource_type != IAM_ROLE:
        return []
    return _check_statements(_iam_documents(resource_type, props), check)


def iam_no_admin_managed_policy(resource_type: str, props: Props) -> list[str]:
    """No principal gets an AWS managed administrator policy attached."""
    if resource_type in IAM_ATTACHMENT_TYPES:
        arns = _as_list(props.get("policyArn"))
    elif resource_type == IAM_ROLE:
        arns = _as_list(props.get("managedPolicyArns"))
    else:
        return []
    return [
        f"attaches {arn}, which amounts to administrator access; attach a policy that allows "
        "only the actions the principal needs."
        for arn in arns
        if str(arn).rsplit("/", 1)[-1] in ADMIN_MANAGED_POLICIES and ":iam::aws:policy/" in arn
    ]


def sg_public_ingress_tag_only_on_load_balancer_groups(
    resources: Iterable[tuple[str, Props]],
) -> list[str]:
    """The public-ingress tag is only on rules of a group that a load balancer uses."""
    resources = list(resources)
    balanced = {
        group
        for kind, props in resources
        if kind in LOAD_BALANCER_TYPES
        for group in _as_list(props.get("securityGroups"))
    }
    key, value = PUBLIC_INGRESS_TAG
    return [
        f"ingress rule tagged {key}={value} belongs to security group "
        f"{props.get('securityGroupId')}, which no load balancer uses; only the load balancer's "
        "group may accept the internet, so remove the tag (and the open source) from this rule."
        for kind, props in resources
        if kind == SECURITY_GROUP_INGRESS_RULE
        and (props.get("tags") or {}).get(key) == value
        and props.get("securityGroupId") not in balanced
    ]


# --- Logs and load balancers -----------------------------------------------------------------


def log_group_has_retention(resource_type: str, props: Props) -> list[str]:
    """Log groups expire their events after a retention period CloudWatch accepts."""
    if resource_type != LOG_GROUP:
        return []
    days = props.get("retentionInDays")
    if days in LOG_RETENTION_DAYS:
        return []
    if not days:
        return [
            "log group keeps its events forever (no retentionInDays); set retention_in_days, "
            "e.g. 30."
        ]
    return [
        f"log group retentionInDays {_number(days)} is not a value CloudWatch accepts; use one of "
        f"{', '.join(map(str, LOG_RETENTION_DAYS))}."
    ]


def alb_http_redirects_when_https(resources: Iterable[tuple[str, Props]]) -> list[str]:
    """When a stack has an HTTPS listener, its HTTP listeners only redirect to HTTPS."""
    listeners = [props for kind, props in resources if kind in LISTENER_TYPES]
    if not any(listener.get("protocol") == "HTTPS" for listener in listeners):
        return []
    messages = []
    for listener in listeners:
        # An ALB listener without a protocol is HTTP.
        if (listener.get("protocol") or "HTTP") != "HTTP":
            continue
        actions = _as_list(listener.get("defaultActions"))
        redirects = [
            action.get("type") == "redirect"
            and (action.get("redirect") or {}).get("protocol") == "HTTPS"
            for action in actions
        ]
        if not actions or not all(redirects):
            messages.append(
                f"HTTP listener on port {_number(listener.get('port'))} serves plain HTTP "
                "although the load balancer has an HTTPS listener; make its default action a "
                "redirect (protocol HTTPS, port 443, status HTTP_301)."
            )
    return messages


# --- NAT-less networks and pull-through caches ---------------------------------------------------

# Interface endpoints (with private DNS) and the S3 gateway a task in a NAT-less private subnet
# pulls its image and writes its logs through (components/endpoints.py).
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
NAT_LESS_INTERFACE_SERVICES: Final = ("ecr.api", "ecr.dkr", "logs")
_ECR_REGISTRY_HOST: Final = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
)


def vpc_without_nat_has_endpoints(resources: Iterable[tuple[str, Props]]) -> list[str]:
    """A VPC without NAT gateways has the ECR, CloudWatch Logs and S3 endpoints tasks need."""
    resources = list(resources)
    nat_less = [
        props
        for kind, props in resources
        if kind == AWSX_VPC
        and (props.get("natGateways") or {}).get("strategy") == "None"
        and _has_private_subnets(props)
    ]
    if not nat_less:
        return []
    # The VPC's own endpoints (awsx `vpcEndpointSpecs`, components/endpoints.py) count too: under
    # `pulumi preview` they also appear as the component's child resources.
    endpoints = [props for kind, props in resources if kind == VPC_ENDPOINT] + [
        spec for vpc in nat_less for spec in _as_list(vpc.get("vpcEndpointSpecs"))
    ]

    def present(service: str, gateway: bool) -> bool:
        return any(
            str(e.get("serviceName", "")).endswith(f".{service}")
            and (e.get("vpcEndpointType") == "Gateway") == gateway
            and (gateway or e.get("privateDnsEnabled") is True)
            for e in endpoints
        )

    missing = [
        f"the {service} interface endpoint with private DNS"
        for service in NAT_LESS_INTERFACE_SERVICES
        if not present(service, gateway=False)
    ]
    if not present("s3", gateway=True):
        missing.append("the S3 gateway endpoint (image layers)")
    if any(vpc.get("enableDnsHostnames") is not True for vpc in nat_less):
        # Private DNS names of interface endpoints resolve only in a VPC with DNS hostnames.
        missing.append("enableDnsHostnames: true (private DNS)")
    if not missing:
        return []
    return [
        "VPC has natGateways strategy None, so its private subnets reach AWS only through VPC "
        f"endpoints, but it lacks {', '.join(missing)}; add them (components/endpoints.py "
        "VpcEndpoints) or choose the Single or OnePerAz NAT gateway strategy."
    ]


def ecr_registry_policy_replication_into_named_repositories(
    resource_type: str, props: Props
) -> list[str]:
    """ECR registry policies only let named accounts replicate into named repositories."""
    if resource_type != ECR_REGISTRY_POLICY:
        return []
    allowed = {a.lower() for a in REPLICATION_ACCEPT_ACTIONS}

    def check(label: str, statement: Props) -> list[str]:
        if statement.get("Effect") != "Allow":
            return []
        found = [
            f"allows {action}"
            for action in _allowed_actions(statement)
            if action.lower() not in allowed
        ]
        found += [f"admits {p}" for p in _principals(statement) if p == "*"]
        found += [
            f"names {r}"
            for r in _as_list(statement.get("Resource"))
            if any(c in str(r).split(":repository/", 1)[-1] for c in "*?")
        ]
        for negation in ("NotAction", "NotPrincipal", "NotResource"):
            if negation in statement:
                found.append(f"uses {negation}")
        return [
            f"{label}: {problem}; a registry policy here only admits named vendor accounts' "
            f"replication ({', '.join(REPLICATION_ACCEPT_ACTIONS)}) into named repositories "
            "(components/mirror.py replication_acceptance_policy)."
            for problem in found
        ]

    return _check_statements([("registry policy", props.get("policy"))], check)


def ecr_cache_role_pulls_only_upstream(resources: Iterable[tuple[str, Props]]) -> list[str]:
    """The role a pull-through cache assumes pulls single repositories of its upstreams only."""
    resources = list(resources)
    registries = sorted(
        {
            f"arn:aws:ecr:{m['region']}:{m['account']}:repository/"
            for kind, props in resources
            if kind == PULL_THROUGH_CACHE_RULE
            and (m := _ECR_REGISTRY_HOST.fullmatch(str(props.get("upstreamRegistryUrl", ""))))
        }
    )
    messages: list[str] = []
    for kind, role in resources:
        if kind != IAM_ROLE or not _trusts_service(role, PULL_THROUGH_CACHE_SERVICE):
            continue
        name = role.get("name")
        documents = _iam_documents(IAM_ROLE, role) + [
            (f"inline policy of role '{name}'", props.get("policy"))
            for kind_, props in resources
            if kind_ == IAM_ROLE_POLICY and name is not None and props.get("role") == name
        ]

        messages += _check_statements(documents, _cache_role_check(str(name), registries))
    return messages


def _internet_facing_albs(resources: Iterable[tuple[str, Props]]) -> list[Props]:
    # `internal` defaults to false and `loadBalancerType` to application.
    return [
        props
        for kind, props in resources
        if kind in LOAD_BALANCER_TYPES
        and props.get("internal") is not True
        and (props.get("loadBalancerType") or "application") == "application"
    ]


def alb_internet_facing_has_access_logs(resource_type: str, props: Props) -> list[str]:
    """Internet-facing Application Load Balancers write access logs to S3."""
    if not _internet_facing_albs([(resource_type, props)]):
        return []
    logs = props.get("accessLogs") or {}
    if logs.get("enabled") is True and logs.get("bucket"):
        return []
    return [
        "internet-facing load balancer has no access logs, so nobody can tell who called it; set "
        "access_logs={'bucket': ..., 'prefix': ..., 'enabled': True} (enabled defaults to "
        "false) with a bucket ELB may write to (components/access_logs.py's AccessLogBucket)."
    ]


def alb_internet_facing_has_waf(resources: Iterable[tuple[str, Props]]) -> list[str]:
    """Internet-facing Application Load Balancers are associated with an AWS WAF web ACL."""
    resources = list(resources)
    protected = {props.get("resourceArn") for kind, props in resources if kind == WAF_ASSOCIATION}
    messages = []
    for props in _internet_facing_albs(resources):
        arn = props.get("arn")
        # Before the ALB exists its ARN is unknown (props hold inputs): any association counts.
        if (arn in protected) if arn else protected:
            continue
        label = props.get("name") or arn or ""
        messages.append(
            f"internet-facing load balancer {label}".rstrip() + " has no AWS WAF web ACL "
            "association; associate a web ACL (components/waf.py's WebAcl) to rate-limit "
            "clients and block known-bad requests."
        )
    return messages


# --- Registry --------------------------------------------------------------------------------

RESOURCE_RULES: Final[tuple[ResourceRule, ...]] = (
    ecr_repo_policy_no_auth_token,
    ecr_repo_policy_star_needs_org_condition,
    ecr_repo_policy_no_resource_element,
    ecr_repo_immutable_tags,
    ecr_repo_scan_on_push,
    ecs_task_no_secrets_in_environment,
    ecs_task_images_pinned_by_digest,
    ecs_task_containers_log,
    ecs_task_runtime_platform_set,
    ecs_service_no_public_ip,
    ecs_service_circuit_breaker_rollback,
    sg_no_open_ingress_except_alb_web,
    iam_no_star_action,
    iam_star_resource_only_for_resourceless_actions,
    iam_no_inline_admin,
    iam_no_admin_managed_policy,
    log_group_has_retention,
    ecr_registry_policy_replication_into_named_repositories,
    alb_internet_facing_has_access_logs,
)
ACCOUNT_RULES: Final[tuple[AccountRule, ...]] = (ecr_repo_policy_pull_only_for_consumers,)
STACK_RULES: Final[tuple[StackRule, ...]] = (
    sg_public_ingress_tag_only_on_load_balancer_groups,
    alb_http_redirects_when_https,
    vpc_without_nat_has_endpoints,
    ecr_cache_role_pulls_only_upstream,
)


# Served as advisory: a stack without them deploys with a warning. WAF is opt-in (`app.waf`).
ADVISORY_STACK_RULES: Final[tuple[StackRule, ...]] = (alb_internet_facing_has_waf,)


def policy_name(rule: ResourceRule | AccountRule | StackRule) -> str:
    """The CrossGuard policy name of a rule: its function name in kebab-case."""
    return rule.__name__.replace("_", "-")


def policy_description(rule: ResourceRule | AccountRule | StackRule) -> str:
    """The CrossGuard description of a rule: the first line of its docstring."""
    return (rule.__doc__ or "").strip().splitlines()[0]


def resource_violations(
    resource_type: str, props: Props, *, account_id: str | None
) -> dict[str, list[str]]:
    """Every resource rule's violations for one resource, by policy name (empty ones left out)."""
    found = {policy_name(rule): rule(resource_type, props) for rule in RESOURCE_RULES}
    found |= {policy_name(rule): rule(resource_type, props, account_id) for rule in ACCOUNT_RULES}
    return {name: messages for name, messages in found.items() if messages}


# --- Helpers ---------------------------------------------------------------------------------

_CONSUMER_LOWER: Final = frozenset(a.lower() for a in CONSUMER_ACTIONS)

StatementCheck = Callable[[str, Props], list[str]]


def _as_list(value: Any) -> list[Any]:
    # IAM JSON allows a single value where a list is expected ("Action": "ecr:BatchGetImage").
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    return list(value)


def _load_json(value: Any, what: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError(f"{what} is not valid JSON ({error}); pass json.dumps(...)") from None


def policy_statements(document: Any) -> list[Props]:
    """The statements of a policy document given as a JSON string or a dict."""
    parsed = _load_json(document, "the policy")
    if not isinstance(parsed, Mapping) or "Statement" not in parsed:
        raise ValueError("the policy is not a document with a Statement; pass {'Statement': [...]}")
    statements = _as_list(parsed["Statement"])
    if not all(isinstance(s, Mapping) for s in statements):
        raise ValueError("the policy has a statement that is not an object; fix the document")
    return statements


def _check_statements(documents: Iterable[tuple[str, Any]], check: StatementCheck) -> list[str]:
    messages = []
    for where, document in documents:
        try:
            statements = policy_statements(document)
        except ValueError as error:
            messages.append(f"{where}: {error}.")
            continue
        for index, statement in enumerate(statements, start=1):
            sid = statement.get("Sid")
            label = f"{where} statement '{sid}'" if sid else f"{where} statement {index}"
            messages.extend(check(label, statement))
    return messages


def _check_repository_policy(resource_type: str, props: Props, check: StatementCheck) -> list[str]:
    if resource_type != ECR_REPOSITORY_POLICY:
        return []
    return _check_statements([("repository policy", props.get("policy"))], check)


def _iam_documents(resource_type: str, props: Props) -> list[tuple[str, Any]]:
    if resource_type == IAM_POLICY:
        return [("policy", props.get("policy"))]
    if resource_type in IAM_INLINE_POLICY_TYPES:
        return [("inline policy", props.get("policy"))]
    if resource_type == IAM_ROLE:
        return [
            (f"inline policy '{inline.get('name')}'", inline.get("policy"))
            for inline in _as_list(props.get("inlinePolicies"))
            if inline.get("policy") is not None
        ]
    return []


def _allowed_actions(statement: Props) -> list[str]:
    if statement.get("Effect") != "Allow":
        return []
    return [str(action) for action in _as_list(statement.get("Action"))]


def _covers(pattern: str, action: str) -> bool:
    # IAM action names are case-insensitive; `*` and `?` are the only wildcards.
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _principals(statement: Props) -> list[str]:
    principal = statement.get("Principal")
    if principal is None:
        return []
    if isinstance(principal, str):
        return [principal]
    # {"AWS": "*"} yields "*", the same as Principal "*".
    return [str(v) for kind in principal for v in _as_list(principal[kind])]


def _principal_account(principal: str) -> str | None:
    if _ACCOUNT_ID.fullmatch(principal):
        return principal
    match = _PRINCIPAL_ARN.match(principal)
    return match.group("account") if match else None


def _cache_role_check(name: str, registries: list[str]) -> StatementCheck:
    """Pull actions of the cache role's statements only on single upstream repositories."""

    def check(label: str, statement: Props) -> list[str]:
        pulling = [
            a for a in _allowed_actions(statement) if any(_covers(a, p) for p in PULL_ACTIONS)
        ]
        if not pulling:
            return []
        outside = [
            str(r)
            for r in _as_list(statement.get("Resource"))
            if not any(str(r).startswith(reg) for reg in registries)
            or any(c in str(r).split(":repository/", 1)[-1] for c in "*?")
        ]
        if "NotResource" in statement:
            outside.append("NotResource (every resource but the listed ones)")
        return [
            f"{label}: the pull-through cache role '{name}' allows {', '.join(pulling)} on "
            f"{resource}, which is not one repository of a cache rule's upstream registry "
            f"({', '.join(registries) or 'none in this stack'}); allow it on the vendor "
            "repository's ARN only."
            for resource in outside
        ]

    return check


def _trusts_service(role: Props, service: str) -> bool:
    try:
        statements = policy_statements(role.get("assumeRolePolicy"))
    except ValueError:
        return False
    return any(
        s.get("Effect") == "Allow"
        and isinstance(s.get("Principal"), Mapping)
        and service in _as_list(s["Principal"].get("Service"))
        for s in statements
    )


def _has_private_subnets(vpc: Props) -> bool:
    # awsx's default layout (no subnetSpecs) has a private subnet in every availability zone.
    specs = _as_list(vpc.get("subnetSpecs"))
    return not specs or any(str(spec.get("type")).lower() == "private" for spec in specs)


def _condition_keys(statement: Props) -> set[str]:
    condition = statement.get("Condition") or {}
    return {str(key).lower() for operator in condition.values() for key in operator}


def _check_containers(
    resource_type: str, props: Props, check: Callable[[str, Props], list[str]]
) -> list[str]:
    if resource_type != ECS_TASK_DEFINITION:
        return []
    try:
        containers = _as_list(_load_json(props.get("containerDefinitions"), "containerDefinitions"))
    except ValueError as error:
        return [f"task definition: {error}."]
    return [
        message
        for container in containers
        for message in check(f"container '{container.get('name')}'", container)
    ]


def _ingresses(resource_type: str, props: Props) -> list[_Ingress]:
    if resource_type not in (SECURITY_GROUP, SECURITY_GROUP_INGRESS_RULE, SECURITY_GROUP_RULE):
        return []
    tags = props.get("tags") or {}
    if resource_type == SECURITY_GROUP:
        return [
            _Ingress(
                where="security group",
                sources=[*_as_list(rule.get("cidrBlocks")), *_as_list(rule.get("ipv6CidrBlocks"))],
                protocol=str(rule.get("protocol")),
                from_port=rule.get("fromPort"),
                to_port=rule.get("toPort"),
                tags=tags,
            )
            for rule in _as_list(props.get("ingress"))
        ]
    if resource_type == SECURITY_GROUP_INGRESS_RULE:
        sources = [props.get("cidrIpv4"), props.get("cidrIpv6")]
        return [
            _Ingress(
                where="ingress rule",
                sources=[s for s in sources if s],
                protocol=str(props.get("ipProtocol")),
                from_port=props.get("fromPort"),
                to_port=props.get("toPort"),
                tags=tags,
            )
        ]
    if resource_type == SECURITY_GROUP_RULE and props.get("type") == "ingress":
        return [
            _Ingress(
                where="security group rule (no tags possible)",
                sources=[
                    *_as_list(props.get("cidrBlocks")),
                    *_as_list(props.get("ipv6CidrBlocks")),
                ],
                protocol=str(props.get("protocol")),
                from_port=props.get("fromPort"),
                to_port=props.get("toPort"),
                tags={},
            )
        ]
    return []


def _port_text(ingress: _Ingress) -> str:
    if ingress.protocol in ("-1", "all"):
        return "all protocols and ports"
    if ingress.from_port == ingress.to_port:
        return f"{ingress.protocol} {_number(ingress.from_port)}"
    return f"{ingress.protocol} {_number(ingress.from_port)}-{_number(ingress.to_port)}"


def _number(value: Any) -> str:
    # CrossGuard hands every number over as a float (protobuf Struct): print 80, not 80.0.
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
