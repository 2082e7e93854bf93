"""FargateApp as a component, under the shared recording mocks (no stack file)."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from common.settings import KEEP_ALIVE_SECONDS, NlpClientSettings
from components.fargate_app import (
    SERVICE_DEPLOY_TIMEOUT_MINUTES,
    ContainerSpec,
    FargateApp,
    FargateAppArgs,
)
from components.load_balancer import ALB_IDLE_TIMEOUT_SECONDS
from components.shared_repo import RepoRef
from tests.ci.workflow_calls import load_workflow
from tests.infra.app_helpers import (
    ACCOUNT,
    ALB_ARN,
    HTTP_RULES,
    HTTPS_RULES,
    LOG_GROUP_ARN,
    REGION,
    SECRET_ARN,
    TARGET_GROUP_ARN,
    awslogs,
    container_definitions_of,
    exec_policy,
    health_check,
    https_listeners,
    listeners_of,
    pull_statement,
    read_secret_statement,
    security_group_rules,
    service_behind_the_alb,
    write_logs_statement,
)
from tests.infra.harness import (
    LOGIN_STATEMENT,
    PROJECT,
    ROOT,
    StackRun,
    all_of,
    fake_secret_version_id,
    is_secret_input,
    named,
    only,
    run_program,
    unwrap_secret,
)

CONFIG = {f"{PROJECT}:accountId": ACCOUNT, "aws:region": REGION}
EDGE_REPO_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/edge"
WORKER_REPO_ARN = "arn:aws:ecr:us-east-2:111122223333:repository/worker"
EDGE_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/edge@sha256:{'e' * 64}"
WORKER_IMAGE = f"111122223333.dkr.ecr.us-east-2.amazonaws.com/worker@sha256:{'w' * 64}"
CERTIFICATE_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0a1b2c3d"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# The execution role's statements for `containers()`, in order.
APP_EXEC_STATEMENTS = [
    LOGIN_STATEMENT,
    pull_statement("PullEdge", EDGE_REPO_ARN),
    pull_statement("PullWorker", WORKER_REPO_ARN),
    write_logs_statement(LOG_GROUP_ARN),
    read_secret_statement(SECRET_ARN),
]


def containers() -> list[ContainerSpec]:
    """An edge container behind the ALB that waits for a worker from another account's repo."""
    return [
        ContainerSpec(
            name="edge",
            image=EDGE_IMAGE,
            repository=RepoRef.from_arn(EDGE_REPO_ARN),
            port=8080,
            ingress=True,
            depends_on=["worker"],
            environment={"WORKER_ENDPOINT": "http://localhost:8081"},
        ),
        ContainerSpec(
            name="worker",
            image=pulumi.Output.from_input(WORKER_IMAGE),
            repository=RepoRef.from_arn(WORKER_REPO_ARN),
            port=8081,
        ),
    ]


def run_app(**overrides: Any) -> StackRun:
    """Build FargateApp "app" with the two containers above and `overrides` of its args."""

    def program() -> None:
        args: dict[str, Any] = {
            "containers": containers(),
            "api_key": pulumi.Output.secret("test-api-key"),
            "account_id": ACCOUNT,
            "region": REGION,
            **overrides,
        }
        app = FargateApp("app", FargateAppArgs(**args))
        pulumi.export("service_url", app.service_url)
        pulumi.export("cluster_name", app.cluster_name)
        pulumi.export("service_name", app.service_name)
        pulumi.export("log_group_name", app.log_group_name)
        pulumi.export("task_exec_role_arn", app.task_exec_role_arn)
        pulumi.export("load_balancer_dns_name", app.load_balancer_dns_name)

    return run_program(program, stack="customer", config=CONFIG)


@pytest.fixture(scope="module")
def app_run() -> StackRun:
    return run_app()


def inputs(run: StackRun, type_token: str, name: str) -> dict[str, Any]:
    return named(run.resources, type_token, name).inputs


def test_fargate_app_exec_role_may_pull_exactly_its_images_log_and_read_the_key(
    app_run: StackRun,
) -> None:
    assert exec_policy(app_run) == {"Version": "2012-10-17", "Statement": APP_EXEC_STATEMENTS}


