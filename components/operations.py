"""What FargateApp adds to run like production, in one args object (docs/operations.md).

Alarms that also roll back a bad deployment (components/alarms.py), the load balancer's access
logs (access_logs.py) and optional web ACL (waf.py), scaling on CPU, memory and requests
(scaling.py), and who reaches the load balancer under which name (reach.py). Defaults: alarms
to a topic the stack creates, access logs kept 90 days, no WAF, the three scaling policies, an
internet-facing load balancer open to anywhere under its own DNS name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.access_logs import DEFAULT_RETENTION_DAYS
from components.alarms import AlarmThresholds
from components.reach import Domain
from components.scaling import ScalingTargets
from components.waf import DEFAULT_RATE_LIMIT


@dataclass(frozen=True, kw_only=True)
class OperationsArgs:
    """Alarms, access logs, WAF, scaling, and the load balancer's reach and name."""

    # Default: the thresholds docs/operations.md explains.
    alarm_thresholds: AlarmThresholds = AlarmThresholds()
    # Default: an SNS topic the stack creates; an ARN sends the alarms there instead.
    alarm_topic_arn: pulumi.Input[str] | None = None
    # Default: access logs expire after 90 days.
    access_log_retention_days: int = DEFAULT_RETENTION_DAYS
    # Default: `pulumi destroy` stops at an access-log bucket that holds logs (the stack's
    # `forceDelete` empties it).
    force_destroy_access_logs: bool = False
    # Default: no web ACL; True associates one with the load balancer.
    waf: bool = False
    waf_rate_limit: int = DEFAULT_RATE_LIMIT
    # Default: target tracking on CPU 60%, memory 70%, 1,500 requests per task a minute.
    scaling: ScalingTargets = ScalingTargets()
    # Default: anywhere (IPv4 and IPv6); else only these CIDR blocks reach the load balancer.
    allowed_cidrs: Sequence[str] | None = None
    # Default: internet-facing; True puts the load balancer in the private subnets.
    internal: bool = False
    # Default: the load balancer's own DNS name; a domain (with a certificate) gets an alias record.
    domain: Domain | None = None
