"""VpcEndpoints: what Fargate tasks in private subnets reach AWS through when there is no NAT.

A task start calls ECR's API (`ecr.api`: auth token, manifest), its registry (`ecr.dkr`), S3
(image layers: a gateway endpoint on the route tables), CloudWatch Logs (awslogs) and Secrets
Manager (the API key), plus KMS when the secret has a customer managed key. Interface endpoints
get private DNS, so the tasks' usual hostnames resolve to the endpoints, and a security group that
admits HTTPS from the tasks' group only.
https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html

The S3 gateway endpoint is not this component's: it goes on route tables, which awsx's VPC
creates inside itself and does not name before they exist. `vpc_endpoint_options` asks the VPC
for it instead (awsx's `vpcEndpointStrategy: Auto` puts a gateway endpoint on every route table
it generates: the private ones the tasks use, and the public ones, where only the load balancer
and the NAT gateways live and a route to S3 changes nothing), and turns on the VPC's DNS
hostnames, without which private DNS names of interface endpoints do not resolve.
https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html

An endpoint serves its own region only: a task behind these endpoints can pull only images in
this region (see docs/mirroring.md), and ECR documents that a first pull through a pull-through
cache over PrivateLink needs a NAT route (the vpc-endpoints page above, "Considerations").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components.aws_values import REGION
from components.config_errors import format_problem

TYPE: Final = "ecr-cross-account:components:VpcEndpoints"

HTTPS_PORT: Final = 443
# Interface endpoints every NAT-less task needs, by the suffix of their service name.
INTERFACE_SERVICES: Final = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
# Added when the API key's secret is encrypted with a customer managed key.
KMS_SERVICE: Final = "kms"
# Layers are S3 objects: a gateway endpoint (route table entries, no charge, no security group).
GATEWAY_SERVICE: Final = "s3"


def service_name(region: str, service: str) -> str:
    """`com.amazonaws.<region>.<service>`, the name AWS gives a regional endpoint service."""
    return f"com.amazonaws.{region}.{service}"


def interface_services(*, kms: bool) -> tuple[str, ...]:
    """The interface endpoints to create, in creation order."""
    return (*INTERFACE_SERVICES, KMS_SERVICE) if kms else INTERFACE_SERVICES


def vpc_endpoint_options(region: str) -> dict[str, Any]:
    """awsx `Vpc` arguments for tasks behind endpoints: DNS for private DNS names, and the S3
    gateway endpoint on the VPC's route tables (see the module docstring)."""
    return {
        # AWS requires both for an interface endpoint's private DNS; a new VPC has hostnames off.
        "enable_dns_hostnames": True,
        "enable_dns_support": True,
        "vpc_endpoint_strategy": awsx.ec2.VpcEndpointStrategy.AUTO,
        "vpc_endpoint_specs": [
            awsx.ec2.VpcEndpointSpecArgs(
                service_name=service_name(region, GATEWAY_SERVICE), vpc_endpoint_type="Gateway"
            )
        ],
    }


@dataclass(frozen=True, kw_only=True)
class VpcEndpointsArgs:
    """The VPC, where the endpoints go, and who may use them."""

    vpc_id: pulumi.Input[str]
    # The tasks' (private) subnets: one endpoint network interface in each.
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    # The tasks' security group: the only source the endpoints admit.
    tasks_security_group_id: pulumi.Input[str]
    # The VPC's region (endpoint service names are regional).
    region: str
    # Default: no KMS endpoint; True when the API key's secret uses a customer managed key.
    kms: bool = False


class VpcEndpoints(pulumi.ComponentResource):
    """Interface endpoints (private DNS) for ECR, Logs and Secrets Manager (+KMS)."""

    security_group: aws.ec2.SecurityGroup
    ingress: aws.vpc.SecurityGroupIngressRule
    interface_endpoints: dict[str, aws.ec2.VpcEndpoint]

    def __init__(
        self, name: str, args: VpcEndpointsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        if not REGION.fullmatch(args.region):
            raise ValueError(
                format_problem("VpcEndpointsArgs.region", "an AWS region", args.region)
            )
        child = pulumi.ResourceOptions(parent=self)
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description=f"{name}: HTTPS from the tasks to the AWS API endpoints, nothing else",
            vpc_id=args.vpc_id,
            opts=child,
        )
        # No egress rule: endpoints answer, they never open connections (security groups are
        # stateful, and the provider drops AWS's default allow-all egress).
        self.ingress = aws.vpc.SecurityGroupIngressRule(
            f"{name}-sg-in-tasks",
            description="HTTPS from the tasks",
            security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            referenced_security_group_id=args.tasks_security_group_id,
            opts=child,
        )
        self.interface_endpoints = {
            service: aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=args.vpc_id,
                service_name=service_name(args.region, service),
                vpc_endpoint_type="Interface",
                # The SDKs' default hostnames (api.ecr.<region>.amazonaws.com, ...) resolve here.
                private_dns_enabled=True,
                subnet_ids=args.subnet_ids,
                security_group_ids=[self.security_group.id],
                opts=child,
            )
            for service in interface_services(kms=args.kms)
        }
        self.register_outputs(
            {
                "security_group_id": self.security_group.id,
                "endpoint_ids": pulumi.Output.all(
                    *(e.id for e in self.interface_endpoints.values())
                ),
            }
        )
