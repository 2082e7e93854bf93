"""Who reaches the load balancer, and under which name: pure helpers for FargateApp.

- `ingress_sources()`: the CIDR blocks the ALB's security group admits on its listener ports.
  Internet-facing, by default anywhere (IPv4 and IPv6), or only the given blocks; internal (in
  the private subnets), the VPC's own block plus the given ones. Only an anywhere block carries
  the policy pack's public-ingress tag (policy/rules.py), so only it needs the tag's guard.
- `alias_record()`: a Route 53 alias A record from a name in a hosted zone to the ALB, and
  `service_url()` the URL clients use (`https://<name>` with a name, which needs a certificate).
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-elb-load-balancer.html
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pulumi

from components.aws_values import DOMAIN_NAME, HOSTED_ZONE_ID
from components.config_errors import format_problem

ANYWHERE_IPV4: Final = "0.0.0.0/0"
ANYWHERE_IPV6: Final = "::/0"
ANYWHERE: Final = (ANYWHERE_IPV4, ANYWHERE_IPV6)


@dataclass(frozen=True, kw_only=True)
class Domain:
    """A DNS name for the service, in a Route 53 hosted zone of the stack's account."""

    name: str
    zone_id: str


@dataclass(frozen=True, kw_only=True)
class IngressSource:
    """One CIDR block the ALB admits: its rule-name suffix and whether it is the internet.

    `public` marks anywhere (internet-facing ALBs only): the rules that carry the policy pack's
    public-ingress tag.
    """

    suffix: str
    cidr: str
    public: bool


def _cidr_problems(allowed_cidrs: Sequence[str]) -> list[str]:
    problems = []
    for index, cidr in enumerate(allowed_cidrs):
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            problems.append(
                format_problem(
                    f"allowed_cidrs[{index}]", "a CIDR block without host bits (10.0.0.0/8)", cidr
                )
            )
    return problems


def _suffix(cidr: str) -> str:
    # Anywhere keeps the names FargateApp's rules have always had (a renamed rule is a new rule,
    # and AWS refuses a duplicate of the old one while both exist).
    if cidr in ANYWHERE:
        return "" if cidr == ANYWHERE[0] else "-ipv6"
    return "-" + re.sub(r"[.:/]", "-", cidr)


def ingress_sources(
    allowed_cidrs: Sequence[str] | None, *, internal: bool, vpc_cidr: str
) -> list[IngressSource]:
    """The ALB's ingress blocks (None: the default of the module docstring), each once.

    Blocks are compared in their canonical form (`2001:DB8::/32` is `2001:db8::/32`), and the
    VPC's own block is not repeated on an internal ALB: AWS refuses a duplicate rule.
    """
    problems = _cidr_problems(allowed_cidrs or ())
    if internal:
        # Anywhere means the internet, which an internal ALB cannot be reached from; the policy
        # pack admits anywhere only on the internet-facing ALB's tagged rules.
        problems += [
            format_problem(f"allowed_cidrs[{i}]", "a block other than anywhere (internal ALB)", c)
            for i, c in enumerate(allowed_cidrs or ())
            if c in ANYWHERE
        ]
    if problems:
        raise ValueError("\n".join(problems))
    given = list(dict.fromkeys(str(ipaddress.ip_network(c)) for c in allowed_cidrs or ()))
    if internal:
        given = [cidr for cidr in given if cidr != vpc_cidr]
    elif allowed_cidrs is None:
        given = list(ANYWHERE)
    sources = [IngressSource(suffix="-vpc", cidr=vpc_cidr, public=False)] if internal else []
    for cidr in given:
        sources.append(IngressSource(suffix=_suffix(cidr), cidr=cidr, public=cidr in ANYWHERE))
    if not sources:
        raise ValueError(
            format_problem(
                "allowed_cidrs", "at least one CIDR block for an internet-facing ALB", []
            )
        )
    return sources


def validate_domain(domain: Domain, *, certificate_arn: object | None) -> None:
    """A name needs HTTPS (a certificate for it); the name and zone must be well-formed."""
    problems = []
    if not DOMAIN_NAME.fullmatch(domain.name):
        problems.append(format_problem("domain.name", "a lowercase DNS name", domain.name))
    if not HOSTED_ZONE_ID.fullmatch(domain.zone_id):
        problems.append(
            format_problem("domain.zone_id", "a Route 53 hosted zone ID", domain.zone_id)
        )
    if certificate_arn is None:
        problems.append(
            format_problem("domain", "a certificate for the name (certificate_arn)", domain.name)
        )
    if problems:
        raise ValueError("\n".join(problems))


def alias_record(
    domain: Domain, *, dns_name: pulumi.Input[str], zone_id: pulumi.Input[str]
) -> dict[str, Any]:
    """`aws.route53.Record` arguments: `domain.name` -> the ALB (its `dns_name`, `zone_id`)."""
    return {
        "zone_id": domain.zone_id,
        "name": domain.name,
        # A only: the ALB is IPv4 (ip_address_type ipv4); dual-stack would add an AAAA record.
        "type": "A",
        "aliases": [
            {
                "name": dns_name,
                "zone_id": zone_id,
                # The record is unhealthy while the ALB has no healthy target: a failover record
                # added next to it takes over then (alone, Route 53 answers with it anyway).
                # https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html
                "evaluate_target_health": True,
            }
        ],
    }


def service_url(
    *, domain: Domain | None, https: bool, dns_name: pulumi.Input[str]
) -> pulumi.Output[str]:
    """The URL clients use: the domain with HTTPS, else the ALB's own name."""
    scheme = "https://" if https else "http://"
    return pulumi.Output.concat(scheme, domain.name if domain else dns_name)
