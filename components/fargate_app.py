"""FargateApp: a multi-container task on ECS Fargate behind an Application Load Balancer.

Only the VPC comes from awsx; everything else is a plain `pulumi_aws` resource, so the security
groups, roles, task definition and service are visible to tests and to policy packs. Secure
defaults follow AWS Copilot and terraform-aws-modules/ecs: tasks in private subnets without public
IPs, security groups chained ALB -> tasks, a Secrets Manager secret for the API key, a separate
and empty task role, a deployment circuit breaker with rollback, and Container Insights. To run it
like production (`FargateAppArgs.operations`, docs/operations.md): alarms whose target-5xx and
unhealthy-host alarms also roll a deployment back, ALB access logs, an optional web ACL, scaling
on CPU, memory and requests, and who may reach the ALB under which name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components.alarms import ServiceAlarms, ServiceAlarmsArgs
from components.config_errors import format_problem
from components.container_definitions import Container, LogSettings, container_definitions
from components.endpoints import VpcEndpoints, VpcEndpointsArgs, vpc_endpoint_options
from components.iam import (
    PolicyStatement,
    allow,
    ecs_tasks_trust_policy,
    merged_policy_document,
)
from components.load_balancer import LoadBalancer
from components.operations import OperationsArgs
from components.scaling import ServiceScaling, ServiceScalingArgs
from components.shared_repo import IMAGE_PLATFORM, Grants

TYPE: Final = "ecr-cross-account:components:FargateApp"

# The env var every service reads its API key from (services/common/settings.py).
API_KEY_ENV: Final = "API_KEY"
# Docker platform -> ECS runtimePlatform (operatingSystemFamily, cpuArchitecture).
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html
RUNTIME_PLATFORMS: Final = {
    "linux/amd64": ("LINUX", "X86_64"),
    "linux/arm64": ("LINUX", "ARM64"),
}
# Availability zones the VPC spans: two, the fewest an ALB accepts. Standard zones only: a Local
# or Wavelength zone (also "available" once opted in, and sorted first: `us-west-2-lax-1a`) has
# no ALB or NAT gateway (pulumi-awsx#1365).
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html
AVAILABILITY_ZONE_COUNT: Final = 2
STANDARD_ZONES: Final = aws.GetAvailabilityZonesFilterArgs(
    name="zone-type", values=["availability-zone"]
)
# How awsx carves the subnets out of the VPC's range: "Auto" keeps the specs' order (public, then
# private). Said explicitly because awsx's default ("Legacy") is announced to change; a change of
# strategy, like a change of zones, re-carves every subnet (docs/updates.md, "VPC").
SUBNET_STRATEGY: Final = awsx.ec2.SubnetAllocationStrategy.AUTO
# The VPC's address range: awsx's own default, said explicitly because an internal load balancer
# admits it (components/reach.py); the same value, so the VPC and its subnets are unchanged.
VPC_CIDR: Final = "10.0.0.0/16"

# How long `pulumi up` waits for the service's deployment to finish (`wait_for_steady_state`).
# Long enough for the circuit breaker to fail a bad deployment and roll back: with up to 6 tasks it
# fails after 3 failed tasks, ECS starts 2 at a time (maximum 200%), and each fails within about
# 3 minutes (image pull, health-check start period and retries, the ALB's grace period), so about
# 8 minutes; rolling back is another deployment of about 5. Short enough to end before the CI job
# does (timeout-minutes of .github/workflows/pulumi-stack.yml, checked by tests/infra), so the job
# is never killed while it holds the stack's lock.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
SERVICE_DEPLOY_TIMEOUT_MINUTES: Final = 30

# What the execution role does besides pulling images.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
LOG_ACTIONS: Final = ("logs:CreateLogStream", "logs:PutLogEvents")
SECRET_ACTIONS: Final = ("secretsmanager:GetSecretValue",)
# Unlike ECR, Secrets Manager decrypts with the caller's own permission on a customer-managed key.
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
KMS_ACTIONS: Final = ("kms:Decrypt",)


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:
    """One container of the task: its image, where the image lives, and how it runs."""

    name: str
    # Digest-pinned image URI, so a new image is a visible diff in `pulumi preview`.
    image: pulumi.Input[str]
    # The repository `image` is pulled from; the execution role gets exactly its pull grant.
    # (`SharedRepo` of this stack or `RepoRef` of the vendor's).
    repository: Grants
    # The port the process listens on; the task's containers share `localhost`.
    port: int
    # Default: not the load balancer's target (exactly one container is).
    ingress: bool = False
    # Default: starts at once. Containers that must be HEALTHY before this one starts.
    depends_on: Sequence[str] = ()
    # Default: no environment variables besides the API key, which is always a secret.
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class FargateAppArgs:
    """What the app runs and how big it is."""

    # The task's containers; exactly one has `ingress=True`.
    containers: Sequence[ContainerSpec]
    # The API key every container receives as `API_KEY`; keep it a secret Output.
    api_key: pulumi.Input[str]
    # The stack's account ID (the roles trust ECS only on behalf of this account).
    account_id: str
    # The stack's region (where containers send their logs).
    region: str
    # The config's `app` keys default to these (components/settings.py reads them from here).
    # Default: 2 tasks, one per AZ.
    desired_count: int = 2
    # Default: CPU autoscaling up to 4 tasks.
    max_count: int = 4
    # Default: 1 vCPU and 2 GiB for the whole task (room for spaCy's pipeline).
    cpu: int = 1024
    memory: int = 2048
    # Default: one NAT gateway shared by both AZs ("OnePerAz" survives an AZ outage; "None" needs
    # `vpc_endpoints` and images in this region).
    nat_gateways: str = "Single"
    # Default: no VPC endpoints (tasks reach AWS through NAT). True: interface endpoints for ECR,
    # Logs, Secrets Manager (+KMS) and the S3 gateway (components/endpoints.py).
    vpc_endpoints: bool = False
    # Default: the region's first two standard availability zones, looked up at deploy time.
    availability_zones: Sequence[str] = ()
    # Default: 30 days of container logs.
    log_retention_days: int = 30
    # Default: HTTP only; with an ACM certificate, HTTPS and an HTTP->HTTPS redirect.
    alb_certificate_arn: pulumi.Input[str] | None = None
    # Default: the AWS-managed key `aws/secretsmanager`, which needs no grant.
    secret_kms_key_arn: pulumi.Input[str] | None = None
    # Default: 60 s for tasks to pass ALB health checks (spaCy loads in ~5 s, nlp-client waits).
    health_check_grace_period_seconds: int = 60
    # Default: alarms to a new topic, access logs, no WAF, scaling on CPU, memory and requests,
    # an internet-facing ALB open to anywhere (components/operations.py).
    operations: OperationsArgs = OperationsArgs()


class FargateApp(pulumi.ComponentResource):
    """A load-balanced Fargate service whose execution role may pull exactly its images."""

    def __init__(
        self, name: str, args: FargateAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        _validate(args)
        child = pulumi.ResourceOptions(parent=self)
        ingress = next(c for c in args.containers if c.ingress)

        self.vpc = awsx.ec2.Vpc(
            f"{name}-vpc",
            availability_zone_names=list(args.availability_zones) or self._standard_zones(),
            cidr_block=VPC_CIDR,
            subnet_strategy=SUBNET_STRATEGY,
            subnet_specs=[
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC),
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE),
            ],
            nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(
                strategy=awsx.ec2.NatGatewayStrategy(args.nat_gateways)
            ),
            **(vpc_endpoint_options(args.region) if args.vpc_endpoints else {}),
            opts=child,
        )

        # Security groups, the ALB, its target group and listeners: children of this component.
        self.lb = LoadBalancer(
            name,
            parent=self,
            vpc=self.vpc,
            vpc_cidr=VPC_CIDR,
            port=ingress.port,
            account_id=args.account_id,
            region=args.region,
            certificate_arn=args.alb_certificate_arn,
            operations=args.operations,
        )
        self.endpoints = self._endpoints(name, args)
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=args.log_retention_days, opts=child
        )
        self.secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            description=f"API key of {name}, injected into its containers as {API_KEY_ENV}",
            kms_key_id=args.secret_kms_key_arn,
            opts=child,
        )
        self.secret_version = aws.secretsmanager.SecretVersion(
            f"{name}-secret-version",
            secret_id=self.secret.id,
            secret_string=pulumi.Output.secret(args.api_key),
            opts=child,
        )

        trust_policy = json.dumps(ecs_tasks_trust_policy(args.account_id))
        self.task_exec_role = aws.iam.Role(
            f"{name}-task-exec",
            description=f"ECS pulls {name}'s images, writes its logs and reads its API key",
            assume_role_policy=trust_policy,
            opts=child,
        )
        self.task_exec_policy = aws.iam.RolePolicy(
            f"{name}-task-exec-policy",
            role=self.task_exec_role.id,
            policy=self._task_exec_policy(args),
            opts=child,
        )
        # What the app's own code may do in AWS: nothing (the services call no AWS API).
        self.task_role = aws.iam.Role(
            f"{name}-task-role",
            description=f"{name}'s application code (no permissions)",
            assume_role_policy=trust_policy,
            opts=child,
        )

        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            # Per stack: another stack in the account (the acceptance test's) must not add
            # revisions to this one's family.
            family=re.sub(r"[^A-Za-z0-9_-]", "-", f"{pulumi.get_stack()}-{name}"),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            # The platform SharedRepo builds every image for (IMAGE_PLATFORM), in ECS's words.
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family=RUNTIME_PLATFORMS[IMAGE_PLATFORM][0],
                cpu_architecture=RUNTIME_PLATFORMS[IMAGE_PLATFORM][1],
            ),
            cpu=str(args.cpu),
            memory=str(args.memory),
            execution_role_arn=self.task_exec_role.arn,
            task_role_arn=self.task_role.arn,
            container_definitions=self._container_definitions(args),
            # The execution role must be able to pull before a task starts.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.task_exec_policy]),
        )

        # The service names the deployment alarms, and the CPU, memory and task-count alarms name
        # the service: they get its name once it exists (a deferred output), so the alarms the
        # service needs come first and those that need the service wait for it.
        with _deferred_name() as (service_name, resolve_service_name):
            self.alarms = ServiceAlarms(
                f"{name}-alarms",
                ServiceAlarmsArgs(
                    load_balancer=self.lb.load_balancer.arn_suffix,
                    target_group=self.lb.target_group.arn_suffix,
                    cluster_name=self.cluster.name,
                    service_name=service_name,
                    thresholds=args.operations.alarm_thresholds,
                    topic_arn=args.operations.alarm_topic_arn,
                ),
                opts=child,
            )
            self.service = self._service(name, args, ingress)
            resolve_service_name(self.service.name)
        self.scaling = ServiceScaling(
            # The names the target and CPU policy have always had (nothing is replaced).
            f"{name}-autoscaling",
            ServiceScalingArgs(
                cluster_name=self.cluster.name,
                service_name=self.service.name,
                min_capacity=args.desired_count,
                max_capacity=args.max_count,
                targets=args.operations.scaling,
                request_resource_label=pulumi.Output.concat(
                    self.lb.load_balancer.arn_suffix, "/", self.lb.target_group.arn_suffix
                ),
            ),
            parent=self,
        )

        self.service_url = self.lb.url
        self.alarm_topic_arn = self.alarms.topic_arn
        self.access_log_bucket = self.lb.access_logs.bucket_name
        self.web_acl_arn = self.lb.web_acl.web_acl_arn if self.lb.web_acl else None
        self.cluster_name = self.cluster.name
        self.service_name = self.service.name
        self.log_group_name = self.log_group.name
        self.task_exec_role_arn = self.task_exec_role.arn
        self.load_balancer_dns_name = self.lb.load_balancer.dns_name
        self.register_outputs(
            {
                "service_url": self.service_url,
                "cluster_name": self.cluster_name,
                "service_name": self.service_name,
                "log_group_name": self.log_group_name,
                "task_exec_role_arn": self.task_exec_role_arn,
                "load_balancer_dns_name": self.load_balancer_dns_name,
                "alarm_topic_arn": self.alarm_topic_arn,
                "access_log_bucket": self.access_log_bucket,
                "web_acl_arn": self.web_acl_arn,
            }
        )

    def _service(self, name: str, args: FargateAppArgs, ingress: ContainerSpec) -> aws.ecs.Service:
        """The ECS service: private tasks behind the load balancer, rolled back by the circuit
        breaker and by the deployment alarms."""
        return aws.ecs.Service(
            f"{name}-service",
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=args.desired_count,
            launch_type="FARGATE",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=self.vpc.private_subnet_ids,
                security_groups=[self.lb.tasks_security_group.id],
                assign_public_ip=False,
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=self.lb.target_group.arn,
                    container_name=ingress.name,
                    container_port=ingress.port,
                )
            ],
            health_check_grace_period_seconds=args.health_check_grace_period_seconds,
            # A deployment whose tasks never get healthy stops and rolls back by itself.
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True
            ),
            # And one whose tasks start but answer errors: ECS watches these alarms during the
            # deployment and rolls back when one fires.
            # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
            alarms=aws.ecs.ServiceAlarmsArgs(
                alarm_names=self.alarms.deployment_alarm_names, enable=True, rollback=True
            ),
            # Full capacity throughout a deployment: new tasks start before old ones stop.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            enable_execute_command=False,
            # A new API key changes only the secret's value, not the task definition (it names the
            # secret's ARN): without a new deployment, running tasks would keep the old key while
            # tasks started later get the new one (401s behind the same ALB). This also makes the
            # service wait for the key's first version.
            force_new_deployment=True,
            triggers={"api_key_version": self.secret_version.version_id},
            # `pulumi up` waits until the new tasks are in service, so a deployment that fails
            # (an image the role may not pull, a crash-looping container) fails the update
            # instead of rolling back unseen; an interrupted `up` (Ctrl-C) rolls back too.
            wait_for_steady_state=True,
            sigint_rollback=True,
            opts=pulumi.ResourceOptions(
                parent=self,
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{SERVICE_DEPLOY_TIMEOUT_MINUTES}m",
                    update=f"{SERVICE_DEPLOY_TIMEOUT_MINUTES}m",
                ),
                # ECS refuses a target group that no listener uses yet; tasks behind endpoints
                # start once the endpoints exist.
                depends_on=[*self.lb.listeners, *([self.endpoints] if self.endpoints else [])],
                # Autoscaling owns the task count once the service exists.
                ignore_changes=["desired_count"],
            ),
        )

    def _endpoints(self, name: str, args: FargateAppArgs) -> VpcEndpoints | None:
        """With `vpc_endpoints`: the interface endpoints in the private subnets, reachable from
        the tasks only (the S3 gateway is the VPC's own, `vpc_endpoint_options`)."""
        if not args.vpc_endpoints:
            return None
        return VpcEndpoints(
            f"{name}-endpoints",
            VpcEndpointsArgs(
                vpc_id=self.vpc.vpc_id,
                subnet_ids=self.vpc.private_subnet_ids,
                tasks_security_group_id=self.lb.tasks_security_group.id,
                region=args.region,
                kms=args.secret_kms_key_arn is not None,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _standard_zones(self) -> list[str]:
        """The region's first AVAILABILITY_ZONE_COUNT standard zones, by name.

        awsx takes plain zone names (it lays out subnets per zone before anything is created), so
        this is a plain invoke, through the component's AWS provider.
        """
        found = aws.get_availability_zones(
            state="available",
            filters=[STANDARD_ZONES],
            opts=pulumi.InvokeOptions(parent=self),
        )
        zones = sorted(found.names)[:AVAILABILITY_ZONE_COUNT]
        if len(zones) < AVAILABILITY_ZONE_COUNT:
            raise ValueError(
                format_problem(
                    "the region's available standard availability zones",
                    f"at least {AVAILABILITY_ZONE_COUNT}",
                    zones,
                )
            )
        return zones

    def _task_exec_policy(self, args: FargateAppArgs) -> pulumi.Output[str]:
        """Pull exactly these images, write these logs, read this secret (and decrypt it)."""
        own: list[pulumi.Output[PolicyStatement]] = [
            # Log streams live under the group: `<group ARN>:*`.
            self.log_group.arn.apply(lambda arn: allow(LOG_ACTIONS, [f"{arn}:*"], sid="WriteLogs")),
            self.secret.arn.apply(lambda arn: allow(SECRET_ACTIONS, [arn], sid="ReadApiKey")),
        ]
        if args.secret_kms_key_arn is not None:
            own.append(
                pulumi.Output.from_input(args.secret_kms_key_arn).apply(
                    lambda arn: allow(KMS_ACTIONS, [arn], sid="DecryptApiKey")
                )
            )
        # Each grant brings the `EcrLogin` statement (GetAuthorizationToken on "*"); the merge
        # keeps every distinct statement once, so two containers of one repository are fine.
        grants = [container.repository.grant_pull() for container in args.containers]
        return pulumi.Output.all(*grants, pulumi.Output.all(*own)).apply(
            lambda groups: json.dumps(merged_policy_document(groups))
        )

    def _container_definitions(self, args: FargateAppArgs) -> pulumi.Output[str]:
        def render(values: list[Any]) -> str:
            secret_arn, log_group, *images = values
            containers = [
                Container(
                    name=spec.name,
                    image=image,
                    port=spec.port,
                    environment=spec.environment,
                    secrets={API_KEY_ENV: secret_arn},
                    depends_on=spec.depends_on,
                )
                for spec, image in zip(args.containers, images, strict=True)
            ]
            return json.dumps(
                container_definitions(containers, LogSettings(group=log_group, region=args.region))
            )

        return pulumi.Output.all(
            self.secret.arn, self.log_group.name, *(c.image for c in args.containers)
        ).apply(render)


@contextmanager
def _deferred_name() -> Iterator[tuple[pulumi.Output[str], Callable[[pulumi.Output[str]], None]]]:
    """An output resolved later with another (`pulumi.deferred_output`).

    If the block raises before resolving it, it is resolved with that error: resources waiting
    for it fail with the program instead of keeping `pulumi up` waiting forever.
    """
    deferred: tuple[pulumi.Output[str], Callable[[pulumi.Output[str]], None]]
    deferred = pulumi.deferred_output()
    output, resolve = deferred
    resolved = False

    def resolve_once(value: pulumi.Output[str]) -> None:
        nonlocal resolved
        resolved = True
        resolve(value)

    try:
        yield output, resolve_once
    except BaseException as error:
        if not resolved:
            reason = f"not built: {type(error).__name__}: {error}"

            def fail(_: str) -> str:
                raise RuntimeError(reason)

            resolve(pulumi.Output.from_input("").apply(fail))
        raise


def _validate(args: FargateAppArgs) -> None:
    """The component's own knobs, at once (settings validate everything the config sets)."""
    problems: list[str] = []

    def bad(key: str, expected: str, value: object) -> None:
        problems.append(format_problem(f"FargateAppArgs.{key}", expected, value))

    if args.health_check_grace_period_seconds < 0:
        bad(
            "health_check_grace_period_seconds", "0 or more", args.health_check_grace_period_seconds
        )
    if problems:
        raise ValueError("\n".join(problems))