def test_fargate_app_with_secret_kms_key_encrypts_the_secret_and_grants_decrypt() -> None:
    run = run_app(secret_kms_key_arn=KMS_KEY_ARN)

    assert inputs(run, "aws:secretsmanager/secret:Secret", "app-secret")["kmsKeyId"] == KMS_KEY_ARN
    assert exec_policy(run) == {
        "Version": "2012-10-17",
        "Statement": [
            *APP_EXEC_STATEMENTS,
            {
                "Sid": "DecryptApiKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [KMS_KEY_ARN],
            },
        ],
    }


def test_fargate_app_two_containers_of_one_repository_get_one_pull_statement() -> None:
    edge, worker = containers()
    same_repo = ContainerSpec(
        name="worker", image=EDGE_IMAGE, repository=edge.repository, port=8081
    )

    run = run_app(containers=[edge, same_repo])

    assert exec_policy(run) == {
        "Version": "2012-10-17",
        "Statement": [
            LOGIN_STATEMENT,
            pull_statement("PullEdge", EDGE_REPO_ARN),
            write_logs_statement(LOG_GROUP_ARN),
            read_secret_statement(SECRET_ARN),
        ],
    }


def test_fargate_app_roles_trust_only_ecs_tasks_of_this_account(app_run: StackRun) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }
    roles = all_of(app_run.resources, "aws:iam/role:Role")
    assert {r.name: json.loads(r.inputs["assumeRolePolicy"]) for r in roles} == {
        "app-task-exec": trust,
        "app-task-role": trust,
    }


def test_fargate_app_iam_is_two_roles_and_the_exec_policy_so_the_task_role_has_no_permissions(
    app_run: StackRun,
) -> None:
    # Every IAM resource, with every input but the documents (exact in the tests above): a policy
    # or attachment of any type, on a role by ID or by name, or a role's own inline or managed
    # policies, adds a row or a key here.
    documents = ("assumeRolePolicy", "policy")
    iam = [
        (r.type, r.name, {k: v for k, v in r.inputs.items() if k not in documents})
        for r in app_run.resources
        if r.type.startswith("aws:iam/")
    ]
    assert sorted(iam, key=lambda row: row[:2]) == [
        (
            "aws:iam/role:Role",
            "app-task-exec",
            {"description": "ECS pulls app's images, writes its logs and reads its API key"},
        ),
        (
            "aws:iam/role:Role",
            "app-task-role",
            {"description": "app's application code (no permissions)"},
        ),
        ("aws:iam/rolePolicy:RolePolicy", "app-task-exec-policy", {"role": "app-task-exec-id"}),
    ]


def test_fargate_app_task_definition_is_fargate_awsvpc_linux_x86_with_both_roles(
    app_run: StackRun,
) -> None:
    task = only(app_run.resources, "aws:ecs/taskDefinition:TaskDefinition")
    assert {k: v for k, v in task.inputs.items() if k != "containerDefinitions"} == {
        "family": "customer-app",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
        "cpu": "1024",
        "memory": "2048",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/app-task-exec",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/app-task-role",
    }


def test_fargate_app_container_definitions_are_exact(app_run: StackRun) -> None:
    secrets = [{"name": "API_KEY", "valueFrom": SECRET_ARN}]
    assert container_definitions_of(app_run) == [
        {
            "name": "edge",
            "image": EDGE_IMAGE,
            "essential": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "WORKER_ENDPOINT", "value": "http://localhost:8081"}],
            "secrets": secrets,
            "healthCheck": health_check(8080),
            "dependsOn": [{"containerName": "worker", "condition": "HEALTHY"}],
            "readonlyRootFilesystem": True,
            "linuxParameters": {"initProcessEnabled": True},
            "logConfiguration": awslogs("app-logs", REGION, "edge"),
        },
        {
            "name": "worker",
            "image": WORKER_IMAGE,
            "essential": True,
            "portMappings": [{"containerPort": 8081, "protocol": "tcp"}],
            "secrets": secrets,
            "healthCheck": health_check(8081),
            "readonlyRootFilesystem": True,
            "linuxParameters": {"initProcessEnabled": True},
            "logConfiguration": awslogs("app-logs", REGION, "worker"),
        },
    ]


def test_fargate_app_api_key_reaches_secrets_manager_only_as_a_secret(app_run: StackRun) -> None:
    version = inputs(
        app_run, "aws:secretsmanager/secretVersion:SecretVersion", "app-secret-version"
    )

    assert is_secret_input(version["secretString"])
    assert unwrap_secret(version["secretString"]) == "test-api-key"
    assert version["secretId"] == "app-secret-id"
    everything_else = json.dumps(
        [r.inputs for r in app_run.resources if r.name != "app-secret-version"]
    )
    assert "test-api-key" not in everything_else


