"""ServiceScaling: one target, a policy per metric, and FargateApp's CPU policy reproduced."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.fargate_app import ContainerSpec, FargateApp, FargateAppArgs
from components.scaling import ServiceScaling, ServiceScalingArgs, policy_configuration
from components.shared_repo import RepoRef
from tests.infra.conftest import StackRun, all_of, named, only, run_program

EDGE_IMAGE = f"999988887777.dkr.ecr.us-west-2.amazonaws.com/edge@sha256:{'e' * 64}"
LABEL = "app/app-alb/0123456789abcdef/targetgroup/app-tg/0123456789abcdef"
POLICY = "aws:appautoscaling/policy:Policy"


def test_policy_configuration_tracks_one_predefined_metric_with_slower_scale_in() -> None:
    assert policy_configuration("requests", 1500.0, LABEL) == {
        "predefined_metric_specification": {
            "predefined_metric_type": "ALBRequestCountPerTarget",
            "resource_label": LABEL,
        },
        "target_value": 1500.0,
        "scale_out_cooldown": 60,
        "scale_in_cooldown": 300,
    }
    assert policy_configuration("memory", 70.0)["predefined_metric_specification"] == {
        "predefined_metric_type": "ECSServiceAverageMemoryUtilization"
    }


def run_scaling(**changes: Any) -> StackRun:
    def program() -> None:
        values: dict[str, Any] = {
            "cluster_name": "app-cluster",
            "service_name": "app-service",
            "min_capacity": 2,
            "max_capacity": 6,
            "request_resource_label": LABEL,
            **changes,
        }
        ServiceScaling("app-scaling", ServiceScalingArgs(**values))

    return run_program(program)


def test_service_scaling_has_one_target_and_three_policies_by_default() -> None:
    run = run_scaling()
    target = only(run.resources, "aws:appautoscaling/target:Target")
    assert target.inputs == {
        "serviceNamespace": "ecs",
        "scalableDimension": "ecs:service:DesiredCount",
        "resourceId": "service/app-cluster/app-service",
        "minCapacity": 2,
        "maxCapacity": 6,
    }
    configurations = {
        p.name: p.inputs["targetTrackingScalingPolicyConfiguration"]
        for p in all_of(run.resources, POLICY)
    }
    assert configurations == {
        "app-scaling-cpu": {
            "predefinedMetricSpecification": {
                "predefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
            "targetValue": 60,
            "scaleOutCooldown": 60,
            "scaleInCooldown": 300,
        },
        "app-scaling-memory": {
            "predefinedMetricSpecification": {
                "predefinedMetricType": "ECSServiceAverageMemoryUtilization"
            },
            "targetValue": 70,
            "scaleOutCooldown": 60,
            "scaleInCooldown": 300,
        },
        "app-scaling-requests": {
            "predefinedMetricSpecification": {
                "predefinedMetricType": "ALBRequestCountPerTarget",
                "resourceLabel": LABEL,
            },
            "targetValue": 1500,
            "scaleOutCooldown": 60,
            "scaleInCooldown": 300,
        },
    }


def test_service_scaling_leaves_out_the_policies_set_to_none() -> None:
    run = run_scaling(memory_percent=None, requests_per_target=None, request_resource_label=None)
    assert [p.name for p in all_of(run.resources, POLICY)] == ["app-scaling-cpu"]


def test_service_scaling_cpu_policy_is_the_one_fargate_app_builds_today() -> None:
    # Replacing FargateApp's own autoscaling with ServiceScaling keeps the CPU policy's inputs.
    def program() -> None:
        app = FargateApp(
            "app",
            FargateAppArgs(
                containers=[
                    ContainerSpec(
                        name="edge",
                        image=EDGE_IMAGE,
                        repository=RepoRef.from_arn(
                            "arn:aws:ecr:us-west-2:999988887777:repository/edge"
                        ),
                        port=8080,
                        ingress=True,
                    )
                ],
                api_key=pulumi.Output.secret("test-api-key"),
                account_id="999988887777",
                region="us-west-2",
            ),
        )
        ServiceScaling(
            "app-scaling",
            ServiceScalingArgs(
                cluster_name=app.cluster_name,
                service_name=app.service_name,
                min_capacity=2,
                max_capacity=4,
                memory_percent=None,
                requests_per_target=None,
            ),
        )

    run = run_program(program)
    assert named(run.resources, POLICY, "app-scaling-cpu").inputs == (
        named(run.resources, POLICY, "app-autoscaling-cpu").inputs
    )
    targets = {t.name: t.inputs for t in all_of(run.resources, "aws:appautoscaling/target:Target")}
    assert targets["app-scaling-target"] == targets["app-autoscaling"]


def test_service_scaling_rejects_bad_args_listing_every_problem() -> None:
    with pytest.raises(ValueError) as exc_info:
        run_scaling(
            min_capacity=5,
            max_capacity=4,
            cpu_percent=0,
            memory_percent=101,
            requests_per_target=-1,
            request_resource_label=None,
        )
    assert str(exc_info.value).splitlines() == [
        "ServiceScalingArgs.min_capacity: expected 1 to max_capacity (4), got 5.",
        "ServiceScalingArgs.cpu_percent: expected above 0, at most 100 (or None), got 0.",
        "ServiceScalingArgs.memory_percent: expected above 0, at most 100 (or None), got 101.",
        "ServiceScalingArgs.requests_per_target: expected above 0 (or None), got -1.",
        "ServiceScalingArgs.request_resource_label: expected the ALB and target group label, "
        "got None.",
    ]


def test_service_scaling_needs_at_least_one_policy() -> None:
    with pytest.raises(ValueError) as exc_info:
        run_scaling(cpu_percent=None, memory_percent=None, requests_per_target=None)
    assert str(exc_info.value) == (
        "ServiceScalingArgs.cpu_percent: expected at least one policy (cpu, memory or requests), "
        "got None."
    )
