"""Readers of a recorded FargateApp (component tests and customer-stack tests share them)."""

from __future__ import annotations

import json
from typing import Any, Final

from tests.infra.harness import (
    CUSTOMER_ACCOUNT,
    CUSTOMER_REGION,
    PULL_ACTIONS,
    StackRun,
    all_of,
    named,
    only,
)

# FargateApp "app"'s resources as the mocks name them in the customer's account and region.
ACCOUNT = CUSTOMER_ACCOUNT
REGION = CUSTOMER_REGION
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:app-logs"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app-secret-AbCdEf"
ALB_ARN = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/app-alb/0123456789abcdef"
)
TARGET_GROUP_ARN = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/app-tg/0123456789abcdef"
)

# (direction, security group id, from port, to port, peer CIDR or security group id)
Rule = tuple[str, str, int, int, str]

# FargateApp "app" with ingress port 8080 and no certificate: internet -> ALB on 80; ALB <-> tasks
# on the ingress port; tasks -> AWS APIs on 443. Nothing else.
HTTP_RULES: list[Rule] = [
    ("in", "app-sg-alb-id", 80, 80, "0.0.0.0/0"),
    ("in", "app-sg-alb-id", 80, 80, "::/0"),
    ("in", "app-sg-tasks-id", 8080, 8080, "app-sg-alb-id"),
    ("out", "app-sg-alb-id", 8080, 8080, "app-sg-tasks-id"),
    ("out", "app-sg-tasks-id", 443, 443, "0.0.0.0/0"),
]
# The same with a certificate: the internet also reaches the ALB on 443.
HTTPS_RULES: list[Rule] = sorted(
    [
        *HTTP_RULES,
        ("in", "app-sg-alb-id", 443, 443, "0.0.0.0/0"),
        ("in", "app-sg-alb-id", 443, 443, "::/0"),
    ]
)


def exec_policy(run: StackRun, app: str = "app") -> dict[str, Any]:
    """The execution role's inline policy document."""
    policy = named(run.resources, "aws:iam/rolePolicy:RolePolicy", f"{app}-task-exec-policy")
    document: dict[str, Any] = json.loads(policy.inputs["policy"])
    return document


def listeners_of(run: StackRun) -> dict[str, dict[str, Any]]:
    """Every listener's inputs, by logical name."""
    return {r.name: r.inputs for r in all_of(run.resources, "aws:lb/listener:Listener")}


def https_listeners(
    *, alb_arn: str, target_group_arn: str, certificate_arn: str
) -> dict[str, dict[str, Any]]:
    """FargateApp "app"'s listeners with a certificate: HTTPS forwards, HTTP redirects to it."""
    return {
        "app-listener-https": {
            "loadBalancerArn": alb_arn,
            "port": 443,
            "protocol": "HTTPS",
            "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "certificateArn": certificate_arn,
            "defaultActions": [{"type": "forward", "targetGroupArn": target_group_arn}],
        },
        "app-listener-http": {
            "loadBalancerArn": alb_arn,
            "port": 80,
            "protocol": "HTTP",
            "defaultActions": [
                {
                    "type": "redirect",
                    "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
                }
            ],
        },
    }


def container_definitions_of(run: StackRun) -> list[dict[str, Any]]:
    """The task definition's containerDefinitions, decoded."""
    task = only(run.resources, "aws:ecs/taskDefinition:TaskDefinition")
    definitions: list[dict[str, Any]] = json.loads(task.inputs["containerDefinitions"])
    return definitions


