"""ServiceScaling: target tracking on what this app runs out of, on one scalable target.

Up to three target-tracking policies share one Application Auto Scaling target (the service's
desired count, between min and max): average CPU, average memory, and ALB requests per target.
Application Auto Scaling scales out when any policy asks for it and in only when all of them
agree, so each policy guards its own resource without fighting the others.
https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html
https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html

`policy_configuration()` is pure: one policy's `target_tracking_scaling_policy_configuration`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, cast

import pulumi
import pulumi_aws as aws

from components.config_errors import format_problem

# Role -> predefined metric of the ECS service namespace.
PREDEFINED_METRICS: Final = {
    "cpu": "ECSServiceAverageCPUUtilization",
    "memory": "ECSServiceAverageMemoryUtilization",
    "requests": "ALBRequestCountPerTarget",
}
# Scale out within a minute of a spike; scale in five times slower, so a burst that pauses does
# not remove tasks it will need again (and tasks, with spaCy, take seconds to become ready).
SCALE_OUT_COOLDOWN_SECONDS: Final = 60
SCALE_IN_COOLDOWN_SECONDS: Final = 300
DEFAULT_CPU_PERCENT: Final = 60.0
DEFAULT_MEMORY_PERCENT: Final = 70.0
DEFAULT_REQUESTS_PER_TARGET: Final = 1500.0


def policy_configuration(
    role: str, target_value: float, resource_label: pulumi.Input[str] | None = None
) -> dict[str, Any]:
    """Target tracking on one predefined metric, with the cooldowns above."""
    metric: dict[str, Any] = {"predefined_metric_type": PREDEFINED_METRICS[role]}
    if resource_label is not None:
        metric["resource_label"] = resource_label
    return {
        "predefined_metric_specification": metric,
        "target_value": target_value,
        "scale_out_cooldown": SCALE_OUT_COOLDOWN_SECONDS,
        "scale_in_cooldown": SCALE_IN_COOLDOWN_SECONDS,
    }


@dataclass(frozen=True, kw_only=True)
class ScalingTargets:
    """A target per metric; None: no policy on it (at least one is set)."""

    # Default: 60% average CPU, what FargateApp has always tracked.
    cpu_percent: float | None = DEFAULT_CPU_PERCENT
    # Default: 70% average memory: prose-app needs ~400 MB more while it analyses a 100 kB
    # document, and an out-of-memory kill loses every request in the task.
    memory_percent: float | None = DEFAULT_MEMORY_PERCENT
    # Default: 1,500 requests per task a minute (25 a second): just under what one task's
    # prose-app serves with 1 KB documents (~28 a second from its 5,704 tokens/s,
    # benchmarks/README.md).
    requests_per_target: float | None = DEFAULT_REQUESTS_PER_TARGET

    def by_role(self) -> dict[str, float]:
        """Role (cpu, memory, requests) -> target, for the targets that are set."""
        targets = {
            "cpu": self.cpu_percent,
            "memory": self.memory_percent,
            "requests": self.requests_per_target,
        }
        return {role: value for role, value in targets.items() if value is not None}


@dataclass(frozen=True, kw_only=True)
class ServiceScalingArgs:
    """The service, its bounds, and its targets."""

    # The ECS cluster and service (the target's resource ID is `service/<cluster>/<service>`).
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    # The service's desired count at deploy time and the most tasks scaling may run.
    min_capacity: int
    max_capacity: int
    # Default: the three targets above.
    targets: ScalingTargets = ScalingTargets()
    # `<load balancer arn_suffix>/<target group arn_suffix>`
    # (`app/<name>/<id>/targetgroup/<name>/<id>`); required with `requests_per_target`.
    request_resource_label: pulumi.Input[str] | None = None


def _validate(args: ServiceScalingArgs) -> None:
    problems = []

    def bad(key: str, expected: str, value: object) -> None:
        problems.append(format_problem(f"ServiceScalingArgs.{key}", expected, value))

    targets = args.targets
    if not 1 <= args.min_capacity <= args.max_capacity:
        bad("min_capacity", f"1 to max_capacity ({args.max_capacity})", args.min_capacity)
    for key in ("cpu_percent", "memory_percent"):
        value = getattr(targets, key)
        if value is not None and not 0 < value <= 100:
            bad(f"targets.{key}", "above 0, at most 100 (or None)", value)
    if targets.requests_per_target is not None and targets.requests_per_target <= 0:
        bad("targets.requests_per_target", "above 0 (or None)", targets.requests_per_target)
    if targets.requests_per_target is not None and args.request_resource_label is None:
        bad("request_resource_label", "the ALB and target group label", None)
    if not targets.by_role():
        bad("targets", "at least one policy (cpu, memory or requests)", None)
    if problems:
        raise ValueError("\n".join(problems))


class ServiceScaling:
    """One scalable target (named `name`) and its policies (`<name>-<role>`).

    Not a component of its own: the resources are children of `parent`, so FargateApp's target and
    CPU policy keep the URNs (`app-autoscaling`, `app-autoscaling-cpu`) they had before memory and
    request policies joined them, and a second `pulumi up` replaces neither.
    """

    target: aws.appautoscaling.Target
    # Role (cpu, memory, requests) -> policy, for the targets that are set.
    policies: dict[str, aws.appautoscaling.Policy]

    def __init__(self, name: str, args: ServiceScalingArgs, *, parent: pulumi.Resource) -> None:
        _validate(args)
        child = pulumi.ResourceOptions(parent=parent)
        self.target = aws.appautoscaling.Target(
            name,
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", args.cluster_name, "/", args.service_name),
            min_capacity=args.min_capacity,
            max_capacity=args.max_capacity,
            opts=child,
        )
        self.policies = {
            role: aws.appautoscaling.Policy(
                f"{name}-{role}",
                policy_type="TargetTrackingScaling",
                service_namespace=self.target.service_namespace,
                scalable_dimension=self.target.scalable_dimension,
                resource_id=self.target.resource_id,
                # A plain dict of Pulumi's input names (exact JSON in tests/infra/test_scaling.py).
                target_tracking_scaling_policy_configuration=cast(
                    Any,
                    policy_configuration(
                        role, value, args.request_resource_label if role == "requests" else None
                    ),
                ),
                opts=child,
            )
            for role, value in args.targets.by_role().items()
        }
