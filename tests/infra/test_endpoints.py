"""VpcEndpoints under mocks: which endpoints, where, and who may reach them."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.endpoints import TYPE, VpcEndpoints, VpcEndpointsArgs
from tests.infra.component_helpers import (
    CUSTOMER_REGION,
    children,
    custom_resources_without_the_provider,
    run_with_provider,
)
from tests.infra.conftest import StackRun, all_of, only

SUBNETS = ["subnet-private-a", "subnet-private-b"]
ROUTE_TABLES = ["rtb-private-a", "rtb-private-b"]
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def build(*, kms: bool = False, region: str = CUSTOMER_REGION) -> StackRun:
    def component(opts: pulumi.ResourceOptions) -> dict[str, Any]:
        args = VpcEndpointsArgs(
            vpc_id="vpc-0123456789abcdef0",
            subnet_ids=SUBNETS,
            route_table_ids=ROUTE_TABLES,
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
        (ENDPOINT, "endpoints-s3"),
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


def test_s3_gateway_endpoint_is_on_the_private_route_tables(run: StackRun) -> None:
    s3 = [r for r in all_of(run.resources, ENDPOINT) if r.name == "endpoints-s3"]
    assert [r.inputs for r in s3] == [
        {
            "vpcId": "vpc-0123456789abcdef0",
            "serviceName": f"com.amazonaws.{CUSTOMER_REGION}.s3",
            "vpcEndpointType": "Gateway",
            "routeTableIds": ROUTE_TABLES,
        }
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
        for service in ("ecr.api", "ecr.dkr", "kms", "logs", "s3", "secretsmanager")
    ]


def test_endpoints_reject_a_bad_region() -> None:
    with pytest.raises(ValueError) as exc_info:
        build(region="west")
    assert str(exc_info.value) == "VpcEndpointsArgs.region: expected an AWS region, got 'west'."