def security_group_rules(run: StackRun) -> list[Rule]:
    """Every security group rule, sorted; each must be TCP."""
    result: list[Rule] = []
    for direction, token in (
        ("in", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
        ("out", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"),
    ):
        for rule in all_of(run.resources, token):
            assert rule.inputs["ipProtocol"] == "tcp", rule.urn
            peer = (
                rule.inputs.get("cidrIpv4")
                or rule.inputs.get("cidrIpv6")
                or rule.inputs["referencedSecurityGroupId"]
            )
            result.append(
                (
                    direction,
                    rule.inputs["securityGroupId"],
                    int(rule.inputs["fromPort"]),
                    int(rule.inputs["toPort"]),
                    peer,
                )
            )
    return sorted(result)


def service_behind_the_alb(container: str) -> dict[str, Any]:
    """FargateApp "app"'s ECS service inputs that no stack changes: two private Fargate tasks,
    `container` on 8080 in the target group, rollback on a failed deployment, no ECS Exec."""
    return {
        "desiredCount": 2,
        "launchType": "FARGATE",
        "networkConfiguration": {
            "subnets": ["subnet-private-a", "subnet-private-b"],
            "securityGroups": ["app-sg-tasks-id"],
            "assignPublicIp": False,
        },
        "loadBalancers": [
            {"targetGroupArn": TARGET_GROUP_ARN, "containerName": container, "containerPort": 8080}
        ],
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "deploymentMinimumHealthyPercent": 100,
        "deploymentMaximumPercent": 200,
        "healthCheckGracePeriodSeconds": 60,
        "enableExecuteCommand": False,
    }


def health_check(port: int) -> dict[str, Any]:
    """The container health check every container gets, probing its own port."""
    return {
        "command": ["CMD", "python", "-m", "common.healthcheck", str(port)],
        "interval": 10,
        "timeout": 5,
        "retries": 3,
        "startPeriod": 30,
    }


def awslogs(group: str, region: str, prefix: str) -> dict[str, Any]:
    """The awslogs configuration of one container."""
    return {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": group,
            "awslogs-region": region,
            "awslogs-stream-prefix": prefix,
        },
    }


def pull_statement(sid: str, repository_arn: str) -> dict[str, Any]:
    """The execution role's pull statement for one repository."""
    return {"Sid": sid, "Effect": "Allow", "Action": PULL_ACTIONS, "Resource": [repository_arn]}


def write_logs_statement(log_group_arn: str) -> dict[str, Any]:
    """The execution role's statement for the containers' log streams."""
    return {
        "Sid": "WriteLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [f"{log_group_arn}:*"],
    }


def read_secret_statement(secret_arn: str) -> dict[str, Any]:
    """The execution role's statement for the API-key secret."""
    return {
        "Sid": "ReadApiKey",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": [secret_arn],
    }


# The customer stack's own SNS topic, and every operations option of `app` (docs/operations.md)
# set to a value other than its default, for the customer stack file (us-west-2, 999988887777).
OWN_TOPIC_ARN = "arn:aws:sns:us-west-2:999988887777:ops-alarms"
EVERY_OPTION: Final[dict[str, Any]] = {
    "certificateArn": "arn:aws:acm:us-west-2:999988887777:certificate/0a1b2c3d",
    "alarmTopicArn": OWN_TOPIC_ARN,
    "alarms": {
        "target5xxCount": 20,
        "target5xxPercent": 2.5,
        "rateMinRequests": 50,
        "elb5xxCount": 30,
        "unhealthyHosts": 2,
        "latencyP99Seconds": 3.5,
        "tasksBelowDesiredMinutes": 10,
        "cpuPercent": 90,
        "memoryPercent": 95,
    },
    "accessLogRetentionDays": 30,
    "waf": True,
    "wafRateLimit": 500,
    "autoscaling": {"cpu": 50, "memory": None, "requestsPerTarget": 900},
    "allowedCidrs": ["203.0.113.0/24", "2001:DB8::/32"],
    "domain": {"name": "nlp.example.com", "zoneId": "Z0123456789ABCDEFGHIJ"},
}


# The `app` object of Pulumi.customer.yaml, for variants that change one key of it.
APP = {
    "desiredCount": 2,
    "maxCount": 4,
    "cpu": 1024,
    "memory": 2048,
    "natGateways": "Single",
    "logRetentionDays": 30,
    "containers": [
        {
            "name": "nlp-client",
            "repository": "nlp-client",
            "port": 8080,
            "ingress": True,
            "dependsOn": ["rake-app", "prose-app"],
        },
        {
            "name": "rake-app",
            "vendorRepository": "rake-app",
            "port": 8081,
            "environment": {"BIND_HOST": "127.0.0.1"},
        },
        {
            "name": "prose-app",
            "repository": "prose-app",
            "port": 8082,
            "environment": {"BIND_HOST": "127.0.0.1"},
        },
    ],
}

# The alarms ServiceAlarms creates, by role (the suffix of their names).
ALARM_ROLES = [
    "target-5xx",
    "target-5xx-rate",
    "elb-5xx",
    "unhealthy-hosts",
    "latency-p99",
    "tasks-below-desired",
    "cpu-high",
    "memory-high",
]
