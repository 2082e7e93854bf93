"""FargateApp: a multi-container task on ECS Fargate behind an Application Load Balancer.

Only the VPC comes from awsx; everything else is a plain `pulumi_aws` resource, so the security
groups, roles, task definition and service are visible to tests and to policy packs. Secure
defaults follow AWS Copilot and terraform-aws-modules/ecs: tasks in private subnets without public
IPs, security groups chained ALB -> tasks, a Secrets Manager secret for the API key, a separate
and empty task role, a deployment circuit breaker with rollback, and Container Insights.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components.aws_values import FARGATE_MEMORY_BY_CPU, LOG_RETENTION_DAYS, NAT_GATEWAY_STRATEGIES
from components.config_reader import format_problem
from components.container_definitions import Container, LogSettings, container_definitions
from components.iam import (
    PolicyStatement,
    allow,
    ecs_tasks_trust_policy,
    merged_policy_document,
)
from components.settings import AppSettings, ContainerSettings, Settings
from components.shared_repo import IMAGE_PLATFORM, Grants, SharedRepo
from components.vendor import VendorImage
from policy.rules import PUBLIC_INGRESS_TAG

TYPE: Final = "ecr-cross-account:components:FargateApp"

# The env var every service reads its API key from (services/common/settings.py).
API_KEY_ENV: Final = "API_KEY"
HEALTH_CHECK_PATH: Final = "/health"
HTTP_PORT: Final = 80
HTTPS_PORT: Final = 443
# TLS 1.3 with TLS 1.2 fallback, forward-secret ciphers only; the ALB's recommended policy.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
SSL_POLICY: Final = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Docker platform -> ECS runtimePlatform (operatingSystemFamily, cpuArchitecture).
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html
RUNTIME_PLATFORMS: Final = {
    "linux/amd64": ("LINUX", "X86_64"),
    "linux/arm64": ("LINUX", "ARM64"),
}
# Seconds the ALB keeps an idle connection (to clients and to the tasks); AWS's default, set here
# so it is visible. It must stay below the services' keep-alive (KEEP_ALIVE_TIMEOUT, 75 s by
# default, services/common/settings.py): the ALB must close an idle connection to a task first,
# or it sends a request on one the task is closing and answers 502.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout
ALB_IDLE_TIMEOUT_SECONDS: Final = 60
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
# strategy, like a change of zones, re-carves every subnet (README, "A second `pulumi up`").
SUBNET_STRATEGY: Final = awsx.ec2.SubnetAllocationStrategy.AUTO
ANYWHERE_IPV4: Final = "0.0.0.0/0"
ANYWHERE_IPV6: Final = "::/0"

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
    # The sizes default to the config's defaults (AppSettings), so the two cannot drift.
    # Default: 2 tasks, one per AZ.
    desired_count: int = AppSettings.desired_count
    # Default: CPU autoscaling up to 4 tasks.
    max_count: int = AppSettings.max_count
    # Default: 1 vCPU and 2 GiB for the whole task (room for spaCy's pipeline).
    cpu: int = AppSettings.cpu
    memory: int = AppSettings.memory
    # Default: one NAT gateway shared by both AZs ("OnePerAz" survives an AZ outage).
    nat_gateways: str = AppSettings.nat_gateways
    # Default: the region's first two standard availability zones, looked up at deploy time.
    availability_zones: Sequence[str] = ()
    # Default: 30 days of container logs.
    log_retention_days: int = AppSettings.log_retention_days
    # Default: HTTP only; with an ACM certificate, HTTPS and an HTTP->HTTPS redirect.
    alb_certificate_arn: pulumi.Input[str] | None = None
    # Default: the AWS-managed key `aws/secretsmanager`, which needs no grant.
    secret_kms_key_arn: pulumi.Input[str] | None = None
    # Default: 60 s for tasks to pass ALB health checks (spaCy loads in ~5 s, nlp-client waits).
    health_check_grace_period_seconds: int = 60
    # Default: scale out above 60% average CPU.
    autoscaling_cpu_target_percent: float = 60.0

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        repos: Mapping[str, SharedRepo],
        vendor: Mapping[str, VendorImage],
    ) -> FargateAppArgs:
        """The args of the stack's `app`: each container's image from its repository.

        `repository: nlp-client` runs this stack's image; `vendorRepository: rake-app` runs the
        vendor's (settings has checked that every name exists and `app` comes with `apiKey`).
        """
        app, api_key = settings.app, settings.api_key
        assert app is not None and api_key is not None

        def container(spec: ContainerSettings) -> ContainerSpec:
            source: SharedRepo | VendorImage = (
                repos[spec.repository] if spec.repository else vendor[str(spec.vendor_repository)]
            )
            return ContainerSpec(
                name=spec.name,
                image=source.image_uri,
                repository=source if isinstance(source, SharedRepo) else source.repository,
                port=spec.port,
                ingress=spec.ingress,
                depends_on=spec.depends_on,
                environment=spec.environment,
            )

        return cls(
            containers=[container(spec) for spec in app.containers],
            api_key=api_key,
            account_id=settings.account_id,
            region=settings.region,
            desired_count=app.desired_count,
            max_count=app.max_count,
            cpu=app.cpu,
            memory=app.memory,
            nat_gateways=app.nat_gateways,
            availability_zones=app.availability_zones,
            log_retention_days=app.log_retention_days,
            alb_certificate_arn=app.certificate_arn,
            secret_kms_key_arn=app.secret_kms_key_arn,
        )


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
            subnet_strategy=SUBNET_STRATEGY,
            subnet_specs=[
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC),
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE),
            ],
            nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(
                strategy=awsx.ec2.NatGatewayStrategy(args.nat_gateways)
            ),
            opts=child,
        )

        self._security_groups(name, args, ingress.port)
        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            subnets=self.vpc.public_subnet_ids,
            security_groups=[self.alb_security_group.id],
            # Requests with malformed headers are dropped, not forwarded (request smuggling).
            drop_invalid_header_fields=True,
            idle_timeout=ALB_IDLE_TIMEOUT_SECONDS,
            opts=child,
        )
        self.target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            target_type="ip",  # awsvpc tasks register by ENI address
            port=ingress.port,
            protocol="HTTP",
            vpc_id=self.vpc.vpc_id,
            # In-flight requests get 30 s to finish; the 300 s default only slows deployments.
            deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path=HEALTH_CHECK_PATH,
                matcher="200",
                protocol="HTTP",
                port="traffic-port",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            opts=child,
        )
        self._listeners(name, args)

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

        self.service = aws.ecs.Service(
            f"{name}-service",
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=args.desired_count,
            launch_type="FARGATE",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=self.vpc.private_subnet_ids,
                security_groups=[self.tasks_security_group.id],
                assign_public_ip=False,
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=self.target_group.arn,
                    container_name=ingress.name,
                    container_port=ingress.port,
                )
            ],
            health_check_grace_period_seconds=args.health_check_grace_period_seconds,
            # A deployment whose tasks never get healthy stops and rolls back by itself.
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True
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
                # ECS refuses a target group that no listener uses yet.
                depends_on=self.listeners,
                # Autoscaling owns the task count once the service exists.
                ignore_changes=["desired_count"],
            ),
        )
        self._autoscaling(name, args)

        self.service_url = pulumi.Output.concat(
            "https://" if args.alb_certificate_arn else "http://", self.load_balancer.dns_name
        )
        self.cluster_name = self.cluster.name
        self.service_name = self.service.name
        self.log_group_name = self.log_group.name
        self.task_exec_role_arn = self.task_exec_role.arn
        self.load_balancer_dns_name = self.load_balancer.dns_name
        self.register_outputs(
            {
                "service_url": self.service_url,
                "cluster_name": self.cluster_name,
                "service_name": self.service_name,
                "log_group_name": self.log_group_name,
                "task_exec_role_arn": self.task_exec_role_arn,
                "load_balancer_dns_name": self.load_balancer_dns_name,
            }
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

    def _security_groups(self, name: str, args: FargateAppArgs, port: int) -> None:
        """ALB <- internet on 80/443; tasks <- ALB on the ingress port; nothing else comes in.

        Rules are separate resources, so the two groups can reference each other without a cycle.
        The provider removes AWS's default allow-all egress rule, so each egress is explicit too.
        """
        child = pulumi.ResourceOptions(parent=self)
        self.alb_security_group = aws.ec2.SecurityGroup(
            f"{name}-sg-alb",
            description=f"{name} load balancer: HTTP(S) from anywhere, out to the tasks only",
            vpc_id=self.vpc.vpc_id,
            opts=child,
        )
        self.tasks_security_group = aws.ec2.SecurityGroup(
            f"{name}-sg-tasks",
            description=f"{name} tasks: in from the load balancer only, out to AWS APIs on 443",
            vpc_id=self.vpc.vpc_id,
            opts=child,
        )
        listener_ports = [HTTP_PORT, HTTPS_PORT] if args.alb_certificate_arn else [HTTP_PORT]
        alb, tasks = self.alb_security_group, self.tasks_security_group
        self.security_group_rules: list[pulumi.CustomResource] = [
            # IPv6 too, so the rules stay right if the load balancer is made dual-stack.
            self._tcp_rule(
                f"{name}-sg-alb-in-{listener_port}{suffix}",
                f"Clients, port {listener_port}",
                into=alb,
                port=listener_port,
                cidr=cidr,
                # The one opening to the internet: the policy pack (policy/rules.py) allows
                # 0.0.0.0/0 and ::/0 only on rules that carry this tag.
                tags=dict([PUBLIC_INGRESS_TAG]),
            )
            for listener_port in listener_ports
            for suffix, cidr in (("", ANYWHERE_IPV4), ("-ipv6", ANYWHERE_IPV6))
        ]
        self.security_group_rules += [
            self._tcp_rule(
                f"{name}-sg-alb-out-tasks",
                "Requests and health checks to the tasks",
                out_of=alb,
                port=port,
                peer=tasks,
            ),
            self._tcp_rule(
                f"{name}-sg-tasks-in-alb",
                "Requests and health checks from the load balancer",
                into=tasks,
                port=port,
                peer=alb,
            ),
            # The tasks' only outbound traffic is HTTPS to AWS APIs, through the NAT gateway:
            # ECR (auth token, manifests) and its S3 layer store, CloudWatch Logs, and Secrets
            # Manager. Their public IP ranges change, hence anywhere on 443 and no other port.
            # (DNS goes to the VPC resolver, which security groups do not filter.)
            self._tcp_rule(
                f"{name}-sg-tasks-out-https",
                "HTTPS to ECR, S3, CloudWatch Logs and Secrets Manager via NAT",
                out_of=tasks,
                port=HTTPS_PORT,
                cidr=ANYWHERE_IPV4,
            ),
        ]

    def _tcp_rule(
        self,
        rule_name: str,
        description: str,
        *,
        port: int,
        into: aws.ec2.SecurityGroup | None = None,
        out_of: aws.ec2.SecurityGroup | None = None,
        peer: aws.ec2.SecurityGroup | None = None,
        cidr: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> pulumi.CustomResource:
        """One TCP port, into or out of a group, from/to another group or a CIDR block."""
        rule = aws.vpc.SecurityGroupIngressRule if into else aws.vpc.SecurityGroupEgressRule
        group = into or out_of
        assert group is not None and (peer is None) != (cidr is None)
        return rule(
            rule_name,
            description=description,
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=peer.id if peer else None,
            cidr_ipv4=cidr if cidr and ":" not in cidr else None,
            cidr_ipv6=cidr if cidr and ":" in cidr else None,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _listeners(self, name: str, args: FargateAppArgs) -> None:
        """HTTP forwards to the app; with a certificate, HTTPS does and HTTP redirects to it."""
        child = pulumi.ResourceOptions(parent=self)
        forward = aws.lb.ListenerDefaultActionArgs(
            type="forward", target_group_arn=self.target_group.arn
        )
        self.listeners: list[pulumi.Resource] = []
        if args.alb_certificate_arn:
            self.listeners.append(
                aws.lb.Listener(
                    f"{name}-listener-https",
                    load_balancer_arn=self.load_balancer.arn,
                    port=HTTPS_PORT,
                    protocol="HTTPS",
                    ssl_policy=SSL_POLICY,
                    certificate_arn=args.alb_certificate_arn,
                    default_actions=[forward],
                    opts=child,
                )
            )
            http_action = aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port=str(HTTPS_PORT), status_code="HTTP_301"
                ),
            )
        else:
            http_action = forward
        self.listeners.append(
            aws.lb.Listener(
                f"{name}-listener-http",
                load_balancer_arn=self.load_balancer.arn,
                port=HTTP_PORT,
                protocol="HTTP",
                default_actions=[http_action],
                opts=child,
            )
        )

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

    def _autoscaling(self, name: str, args: FargateAppArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        self.autoscaling_target = aws.appautoscaling.Target(
            f"{name}-autoscaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", self.cluster.name, "/", self.service.name),
            min_capacity=args.desired_count,
            max_capacity=args.max_count,
            opts=child,
        )
        self.autoscaling_policy = aws.appautoscaling.Policy(
            f"{name}-autoscaling-cpu",
            policy_type="TargetTrackingScaling",
            service_namespace=self.autoscaling_target.service_namespace,
            scalable_dimension=self.autoscaling_target.scalable_dimension,
            resource_id=self.autoscaling_target.resource_id,
            target_tracking_scaling_policy_configuration=(
                aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(  # noqa: E501
                        predefined_metric_type="ECSServiceAverageCPUUtilization"
                    ),
                    target_value=args.autoscaling_cpu_target_percent,
                    # Scale out within a minute of a spike; scale in slowly to avoid flapping.
                    scale_out_cooldown=60,
                    scale_in_cooldown=300,
                )
            ),
            opts=child,
        )


def _validate(args: FargateAppArgs) -> None:
    """Every problem with the args at once, as one ValueError (Outputs are not checked)."""
    problems: list[str] = []

    def bad(key: str, expected: str, value: object) -> None:
        problems.append(format_problem(f"FargateAppArgs.{key}", expected, value))

    names = [c.name for c in args.containers]
    ports = [c.port for c in args.containers]
    ingress = [c.name for c in args.containers if c.ingress]
    if len(ingress) != 1:
        bad("containers", "exactly one container with ingress=True", ingress)
    for index, container in enumerate(args.containers):
        key = f"containers[{index}]"
        if names.index(container.name) != index:
            bad(f"{key}.name", "a name no other container has", container.name)
        if not 1 <= container.port <= 65535 or ports.index(container.port) != index:
            # The containers of a Fargate task share one network namespace (localhost).
            bad(
                f"{key}.port", "a port from 1 to 65535 that no other container uses", container.port
            )
        for dep_index, dependency in enumerate(container.depends_on):
            if dependency not in names or dependency == container.name:
                bad(f"{key}.depends_on[{dep_index}]", "the name of another container", dependency)
        if API_KEY_ENV in container.environment:
            bad(f"{key}.environment", f"no {API_KEY_ENV} (it is injected as a secret)", API_KEY_ENV)
    if not 1 <= args.desired_count <= args.max_count:
        bad("desired_count", f"1 to max_count ({args.max_count})", args.desired_count)
    if args.memory not in FARGATE_MEMORY_BY_CPU.get(args.cpu, ()):
        bad("memory", f"a Fargate memory size for cpu {args.cpu}", args.memory)
    if args.nat_gateways not in NAT_GATEWAY_STRATEGIES:
        bad(
            "nat_gateways",
            "'Single' or 'OnePerAz' (tasks reach ECR through NAT)",
            args.nat_gateways,
        )
    if args.availability_zones and (
        len(set(args.availability_zones)) != len(args.availability_zones)
        or len(args.availability_zones) < AVAILABILITY_ZONE_COUNT
    ):
        bad(
            "availability_zones",
            f"at least {AVAILABILITY_ZONE_COUNT} different zones (or none: the region's first)",
            list(args.availability_zones),
        )
    if args.log_retention_days not in LOG_RETENTION_DAYS:
        bad("log_retention_days", "a CloudWatch Logs retention period", args.log_retention_days)
    if args.health_check_grace_period_seconds < 0:
        bad(
            "health_check_grace_period_seconds", "0 or more", args.health_check_grace_period_seconds
        )
    if not 0 < args.autoscaling_cpu_target_percent <= 100:
        bad("autoscaling_cpu_target_percent", "0 to 100", args.autoscaling_cpu_target_percent)
    if problems:
        raise ValueError("\n".join(problems))