def test_fargate_app_security_groups_chain_internet_to_alb_to_tasks_on_port_80(
    app_run: StackRun,
) -> None:
    assert security_group_rules(app_run) == HTTP_RULES


def test_fargate_app_security_groups_live_in_the_vpc_with_inline_rules_none(
    app_run: StackRun,
) -> None:
    groups = all_of(app_run.resources, "aws:ec2/securityGroup:SecurityGroup")
    # Registrations run concurrently: compare in name order.
    assert sorted(
        (g.name, g.inputs["vpcId"], "ingress" in g.inputs, "egress" in g.inputs) for g in groups
    ) == [
        ("app-sg-alb", "vpc-0123456789abcdef0", False, False),
        ("app-sg-tasks", "vpc-0123456789abcdef0", False, False),
    ]


def test_fargate_app_vpc_has_two_azs_public_private_subnets_and_one_nat(app_run: StackRun) -> None:
    vpc = only(app_run.resources, "awsx:ec2:Vpc")
    assert vpc.inputs == {
        # The region's first two standard zones (the mocks also list a Local Zone, sorted first).
        "availabilityZoneNames": [f"{REGION}a", f"{REGION}b"],
        "subnetStrategy": "Auto",
        "subnetSpecs": [{"type": "Public"}, {"type": "Private"}],
        "natGateways": {"strategy": "Single"},
        # awsx's own default, said explicitly (an internal load balancer admits it).
        "cidrBlock": "10.0.0.0/16",
    }


def test_fargate_app_given_zones_are_used_without_a_lookup() -> None:
    run = run_app(availability_zones=[f"{REGION}b", f"{REGION}c"])

    vpc = only(run.resources, "awsx:ec2:Vpc")
    assert vpc.inputs["availabilityZoneNames"] == [f"{REGION}b", f"{REGION}c"]
    assert run.calls == []


def test_fargate_app_nat_per_az_variant_is_passed_to_the_vpc() -> None:
    run = run_app(nat_gateways="OnePerAz")

    assert only(run.resources, "awsx:ec2:Vpc").inputs["natGateways"] == {"strategy": "OnePerAz"}


def test_fargate_app_alb_is_public_in_the_public_subnets(app_run: StackRun) -> None:
    assert inputs(app_run, "aws:lb/loadBalancer:LoadBalancer", "app-alb") == {
        "loadBalancerType": "application",
        "internal": False,
        "subnets": ["subnet-public-a", "subnet-public-b"],
        "securityGroups": ["app-sg-alb-id"],
        "dropInvalidHeaderFields": True,
        "idleTimeout": 60,
        "accessLogs": {"bucket": "app-access-logs-bucket", "prefix": "alb", "enabled": True},
    }


def test_fargate_app_alb_closes_idle_connections_before_the_services_do(app_run: StackRun) -> None:
    idle_timeout = inputs(app_run, "aws:lb/loadBalancer:LoadBalancer", "app-alb")["idleTimeout"]
    assert idle_timeout == ALB_IDLE_TIMEOUT_SECONDS < KEEP_ALIVE_SECONDS


def test_fargate_app_edge_gives_up_on_an_upstream_before_the_alb_gives_up_on_the_edge() -> None:
    # Otherwise a slow upstream gets the client the ALB's HTML 504, not the edge's JSON one.
    edge_timeout = NlpClientSettings.model_fields["upstream_timeout"].default
    assert edge_timeout < ALB_IDLE_TIMEOUT_SECONDS


def test_fargate_app_target_group_checks_health_on_the_ingress_port(app_run: StackRun) -> None:
    assert inputs(app_run, "aws:lb/targetGroup:TargetGroup", "app-tg") == {
        "targetType": "ip",
        "port": 8080,
        "protocol": "HTTP",
        "vpcId": "vpc-0123456789abcdef0",
        "deregistrationDelay": 30,
        "healthCheck": {
            "path": "/health",
            "matcher": "200",
            "protocol": "HTTP",
            "port": "traffic-port",
            "interval": 15,
            "timeout": 5,
            "healthyThreshold": 2,
            "unhealthyThreshold": 3,
        },
    }


