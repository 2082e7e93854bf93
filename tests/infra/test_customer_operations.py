"""The customer stack run like production (docs/operations.md), through the real `__main__.py`.

The stack file's defaults (alarms to a new topic, access logs, no WAF, three scaling policies, an
internet-facing ALB open to anywhere), then every option set, then an internal load balancer,
then the config errors of the rules between the new keys.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pulumi
import pytest

from components.fargate_app import _deferred_name
from tests.infra.app_helpers import (
    ACCOUNT,
    ALARM_ROLES,
    ALB_ARN,
    APP,
    EVERY_OPTION,
    OWN_TOPIC_ARN,
    REGION,
    security_group_rules,
)
from tests.infra.harness import (
    StackRun,
    all_of,
    named,
    only,
    run_program,
    run_stack,
)

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
POLICY = "aws:appautoscaling/policy:Policy"
ALB = "aws:lb/loadBalancer:LoadBalancer"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ALB_SUFFIX = "app/app-alb/0123456789abcdef"
TG_SUFFIX = "targetgroup/app-tg/0123456789abcdef"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:app-alarms-topic"


@pytest.fixture(scope="module")
def every_option_run() -> StackRun:
    # forceDelete false: the access-log bucket is kept while it holds logs.
    return run_stack("customer", overrides={"app": {**APP, **EVERY_OPTION}, "forceDelete": False})


def alarms(run: StackRun) -> dict[str, dict[str, Any]]:
    return {a.name.removeprefix("app-alarms-"): a.inputs for a in all_of(run.resources, ALARM)}


def thresholds(run: StackRun) -> dict[str, Any]:
    return {role: alarm["threshold"] for role, alarm in alarms(run).items()}


def test_default_alarms_watch_the_alb_and_the_service_and_notify_the_stacks_topic(
    customer_run: StackRun,
) -> None:
    found = alarms(customer_run)
    topic = only(customer_run.resources, "aws:sns/topic:Topic")
    assert (topic.name, customer_run.exports["alarm_topic_arn"]) == ("app-alarms-topic", TOPIC_ARN)
    assert sorted(found) == sorted(ALARM_ROLES)
    assert {(tuple(a["alarmActions"]), tuple(a["okActions"])) for a in found.values()} == {
        ((TOPIC_ARN,), (TOPIC_ARN,))
    }
    assert thresholds(customer_run) == {
        "target-5xx": 10,
        "target-5xx-rate": 5,
        "elb-5xx": 10,
        "unhealthy-hosts": 1,
        "latency-p99": 6,
        "tasks-below-desired": 1,
        "cpu-high": 85,
        "memory-high": 85,
    }
    # The dimensions name this stack's ALB, target group, cluster and (once it exists) service.
    target = {"LoadBalancer": ALB_SUFFIX, "TargetGroup": TG_SUFFIX}
    assert found["target-5xx"]["dimensions"] == target
    assert found["elb-5xx"]["dimensions"] == {"LoadBalancer": ALB_SUFFIX}
    assert found["cpu-high"]["dimensions"] == {
        "ClusterName": "app-cluster",
        "ServiceName": "app-service",
    }


def test_service_rolls_back_on_its_deployment_alarms_and_those_need_no_service(
    customer_run: StackRun,
) -> None:
    service = named(customer_run.resources, "aws:ecs/service:Service", "app-service")
    by_name = {r.name: r for r in all_of(customer_run.resources, ALARM)}
    assert service.inputs["alarms"] == {
        "alarmNames": ["app-alarms-target-5xx", "app-alarms-unhealthy-hosts"],
        "enable": True,
        "rollback": True,
    }
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    # No cycle: the service waits for the two deployment alarms, the service alarms for it.
    assert {urn for urn in service.dependencies if "metricAlarm" in urn} == {
        by_name["app-alarms-target-5xx"].urn,
        by_name["app-alarms-unhealthy-hosts"].urn,
    }
    assert [name for name, alarm in by_name.items() if service.urn in alarm.dependencies] == [
        "app-alarms-tasks-below-desired",
        "app-alarms-cpu-high",
        "app-alarms-memory-high",
    ]


def test_default_alb_logs_to_a_private_bucket_only_elb_may_write_to(
    customer_run: StackRun,
) -> None:
    alb = named(customer_run.resources, ALB, "app-alb")
    bucket = only(customer_run.resources, "aws:s3/bucket:Bucket")
    policy = only(customer_run.resources, "aws:s3/bucketPolicy:BucketPolicy")
    lifecycle = only(
        customer_run.resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    assert alb.inputs["accessLogs"] == {
        "bucket": "app-access-logs-bucket",
        "prefix": "alb",
        "enabled": True,
    }
    # ELB writes a test object when logging is turned on: the policy must exist first.
    assert policy.urn in alb.dependencies
    assert customer_run.exports["access_log_bucket"] == "app-access-logs-bucket"
    # The stack file sets forceDelete: destroy empties the bucket.
    assert bucket.inputs == {"forceDestroy": True}
    assert lifecycle.inputs["rules"][0]["expiration"] == {"days": 90}
    assert json.loads(policy.inputs["policy"])["Statement"][0] == {
        "Sid": "AlbLogDelivery",
        "Effect": "Allow",
        # us-west-2's Elastic Load Balancing account.
        "Principal": {"AWS": "arn:aws:iam::797873946194:root"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::app-access-logs-bucket/alb/AWSLogs/{ACCOUNT}/*",
    }


def test_default_has_no_waf_and_scales_on_cpu_memory_and_requests(customer_run: StackRun) -> None:
    assert [r for r in customer_run.resources if r.type.startswith("aws:wafv2")] == []
    assert "web_acl_arn" not in customer_run.exports
    policies = {
        p.name: p.inputs["targetTrackingScalingPolicyConfiguration"]
        for p in all_of(customer_run.resources, POLICY)
    }
    assert {name: c["targetValue"] for name, c in policies.items()} == {
        "app-autoscaling-cpu": 60,
        "app-autoscaling-memory": 70,
        "app-autoscaling-requests": 1500,
    }
    assert policies["app-autoscaling-requests"]["predefinedMetricSpecification"] == {
        "predefinedMetricType": "ALBRequestCountPerTarget",
        "resourceLabel": f"{ALB_SUFFIX}/{TG_SUFFIX}",
    }
    # Scale-in cooldowns longer than scale-out, on every policy.
    assert {(c["scaleOutCooldown"], c["scaleInCooldown"]) for c in policies.values()} == {(60, 300)}


def test_every_option_sends_alarms_to_the_given_topic_with_the_given_thresholds(
    every_option_run: StackRun,
) -> None:
    found = alarms(every_option_run)
    assert all_of(every_option_run.resources, "aws:sns/topic:Topic") == []
    assert every_option_run.exports["alarm_topic_arn"] == OWN_TOPIC_ARN
    assert {tuple(a["alarmActions"]) for a in found.values()} == {(OWN_TOPIC_ARN,)}
    assert thresholds(every_option_run) == {
        "target-5xx": 20,
        "target-5xx-rate": 2.5,
        "elb-5xx": 30,
        "unhealthy-hosts": 2,
        "latency-p99": 3.5,
        "tasks-below-desired": 1,
        "cpu-high": 90,
        "memory-high": 95,
    }
    assert found["tasks-below-desired"]["evaluationPeriods"] == 10
    assert "IF(requests >= 50," in found["target-5xx-rate"]["metricQueries"][0]["expression"]


def test_every_option_keeps_logs_30_days_and_keeps_the_bucket_without_force_delete(
    every_option_run: StackRun,
) -> None:
    bucket = only(every_option_run.resources, "aws:s3/bucket:Bucket")
    lifecycle = only(
        every_option_run.resources,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    )
    assert bucket.inputs == {"forceDestroy": False}
    assert lifecycle.inputs["rules"][0]["expiration"] == {"days": 30}


def test_every_option_puts_a_rate_limited_web_acl_on_the_alb(every_option_run: StackRun) -> None:
    acl = only(every_option_run.resources, "aws:wafv2/webAcl:WebAcl")
    association = only(every_option_run.resources, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert acl.inputs["scope"] == "REGIONAL"
    assert acl.inputs["rules"][0]["statement"]["rateBasedStatement"]["limit"] == 500
    assert association.inputs["resourceArn"] == ALB_ARN
    assert every_option_run.exports["web_acl_arn"] == association.inputs["webAclArn"]


def test_every_option_scales_on_the_given_targets_only(every_option_run: StackRun) -> None:
    assert {
        p.name: p.inputs["targetTrackingScalingPolicyConfiguration"]["targetValue"]
        for p in all_of(every_option_run.resources, POLICY)
    } == {"app-autoscaling-cpu": 50, "app-autoscaling-requests": 900}


def test_every_option_admits_only_the_allowed_cidrs_untagged(every_option_run: StackRun) -> None:
    rules = {r.name: r.inputs for r in all_of(every_option_run.resources, INGRESS)}
    group = named(every_option_run.resources, "aws:ec2/securityGroup:SecurityGroup", "app-sg-alb")
    # Canonical form: 2001:DB8::/32 is admitted as 2001:db8::/32.
    assert {
        name: (r["fromPort"], r.get("cidrIpv4") or r.get("cidrIpv6"), r.get("tags"))
        for name, r in rules.items()
        if name.startswith("app-sg-alb-in-")
    } == {
        "app-sg-alb-in-80-203-0-113-0-24": (80, "203.0.113.0/24", None),
        "app-sg-alb-in-80-2001-db8---32": (80, "2001:db8::/32", None),
        "app-sg-alb-in-443-203-0-113-0-24": (443, "203.0.113.0/24", None),
        "app-sg-alb-in-443-2001-db8---32": (443, "2001:db8::/32", None),
    }
    assert group.inputs["description"] == (
        "app load balancer: HTTP(S) from allowed blocks, out to the tasks only"
    )


def test_every_option_names_the_alb_in_route53_and_serves_https_there(
    every_option_run: StackRun,
) -> None:
    record = only(every_option_run.resources, "aws:route53/record:Record")
    assert record.inputs == {
        "zoneId": "Z0123456789ABCDEFGHIJ",
        "name": "nlp.example.com",
        "type": "A",
        "aliases": [
            {
                "name": f"app-alb-1234567890.{REGION}.elb.amazonaws.com",
                "zoneId": "Z1H1FL5HABSF5",
                "evaluateTargetHealth": True,
            }
        ],
    }
    assert every_option_run.exports["service_url"] == "https://nlp.example.com"


def test_internal_alb_sits_in_the_private_subnets_and_admits_the_vpc_and_the_given_blocks() -> None:
    run = run_stack(
        "customer", overrides={"app": {**APP, "internal": True, "allowedCidrs": ["10.0.0.0/16"]}}
    )

    alb = named(run.resources, ALB, "app-alb").inputs
    assert (alb["internal"], alb["subnets"]) == (True, ["subnet-private-a", "subnet-private-b"])
    # The VPC's own block once (AWS refuses a duplicate rule), never anywhere.
    assert [r for r in security_group_rules(run) if r[:2] == ("in", "app-sg-alb-id")] == [
        ("in", "app-sg-alb-id", 80, 80, "10.0.0.0/16")
    ]
    assert run.exports["service_url"] == f"http://app-alb-1234567890.{REGION}.elb.amazonaws.com"


def test_internal_alb_gets_its_own_target_group_so_switching_scheme_can_complete(
    customer_run: StackRun,
) -> None:
    """`internal` replaces the ALB; ELB refuses the new ALB's listeners on the old one's target
    group (TargetGroupAssociationLimit), so the scheme's target group has its own name."""
    run = run_stack("customer", overrides={"app": {**APP, "internal": True}})

    def target_group_arns(found: StackRun) -> tuple[str, set[str], str]:
        (group,) = all_of(found.resources, "aws:lb/targetGroup:TargetGroup")
        forwarded = {
            action["targetGroupArn"]
            for listener in all_of(found.resources, "aws:lb/listener:Listener")
            for action in listener.inputs["defaultActions"]
        }
        service = only(found.resources, "aws:ecs/service:Service").inputs
        return group.name, forwarded, service["loadBalancers"][0]["targetGroupArn"]

    arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{{}}/0123456789abcdef"
    internal_arn, default_arn = arn.format("app-tg-internal"), arn.format("app-tg")
    assert target_group_arns(run) == ("app-tg-internal", {internal_arn}, internal_arn)
    # Internet-facing keeps the name it always had (nothing is replaced).
    assert target_group_arns(customer_run) == ("app-tg", {default_arn}, default_arn)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"domain": EVERY_OPTION["domain"]},
            "ecr-cross-account:app.domain: expected a name only with `certificateArn` (a "
            "certificate for it: the name is served over HTTPS), got no `certificateArn`.",
            id="domain-without-certificate",
        ),
        pytest.param(
            {"alarmTopicArn": "arn:aws:sns:us-east-1:999988887777:ops"},
            "ecr-cross-account:app.alarmTopicArn: expected a topic in the stack's region "
            "us-west-2, got 'arn:aws:sns:us-east-1:999988887777:ops'.",
            id="topic-in-another-region",
        ),
        pytest.param(
            {"autoscaling": {"cpu": None, "memory": None, "requestsPerTarget": None}},
            "ecr-cross-account:app.autoscaling: expected at least one of `cpu`, `memory` or "
            "`requestsPerTarget`, got all null.",
            id="no-scaling-policy",
        ),
        pytest.param(
            {"allowedCidrs": []},
            "ecr-cross-account:app.allowedCidrs: expected at least one CIDR block (an "
            "internet-facing load balancer nobody may reach), or `internal: true`, got [].",
            id="internet-facing-reachable-by-nobody",
        ),
        pytest.param(
            {"internal": True, "allowedCidrs": ["10.1.0.0/16", "0.0.0.0/0"]},
            "ecr-cross-account:app.allowedCidrs[1]: expected a block other than anywhere (an "
            "internal load balancer is not on the internet), got '0.0.0.0/0'.",
            id="internal-open-to-anywhere",
        ),
        pytest.param(
            {"allowedCidrs": ["10.0.0.1/16"], "alarms": {"cpuPercent": 0, "target5XxCount": 3}},
            "ecr-cross-account:app.alarms.target5XxCount: expected one of `cpuPercent`, "
            "`elb5xxCount`, `latencyP99Seconds`, `memoryPercent`, `rateMinRequests`, "
            "`target5xxCount`, `target5xxPercent`, `tasksBelowDesiredMinutes`, "
            "`unhealthyHosts` (unknown key), got 'target5XxCount'.\n"
            "ecr-cross-account:app.alarms.cpuPercent: expected a number above 0, at most 100, "
            "got 0.\n"
            "ecr-cross-account:app.allowedCidrs[0]: expected a CIDR block without host bits, "
            "such as '203.0.113.0/24' or '2001:db8::/32', got '10.0.0.1/16'.",
            id="bad-values",
        ),
        pytest.param(
            {"wafRateLimit": 5, "domain": {"name": "NLP.example.com", "zoneId": "z1"}},
            "ecr-cross-account:app.wafRateLimit: expected an integer from 10 to 2000000000, "
            "got 5.\n"
            "ecr-cross-account:app.domain.name: expected a lowercase DNS name such as "
            "'nlp.example.com', got 'NLP.example.com'.\n"
            "ecr-cross-account:app.domain.zoneId: expected a Route 53 hosted zone ID such as "
            "'Z0123456789ABCDEFGHIJ', got 'z1'.",
            id="bad-waf-and-domain",
        ),
    ],
)
def test_bad_operations_config_fails_naming_every_key(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as exc:
        run_stack("customer", overrides={"app": {**APP, **changes}})
    assert str(exc.value) == message


def test_a_failure_before_the_service_exists_fails_the_alarms_waiting_for_its_name() -> None:
    # Without the guard, the alarm waiting for the deferred name would keep the program waiting
    # forever; with it, the program fails, naming the first error.
    def program() -> None:
        with _deferred_name() as (name, _resolve):
            pulumi.ComponentResource("test:index:Waiting", "waiting", {"name": name})
            raise RuntimeError("the service could not be declared")

    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_program(program)
        except BaseException as error:  # noqa: BLE001  (handed to the test's thread)
            errors.append(error)

    # In a thread of its own, so that a regression fails this test instead of hanging the suite.
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the program still waits for the deferred service name"
    assert [type(e) for e in errors] == [RuntimeError]
    assert "the service could not be declared" in str(errors[0])
