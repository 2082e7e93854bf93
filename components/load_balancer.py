"""The app's load balancer: security groups, the ALB, its target group and its listeners.

Split from the service the way terraform-aws-modules/ecs keeps them apart: this is the entrance
(internet -> ALB -> the ingress container's port), components/fargate_app.py the service behind it.
Not a component of its own: its resources stay children of the FargateApp that makes it, so their
URNs are those they always had. Also here, from `OperationsArgs` (docs/operations.md): the access
log bucket, who may reach the ALB (`allowed_cidrs`, `internal`), the optional web ACL and the
Route 53 name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components.access_logs import AccessLogBucket, AccessLogBucketArgs
from components.aws_values import PUBLIC_INGRESS_TAG
from components.operations import OperationsArgs
from components.reach import (
    ANYWHERE_IPV4,
    alias_record,
    ingress_sources,
    service_url,
    validate_domain,
)
from components.waf import WebAcl, WebAclArgs

HEALTH_CHECK_PATH: Final = "/health"
HTTP_PORT: Final = 80
HTTPS_PORT: Final = 443
# TLS 1.3 with TLS 1.2 fallback, forward-secret ciphers only; the ALB's recommended policy.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
SSL_POLICY: Final = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Seconds the ALB keeps an idle connection (to clients and to the tasks); AWS's default, set here
# so it is visible. It must stay below the services' keep-alive (KEEP_ALIVE_TIMEOUT, 75 s by
# default, services/common/settings.py): the ALB must close an idle connection to a task first,
# or it sends a request on one the task is closing and answers 502.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout
ALB_IDLE_TIMEOUT_SECONDS: Final = 60


def target_group_name(name: str, *, internal: bool) -> str:
    """The target group's logical name: a new one with the load balancer's scheme.

    Changing `internal` replaces the ALB (its scheme is fixed), and the new ALB's listeners cannot
    forward to the old target group while the old ALB's still do: ELB refuses a target group on a
    second load balancer (TargetGroupAssociationLimit, hashicorp/terraform-provider-aws#22005), and
    the `up` would stop there. Another name gives the new ALB a new target group; the service
    moves to it in place, and the old one goes with the old ALB. Internet-facing keeps the name
    the target group always had.
    """
    return f"{name}-tg-internal" if internal else f"{name}-tg"


class LoadBalancer:
    """An ALB forwarding to one port of the tasks, the groups around both, and its edge: access
    logs, who may reach it, an optional web ACL and DNS name."""

    alb_security_group: aws.ec2.SecurityGroup
    tasks_security_group: aws.ec2.SecurityGroup
    security_group_rules: list[pulumi.CustomResource]
    access_logs: AccessLogBucket
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    listeners: list[pulumi.Resource]
    web_acl: WebAcl | None
    dns_record: aws.route53.Record | None
    # What clients call: `https://<domain>`, else the ALB's DNS name (https with a certificate).
    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        parent: pulumi.Resource,
        vpc: awsx.ec2.Vpc,
        vpc_cidr: str,
        port: int,
        account_id: str,
        region: str,
        operations: OperationsArgs,
        certificate_arn: pulumi.Input[str] | None = None,
    ) -> None:
        """`port`: where the ingress container listens; `certificate_arn`: HTTPS (default: HTTP);
        `account_id`, `region`: the stack's (the access-log bucket's policy names them)."""
        self.parent = parent
        child = pulumi.ResourceOptions(parent=parent)
        if operations.domain is not None:
            validate_domain(operations.domain, certificate_arn=certificate_arn)
        self._security_groups(name, vpc, vpc_cidr, port, certificate_arn, operations)
        self.access_logs = AccessLogBucket(
            f"{name}-access-logs",
            AccessLogBucketArgs(
                account_id=account_id,
                region=region,
                retention_days=operations.access_log_retention_days,
                force_destroy=operations.force_destroy_access_logs,
            ),
            opts=child,
        )
        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            # Internal: in the private subnets, reachable from the VPC (and allowed_cidrs) only.
            internal=operations.internal,
            subnets=vpc.private_subnet_ids if operations.internal else vpc.public_subnet_ids,
            security_groups=[self.alb_security_group.id],
            # Requests with malformed headers are dropped, not forwarded (request smuggling).
            drop_invalid_header_fields=True,
            idle_timeout=ALB_IDLE_TIMEOUT_SECONDS,
            access_logs=self.access_logs.access_logs(),
            # ELB writes a test object when logging is turned on: the bucket policy must exist.
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[self.access_logs.policy]),
        )
        self.target_group = aws.lb.TargetGroup(
            target_group_name(name, internal=operations.internal),
            target_type="ip",  # awsvpc tasks register by ENI address
            port=port,
            protocol="HTTP",
            vpc_id=vpc.vpc_id,
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
        self._listeners(name, certificate_arn)
        self._edge(name, operations, https=bool(certificate_arn))

    def _edge(self, name: str, operations: OperationsArgs, *, https: bool) -> None:
        """The optional web ACL and Route 53 name, and the URL clients call."""
        child = pulumi.ResourceOptions(parent=self.parent)
        alb = self.load_balancer
        self.web_acl = (
            WebAcl(
                f"{name}-waf",
                WebAclArgs(load_balancer_arn=alb.arn, rate_limit=operations.waf_rate_limit),
                opts=child,
            )
            if operations.waf
            else None
        )
        domain = operations.domain
        self.dns_record = (
            aws.route53.Record(
                f"{name}-dns",
                **alias_record(domain, dns_name=alb.dns_name, zone_id=alb.zone_id),
                opts=child,
            )
            if domain is not None
            else None
        )
        self.url = service_url(domain=domain, https=https, dns_name=alb.dns_name)

    def _security_groups(
        self,
        name: str,
        vpc: awsx.ec2.Vpc,
        vpc_cidr: str,
        port: int,
        certificate_arn: pulumi.Input[str] | None,
        operations: OperationsArgs,
    ) -> None:
        """ALB <- clients on 80/443; tasks <- ALB on the ingress port; nothing else comes in.

        Clients: anywhere by default, else `allowed_cidrs` (and the VPC when internal;
        components/reach.py). Rules are separate resources, so the two groups can reference
        each other without a cycle. The provider removes AWS's default allow-all egress rule, so
        each egress is explicit too.
        """
        child = pulumi.ResourceOptions(parent=self.parent)
        sources = ingress_sources(
            operations.allowed_cidrs, internal=operations.internal, vpc_cidr=vpc_cidr
        )
        # A group's description cannot change without replacing it: the default keeps the one it
        # always had.
        clients = "anywhere"
        if operations.internal:
            clients = "the VPC and allowed blocks"
        elif not all(source.public for source in sources):
            clients = "allowed blocks"
        self.alb_security_group = aws.ec2.SecurityGroup(
            f"{name}-sg-alb",
            description=f"{name} load balancer: HTTP(S) from {clients}, out to the tasks only",
            vpc_id=vpc.vpc_id,
            opts=child,
        )
        self.tasks_security_group = aws.ec2.SecurityGroup(
            f"{name}-sg-tasks",
            description=f"{name} tasks: in from the load balancer only, out to AWS APIs on 443",
            vpc_id=vpc.vpc_id,
            opts=child,
        )
        listener_ports = [HTTP_PORT, HTTPS_PORT] if certificate_arn else [HTTP_PORT]
        alb, tasks = self.alb_security_group, self.tasks_security_group
        self.security_group_rules: list[pulumi.CustomResource] = [
            # Anywhere is IPv6 too, so the rules stay right if the load balancer is made
            # dual-stack.
            self._tcp_rule(
                f"{name}-sg-alb-in-{listener_port}{source.suffix}",
                f"Clients, port {listener_port}",
                into=alb,
                port=listener_port,
                cidr=source.cidr,
                # The one opening to the internet: the policy pack (policy/rules.py) allows
                # 0.0.0.0/0 and ::/0 only on rules that carry this tag.
                tags=dict([PUBLIC_INGRESS_TAG]) if source.public else None,
            )
            for listener_port in listener_ports
            for source in sources
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
            opts=pulumi.ResourceOptions(parent=self.parent),
        )

    def _listeners(self, name: str, certificate_arn: pulumi.Input[str] | None) -> None:
        """HTTP forwards to the app; with a certificate, HTTPS does and HTTP redirects to it."""
        child = pulumi.ResourceOptions(parent=self.parent)
        forward = aws.lb.ListenerDefaultActionArgs(
            type="forward", target_group_arn=self.target_group.arn
        )
        self.listeners: list[pulumi.Resource] = []
        if certificate_arn:
            self.listeners.append(
                aws.lb.Listener(
                    f"{name}-listener-https",
                    load_balancer_arn=self.load_balancer.arn,
                    port=HTTPS_PORT,
                    protocol="HTTPS",
                    ssl_policy=SSL_POLICY,
                    certificate_arn=certificate_arn,
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