def test_fargate_app_without_certificate_forwards_http_80(app_run: StackRun) -> None:
    listener = only(app_run.resources, "aws:lb/listener:Listener")
    assert (listener.name, listener.inputs) == (
        "app-listener-http",
        {
            "loadBalancerArn": ALB_ARN,
            "port": 80,
            "protocol": "HTTP",
            "defaultActions": [
                {
                    "type": "forward",
                    "targetGroupArn": TARGET_GROUP_ARN,
                }
            ],
        },
    )


def test_fargate_app_with_certificate_serves_https_and_redirects_http() -> None:
    run = run_app(alb_certificate_arn=CERTIFICATE_ARN)

    assert listeners_of(run) == https_listeners(
        alb_arn=ALB_ARN, target_group_arn=TARGET_GROUP_ARN, certificate_arn=CERTIFICATE_ARN
    )
    assert run.exports["service_url"] == (f"https://app-alb-1234567890.{REGION}.elb.amazonaws.com")


def test_fargate_app_with_certificate_opens_443_on_the_alb_only() -> None:
    run = run_app(alb_certificate_arn=CERTIFICATE_ARN)

    assert security_group_rules(run) == HTTPS_RULES


def test_fargate_app_service_runs_private_tasks_with_rollback_behind_the_alb(
    app_run: StackRun,
) -> None:
    assert inputs(app_run, "aws:ecs/service:Service", "app-service") == {
        "cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/app-cluster",
        "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:app-task",
        **service_behind_the_alb("edge"),
        "alarms": {
            "alarmNames": ["app-alarms-target-5xx", "app-alarms-unhealthy-hosts"],
            "enable": True,
            "rollback": True,
        },
        "propagateTags": "SERVICE",
        "enableEcsManagedTags": True,
        "forceNewDeployment": True,
        "triggers": {"api_key_version": secret_version_id(app_run)},
        "waitForSteadyState": True,
        "sigintRollback": True,
    }


def test_fargate_app_up_waits_for_the_deployment_longer_than_a_rollback_takes(
    app_run: StackRun,
) -> None:
    # A failed deployment (denied pull, crash loop) must fail `pulumi up`: it waits for a steady
    # state, long enough for the circuit breaker to fail it and roll back (~15 min).
    service = named(app_run.resources, "aws:ecs/service:Service", "app-service")
    assert service.inputs["waitForSteadyState"] is True
    assert service.custom_timeouts == {"create": "30m", "update": "30m"}
    assert SERVICE_DEPLOY_TIMEOUT_MINUTES == 30


def test_fargate_app_deploy_wait_ends_before_the_ci_job_is_killed() -> None:
    # GitHub kills a job at its timeout-minutes, leaving the stack locked mid-update: the
    # service's wait plus the rest of `up` (VPC, ALB, builds: ~15 min) must fit inside it.
    job = load_workflow(ROOT / ".github" / "workflows" / "pulumi-stack.yml")["jobs"]["pulumi"]
    assert SERVICE_DEPLOY_TIMEOUT_MINUTES + 15 <= job["timeout-minutes"]


def secret_version_id(run: StackRun) -> str:
    """The version the mocks gave the API key's secret."""
    version = only(run.resources, "aws:secretsmanager/secretVersion:SecretVersion")
    return fake_secret_version_id(version.inputs["secretString"])


def test_fargate_app_new_api_key_redeploys_the_service(app_run: StackRun) -> None:
    # Running tasks read the key at start: a new key must replace them, not only the secret.
    rotated = run_app(api_key=pulumi.Output.secret("rotated-api-key"))

    triggers = [
        inputs(run, "aws:ecs/service:Service", "app-service")["triggers"]
        for run in (app_run, rotated)
    ]
    assert triggers[0] != triggers[1]
    assert triggers[1] == {"api_key_version": secret_version_id(rotated)}


def test_fargate_app_service_waits_for_the_api_keys_first_version(app_run: StackRun) -> None:
    service = named(app_run.resources, "aws:ecs/service:Service", "app-service")
    version = named(
        app_run.resources, "aws:secretsmanager/secretVersion:SecretVersion", "app-secret-version"
    )
    assert version.urn in service.dependencies


def test_fargate_app_service_waits_for_listeners_and_leaves_the_count_to_autoscaling() -> None:
    run = run_app(alb_certificate_arn=CERTIFICATE_ARN)

    service = named(run.resources, "aws:ecs/service:Service", "app-service")
    listeners = {r.urn for r in all_of(run.resources, "aws:lb/listener:Listener")}
    # ECS refuses a target group no listener uses; autoscaling owns desiredCount after creation.
    # (`dependencies` also holds every resource an input comes from.)
    assert (listeners <= set(service.dependencies), service.ignore_changes) == (
        True,
        ("desiredCount",),
    )


