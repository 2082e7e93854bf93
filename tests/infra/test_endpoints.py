"""VpcEndpoints under mocks: which endpoints, where, and who may reach them."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_awsx as awsx
import pytest

from components.endpoints import TYPE, VpcEndpoints, VpcEndpointsArgs, vpc_endpoint_options
from tests.infra.component_helpers import (
    children,
    custom_resources_without_the_provider,
    run_with_provider,
)
from tests.infra.harness import CUSTOMER_REGION, StackRun, all_of, only

SUBNETS = ["subnet-private-a", "subnet-private-b"]
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def build(*, kms: bool = False, region: str = CUSTOMER_REGION) -> StackRun:
    def component(opts: pulumi.ResourceOptions) -> dict[str, Any]:
        args = VpcEndpointsArgs(
            vpc_id="vpc-0123456789abcdef0",
            subnet_ids=SUBNETS,
            tasks_security_group_id="sg-tasks",
            region=region,
            kms=kms,
        )
        VpcEndpoints("endpoints", args, opts)
        return {}

    return run_with_provider(component)


@pytest.fixture(scope="module")
def run() -> StackRun:
    return build()


def test_endpoints_children_use_role_names_and_the_stack_provider(run: StackRun) -> None:
    assert children(run, TYPE) == [
        ("aws:ec2/securityGroup:SecurityGroup", "endpoints-sg"),
        (ENDPOINT, "endpoints-ecr-api"),
        (ENDPOINT, "endpoints-ecr-dkr"),
        (ENDPOINT, "endpoints-logs"),
        (ENDPOINT, "endpoints-secretsmanager"),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "endpoints-sg-in-tasks"),
    ]
    assert custom_resources_without_the_provider(run) == []


def test_interface_endpoints_have_private_dns_in_the_private_subnets(run: StackRun) -> None:
    interfaces = {
        r.inputs["serviceName"]: r.inputs
        for r in all_of(run.resources, ENDPOINT)
        if r.inputs["vpcEndpointType"] == "Interface"
    }
    expected = {
        "vpcId": "vpc-0123456789abcdef0",
        "vpcEndpointType": "Interface",
        "privateDnsEnabled": True,
        "subnetIds": SUBNETS,
        "securityGroupIds": ["endpoints-sg-id"],
    }
    assert interfaces == {
        f"com.amazonaws.{CUSTOMER_REGION}.{service}": {
            **expected,
            "serviceName": f"com.amazonaws.{CUSTOMER_REGION}.{service}",
        }
        for service in ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
    }


def test_vpc_options_turn_on_dns_and_ask_awsx_for_the_s3_gateway_on_its_route_tables() -> None:
    options = vpc_endpoint_options(CUSTOMER_REGION)
    specs = options.pop("vpc_endpoint_specs")
    assert options == {
        "enable_dns_hostnames": True,
        "enable_dns_support": True,
        "vpc_endpoint_strategy": awsx.ec2.VpcEndpointStrategy.AUTO,
    }
    # No route tables named: with the Auto strategy awsx fills in the ones it generates.
    assert [(s.service_name, s.vpc_endpoint_type, s.route_table_ids) for s in specs] == [
        (f"com.amazonaws.{CUSTOMER_REGION}.s3", "Gateway", None)
    ]


def test_endpoint_security_group_admits_https_from_the_tasks_only(run: StackRun) -> None:
    group = only(run.resources, "aws:ec2/securityGroup:SecurityGroup")
    rules = all_of(run.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert "ingress" not in group.inputs and "egress" not in group.inputs
    assert [r.inputs for r in rules] == [
        {
            "description": "HTTPS from the tasks",
            "securityGroupId": "endpoints-sg-id",
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "referencedSecurityGroupId": "sg-tasks",
        }
    ]
    assert all_of(run.resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") == []


def test_kms_endpoint_is_added_for_a_customer_managed_key() -> None:
    names = sorted(r.inputs["serviceName"] for r in all_of(build(kms=True).resources, ENDPOINT))
    assert names == [
        f"com.amazonaws.{CUSTOMER_REGION}.{service}"
        for service in ("ecr.api", "ecr.dkr", "kms", "logs", "secretsmanager")
    ]


def test_endpoints_reject_a_bad_region() -> None:
    with pytest.raises(ValueError) as exc_info:
        build(region="west")
    assert str(exc_info.value) == "VpcEndpointsArgs.region: expected an AWS region, got 'west'."
