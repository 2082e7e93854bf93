"""ServiceScaling: one target, a policy per metric, each a child of the given parent."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.scaling import (
    ScalingTargets,
    ServiceScaling,
    ServiceScalingArgs,
    policy_configuration,
)
from tests.infra.harness import StackRun, all_of, only, run_program

PARENT = "test:index:Parent"
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
        parent = pulumi.ComponentResource(PARENT, "app")
        ServiceScaling("app-scaling", ServiceScalingArgs(**values), parent=parent)

    return run_program(program)


def test_service_scaling_has_one_target_and_three_policies_by_default() -> None:
    run = run_scaling()
    target = only(run.resources, "aws:appautoscaling/target:Target")
    assert target.name == "app-scaling"
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
    run = run_scaling(
        targets=ScalingTargets(memory_percent=None, requests_per_target=None),
        request_resource_label=None,
    )
    assert [p.name for p in all_of(run.resources, POLICY)] == ["app-scaling-cpu"]


def test_service_scaling_resources_are_children_of_the_parent_it_is_given() -> None:
    # Not a component: FargateApp's target and CPU policy keep the URNs they always had.
    run = run_scaling()
    parent = only(run.resources, PARENT)
    assert {(r.type, r.parent) for r in run.resources if r.type.startswith("aws:")} == {
        ("aws:appautoscaling/target:Target", parent.urn),
        (POLICY, parent.urn),
    }


def test_service_scaling_rejects_bad_args_listing_every_problem() -> None:
    with pytest.raises(ValueError) as exc_info:
        run_scaling(
            min_capacity=5,
            max_capacity=4,
            targets=ScalingTargets(cpu_percent=0, memory_percent=101, requests_per_target=-1),
            request_resource_label=None,
        )
    assert str(exc_info.value).splitlines() == [
        "ServiceScalingArgs.min_capacity: expected 1 to max_capacity (4), got 5.",
        "ServiceScalingArgs.targets.cpu_percent: expected above 0, at most 100 (or None), got 0.",
        "ServiceScalingArgs.targets.memory_percent: expected above 0, at most 100 (or None), "
        "got 101.",
        "ServiceScalingArgs.targets.requests_per_target: expected above 0 (or None), got -1.",
        "ServiceScalingArgs.request_resource_label: expected the ALB and target group label, "
        "got None.",
    ]


def test_service_scaling_needs_at_least_one_policy() -> None:
    with pytest.raises(ValueError) as exc_info:
        run_scaling(
            targets=ScalingTargets(cpu_percent=None, memory_percent=None, requests_per_target=None)
        )
    assert str(exc_info.value) == (
        "ServiceScalingArgs.targets: expected at least one policy (cpu, memory or requests), "
        "got None."
    )