def test_fargate_app_task_definition_waits_for_the_exec_role_policy(app_run: StackRun) -> None:
    task = only(app_run.resources, "aws:ecs/taskDefinition:TaskDefinition")
    policy = named(app_run.resources, "aws:iam/rolePolicy:RolePolicy", "app-task-exec-policy")
    # The role's ARN is an input, its policy is not: without this the first task could start
    # before the role may pull. (`dependencies` also holds every resource an input comes from.)
    assert policy.urn in task.dependencies


def test_fargate_app_cluster_has_container_insights(app_run: StackRun) -> None:
    assert inputs(app_run, "aws:ecs/cluster:Cluster", "app-cluster") == {
        "settings": [{"name": "containerInsights", "value": "enabled"}]
    }


def test_fargate_app_log_group_keeps_logs_for_the_configured_days() -> None:
    run = run_app(log_retention_days=7)

    assert inputs(run, "aws:cloudwatch/logGroup:LogGroup", "app-logs") == {"retentionInDays": 7}


def test_fargate_app_autoscales_on_cpu_between_desired_and_max(app_run: StackRun) -> None:
    target = inputs(app_run, "aws:appautoscaling/target:Target", "app-autoscaling")
    policy = inputs(app_run, "aws:appautoscaling/policy:Policy", "app-autoscaling-cpu")
    assert target == {
        "serviceNamespace": "ecs",
        "scalableDimension": "ecs:service:DesiredCount",
        "resourceId": "service/app-cluster/app-service",
        "minCapacity": 2,
        "maxCapacity": 4,
    }
    assert policy == {
        "policyType": "TargetTrackingScaling",
        "serviceNamespace": "ecs",
        "scalableDimension": "ecs:service:DesiredCount",
        "resourceId": "service/app-cluster/app-service",
        "targetTrackingScalingPolicyConfiguration": {
            "predefinedMetricSpecification": {
                "predefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
            "targetValue": 60,
            "scaleOutCooldown": 60,
            "scaleInCooldown": 300,
        },
    }


def test_fargate_app_outputs_name_the_http_url_cluster_service_logs_and_role(
    app_run: StackRun,
) -> None:
    assert app_run.exports == {
        "service_url": f"http://app-alb-1234567890.{REGION}.elb.amazonaws.com",
        "cluster_name": "app-cluster",
        "service_name": "app-service",
        "log_group_name": "app-logs",
        "task_exec_role_arn": f"arn:aws:iam::{ACCOUNT}:role/app-task-exec",
        "load_balancer_dns_name": f"app-alb-1234567890.{REGION}.elb.amazonaws.com",
    }


def test_fargate_app_children_are_named_by_role_under_the_component(app_run: StackRun) -> None:
    component = only(app_run.resources, "ecr-cross-account:components:FargateApp")
    children = [r for r in app_run.resources if r.parent == component.urn]
    assert sorted(r.name for r in children) == [
        "app-access-logs",
        "app-alarms",
        "app-alb",
        "app-autoscaling",
        "app-autoscaling-cpu",
        "app-autoscaling-memory",
        "app-autoscaling-requests",
        "app-cluster",
        "app-listener-http",
        "app-logs",
        "app-secret",
        "app-secret-version",
        "app-service",
        "app-sg-alb",
        "app-sg-alb-in-80",
        "app-sg-alb-in-80-ipv6",
        "app-sg-alb-out-tasks",
        "app-sg-tasks",
        "app-sg-tasks-in-alb",
        "app-sg-tasks-out-https",
        "app-task",
        "app-task-exec",
        "app-task-exec-policy",
        "app-task-role",
        "app-tg",
        "app-vpc",
    ]
    # Everything else belongs to the two components among them.
    grandchildren = [r for r in app_run.resources if r.parent in {c.urn for c in children}]
    assert len(children) + len(grandchildren) == len(app_run.resources) - 1


def test_fargate_app_rejects_bad_args_of_its_own_listing_every_problem() -> None:
    # Everything the config sets is validated by the settings (test_settings.py).
    with pytest.raises(ValueError) as exc:
        run_app(health_check_grace_period_seconds=-1)

    assert str(exc.value) == (
        "FargateAppArgs.health_check_grace_period_seconds: expected 0 or more, got -1."
    )
