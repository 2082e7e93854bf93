"""ServiceAlarms: CloudWatch alarms on a load-balanced ECS service, and where they are sent.

Eight alarms watch the ALB's view of the app (target 5xx count and rate, the ALB's own 5xx,
unhealthy targets, p99 target response time) and the service (running tasks below desired, CPU
and memory high). Each notifies one SNS topic on ALARM and on OK: the topic this component
creates, or one the caller names. `deployment_alarm_names` are the two alarms a bad image trips
while it still starts and passes health checks now and then; the ECS service's deployment
`alarms` block names them with `rollback: true`.

`alarm_inputs()` is pure: the `aws.cloudwatch.MetricAlarm` arguments of every alarm, keyed by
role, so each alarm's metric, statistic and threshold is unit-tested as exact JSON.
Metric names and dimensions:
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from components.config_errors import format_problem

TYPE: Final = "ecr-cross-account:components:ServiceAlarms"

ALB_NAMESPACE: Final = "AWS/ApplicationELB"
ECS_NAMESPACE: Final = "AWS/ECS"
# Published because FargateApp's cluster has Container Insights enabled.
INSIGHTS_NAMESPACE: Final = "ECS/ContainerInsights"
# One-minute periods: the ALB publishes its metrics every 60 s, and a deployment's bake time is
# minutes long, so an alarm must be able to fire within a few of them.
PERIOD_SECONDS: Final = 60
# The alarms a new image that starts but answers errors trips during its deployment.
DEPLOYMENT_ALARM_ROLES: Final = ("target-5xx", "unhealthy-hosts")


@dataclass(frozen=True, kw_only=True)
class AlarmThresholds:
    """When each alarm fires; docs/operations.md explains every default."""

    # Default: 10 target 5xx responses in a minute, in 2 of 3 minutes: an app error a few times a
    # second, not one bad request (one isolated minute during a task swap does not fire it).
    target_5xx_count: int = 10
    # Default: 5% of the target's responses are 5xx, in 2 of 3 minutes with at least
    # `rate_min_requests` requests (below that, one error is a large percentage of nothing).
    target_5xx_percent: float = 5.0
    rate_min_requests: int = 20
    # Default: 10 ALB-generated 5xx in a minute (502/503/504: no healthy target, a target that
    # reset the connection or timed out), in 2 of 3 minutes.
    elb_5xx_count: int = 10
    # Default: any unhealthy target for 2 of 3 minutes. Targets already take 45 s to be marked
    # unhealthy (3 failed checks 15 s apart), so this is a task failing for minutes, not a blip.
    unhealthy_hosts: int = 1
    # Default: p99 above 6 s for 3 minutes in a row. Typical requests take milliseconds; the
    # slowest legitimate one, a 100 kB document to prose-app, about 5 s (services/common/
    # settings.py): a p99 above that for minutes means requests queue, not big documents.
    latency_p99_seconds: float = 6.0
    # Default: fewer tasks running than desired for 5 minutes in a row: longer than a task takes
    # to be pulled, started and health-checked, so a deployment or a replacement does not fire it.
    tasks_below_desired_minutes: int = 5
    # Default: 85% average CPU or memory for 5 minutes: scaling (60% CPU, 70% memory by default)
    # should have added tasks long before; at 85% it cannot (max tasks reached) or is too slow.
    cpu_percent: float = 85.0
    memory_percent: float = 85.0


@dataclass(frozen=True, kw_only=True)
class ServiceAlarmsArgs:
    """What to watch and where to send it."""

    # The ALB's and target group's `arn_suffix` (the `LoadBalancer` and `TargetGroup` dimensions:
    # `app/<name>/<id>` and `targetgroup/<name>/<id>`).
    load_balancer: pulumi.Input[str]
    target_group: pulumi.Input[str]
    # The ECS cluster's and service's names (the `ClusterName` and `ServiceName` dimensions). The
    # service may be created after these alarms (it names the deployment alarms): pass a
    # `pulumi.deferred_output()` resolved with the service's name.
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    # Default: the thresholds above.
    thresholds: AlarmThresholds = AlarmThresholds()
    # Default: a new SNS topic (subscribe to it after deploying); an ARN sends to that topic.
    topic_arn: pulumi.Input[str] | None = None


def _metric(
    name: str, namespace: str, stat: str, dimensions: dict[str, pulumi.Input[str]]
) -> dict[str, Any]:
    return {
        "metric_name": name,
        "namespace": namespace,
        "period": PERIOD_SECONDS,
        "stat": stat,
        "dimensions": dimensions,
    }


def alarm_inputs(
    thresholds: AlarmThresholds,
    *,
    load_balancer: pulumi.Input[str],
    target_group: pulumi.Input[str],
    cluster_name: pulumi.Input[str],
    service_name: pulumi.Input[str],
) -> dict[str, dict[str, Any]]:
    """Role -> `aws.cloudwatch.MetricAlarm` keyword arguments (without actions and name)."""
    alb = {"LoadBalancer": load_balancer}
    target = {"LoadBalancer": load_balancer, "TargetGroup": target_group}
    service = {"ClusterName": cluster_name, "ServiceName": service_name}
    # ALB counts have no data point in a minute without such responses: no data is no errors.
    quiet = "notBreaching"
    two_of_three = {"evaluation_periods": 3, "datapoints_to_alarm": 2}
    t = thresholds
    return {
        "target-5xx": {
            "alarm_description": f"At least {t.target_5xx_count} 5xx answers from the app's "
            "targets in a minute (2 of 3 minutes).",
            "namespace": ALB_NAMESPACE,
            "metric_name": "HTTPCode_Target_5XX_Count",
            "dimensions": target,
            "statistic": "Sum",
            "period": PERIOD_SECONDS,
            **two_of_three,
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            "threshold": t.target_5xx_count,
            "treat_missing_data": quiet,
        },
        "target-5xx-rate": {
            "alarm_description": f"At least {t.target_5xx_percent}% of the targets' answers are "
            f"5xx in a minute with {t.rate_min_requests} or more requests (2 of 3 minutes).",
            "metric_queries": [
                {
                    "id": "rate",
                    "label": "Target 5xx (% of requests)",
                    # FILL: a minute with requests and no 5xx has no 5xx data point (a 0% rate).
                    "expression": f"IF(requests >= {t.rate_min_requests}, "
                    "100 * FILL(errors, 0) / requests, 0)",
                    "return_data": True,
                },
                {
                    "id": "errors",
                    "metric": _metric("HTTPCode_Target_5XX_Count", ALB_NAMESPACE, "Sum", target),
                    "return_data": False,
                },
                {
                    "id": "requests",
                    "metric": _metric("RequestCount", ALB_NAMESPACE, "Sum", target),
                    "return_data": False,
                },
            ],
            **two_of_three,
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            "threshold": t.target_5xx_percent,
            "treat_missing_data": quiet,
        },
        "elb-5xx": {
            "alarm_description": f"At least {t.elb_5xx_count} 5xx answers generated by the load "
            "balancer itself in a minute (2 of 3 minutes).",
            "namespace": ALB_NAMESPACE,
            "metric_name": "HTTPCode_ELB_5XX_Count",
            "dimensions": alb,
            "statistic": "Sum",
            "period": PERIOD_SECONDS,
            **two_of_three,
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            "threshold": t.elb_5xx_count,
            "treat_missing_data": quiet,
        },
        "unhealthy-hosts": {
            "alarm_description": f"At least {t.unhealthy_hosts} unhealthy target(s) "
            "(2 of 3 minutes).",
            "namespace": ALB_NAMESPACE,
            "metric_name": "UnHealthyHostCount",
            "dimensions": target,
            "statistic": "Maximum",
            "period": PERIOD_SECONDS,
            **two_of_three,
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            "threshold": t.unhealthy_hosts,
            "treat_missing_data": quiet,
        },
        "latency-p99": {
            "alarm_description": f"p99 target response time above {t.latency_p99_seconds} s "
            "for 3 minutes.",
            "namespace": ALB_NAMESPACE,
            "metric_name": "TargetResponseTime",
            "dimensions": target,
            "extended_statistic": "p99",
            "period": PERIOD_SECONDS,
            "evaluation_periods": 3,
            "comparison_operator": "GreaterThanThreshold",
            "threshold": t.latency_p99_seconds,
            "treat_missing_data": quiet,
        },
        "tasks-below-desired": {
            "alarm_description": "Fewer tasks running than desired for "
            f"{t.tasks_below_desired_minutes} minutes.",
            "metric_queries": [
                {
                    "id": "missing",
                    "label": "Desired minus running tasks",
                    "expression": "desired - running",
                    "return_data": True,
                },
                {
                    "id": "desired",
                    "metric": _metric("DesiredTaskCount", INSIGHTS_NAMESPACE, "Maximum", service),
                    "return_data": False,
                },
                {
                    "id": "running",
                    "metric": _metric("RunningTaskCount", INSIGHTS_NAMESPACE, "Minimum", service),
                    "return_data": False,
                },
            ],
            "evaluation_periods": t.tasks_below_desired_minutes,
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            "threshold": 1,
            # Container Insights reports every minute while the service exists: a gap is a
            # monitoring problem, not a verdict, so the alarm keeps its state.
            "treat_missing_data": "missing",
        },
        **{
            f"{metric}-high": {
                "alarm_description": f"Average {label} above {percent}% for 5 minutes.",
                "namespace": ECS_NAMESPACE,
                "metric_name": f"{label}Utilization",
                "dimensions": service,
                "statistic": "Average",
                "period": PERIOD_SECONDS,
                "evaluation_periods": 5,
                "comparison_operator": "GreaterThanThreshold",
                "threshold": percent,
                # No data while no task runs; tasks-below-desired reports that.
                "treat_missing_data": quiet,
            }
            for metric, label, percent in (
                ("cpu", "CPU", t.cpu_percent),
                ("memory", "Memory", t.memory_percent),
            )
        },
    }


def _validate(thresholds: AlarmThresholds) -> None:
    problems = []
    for item in fields(thresholds):
        value = getattr(thresholds, item.name)
        percent = item.name.endswith("_percent")
        if not (0 < value <= 100 if percent else value > 0):
            expected = "a percentage above 0, at most 100" if percent else "a number above 0"
            problems.append(format_problem(f"AlarmThresholds.{item.name}", expected, value))
    if problems:
        raise ValueError("\n".join(problems))


class ServiceAlarms(pulumi.ComponentResource):
    """The service's alarms and their SNS topic (created unless one is given)."""

    topic: aws.sns.Topic | None
    topic_arn: pulumi.Output[str]
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    # Role -> the alarm's name (auto-named, so two stacks in one account never collide).
    alarm_names: dict[str, pulumi.Output[str]]
    # For the ECS service's `alarms` block (DEPLOYMENT_ALARM_ROLES, in that order).
    deployment_alarm_names: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: ServiceAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        _validate(args.thresholds)
        child = pulumi.ResourceOptions(parent=self)
        # Unencrypted: CloudWatch cannot publish to a topic under the AWS-managed `aws/sns` key,
        # and alarm notifications carry no secrets (names, thresholds, states).
        if args.topic_arn is None:
            self.topic = aws.sns.Topic(f"{name}-topic", opts=child)
            self.topic_arn = self.topic.arn
        else:
            self.topic = None
            self.topic_arn = pulumi.Output.from_input(args.topic_arn)
        actions = [self.topic_arn]
        inputs = alarm_inputs(
            args.thresholds,
            load_balancer=args.load_balancer,
            target_group=args.target_group,
            cluster_name=args.cluster_name,
            service_name=args.service_name,
        )
        self.alarms = {
            role: aws.cloudwatch.MetricAlarm(
                f"{name}-{role}",
                alarm_actions=actions,
                ok_actions=actions,
                **alarm,
                opts=child,
            )
            for role, alarm in inputs.items()
        }
        self.alarm_names = {role: alarm.name for role, alarm in self.alarms.items()}
        self.deployment_alarm_names = pulumi.Output.all(
            *(self.alarm_names[role] for role in DEPLOYMENT_ALARM_ROLES)
        )
        self.register_outputs(
            {
                "topic_arn": self.topic_arn,
                "alarm_names": self.alarm_names,
                "deployment_alarm_names": self.deployment_alarm_names,
            }
        )
