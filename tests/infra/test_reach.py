"""Who reaches the ALB and under which name: the pure helpers of components/reach.py."""

from __future__ import annotations

import pytest

from components.reach import (
    Domain,
    IngressSource,
    alias_record,
    ingress_sources,
    service_url,
    validate_domain,
)
from tests.infra.harness import resolve

VPC = "10.0.0.0/16"
DOMAIN = Domain(name="nlp.example.com", zone_id="Z0123456789ABCDEFGHIJ")
CERTIFICATE_ARN = "arn:aws:acm:us-west-2:999988887777:certificate/0a1b2c3d"


def test_internet_facing_alb_admits_anywhere_by_default_and_only_that_is_public() -> None:
    assert ingress_sources(None, internal=False, vpc_cidr=VPC) == [
        IngressSource(suffix="", cidr="0.0.0.0/0", public=True),
        IngressSource(suffix="-ipv6", cidr="::/0", public=True),
    ]


def test_allowed_cidrs_replace_anywhere_once_each() -> None:
    cidrs = ["203.0.113.0/24", "2001:db8::/32", "203.0.113.0/24"]
    assert ingress_sources(cidrs, internal=False, vpc_cidr=VPC) == [
        IngressSource(suffix="-203-0-113-0-24", cidr="203.0.113.0/24", public=False),
        IngressSource(suffix="-2001-db8---32", cidr="2001:db8::/32", public=False),
    ]


def test_internal_alb_admits_the_vpc_and_the_given_cidrs_only() -> None:
    assert ingress_sources(None, internal=True, vpc_cidr=VPC) == [
        IngressSource(suffix="-vpc", cidr=VPC, public=False)
    ]
    assert ingress_sources(["192.168.0.0/16"], internal=True, vpc_cidr=VPC) == [
        IngressSource(suffix="-vpc", cidr=VPC, public=False),
        IngressSource(suffix="-192-168-0-0-16", cidr="192.168.0.0/16", public=False),
    ]


def test_blocks_are_compared_canonically_and_the_vpc_is_not_repeated() -> None:
    # AWS refuses a second rule for the same block: one rule per block, whatever its spelling.
    given = ["2001:DB8::/32", "2001:db8::/32", VPC]
    assert ingress_sources(given, internal=True, vpc_cidr=VPC) == [
        IngressSource(suffix="-vpc", cidr=VPC, public=False),
        IngressSource(suffix="-2001-db8---32", cidr="2001:db8::/32", public=False),
    ]


def test_anywhere_on_an_internal_alb_is_refused() -> None:
    with pytest.raises(ValueError) as exc_info:
        ingress_sources(["10.1.0.0/16", "::/0"], internal=True, vpc_cidr=VPC)
    assert str(exc_info.value) == (
        "allowed_cidrs[1]: expected a block other than anywhere (internal ALB), got '::/0'."
    )


def test_bad_cidrs_are_all_reported() -> None:
    with pytest.raises(ValueError) as exc_info:
        ingress_sources(["10.0.0.1/8", "anywhere"], internal=False, vpc_cidr=VPC)
    assert str(exc_info.value).splitlines() == [
        "allowed_cidrs[0]: expected a CIDR block without host bits (10.0.0.0/8), got '10.0.0.1/8'.",
        "allowed_cidrs[1]: expected a CIDR block without host bits (10.0.0.0/8), got 'anywhere'.",
    ]


def test_an_internet_facing_alb_with_no_cidr_is_refused() -> None:
    with pytest.raises(ValueError) as exc_info:
        ingress_sources([], internal=False, vpc_cidr=VPC)
    assert str(exc_info.value) == (
        "allowed_cidrs: expected at least one CIDR block for an internet-facing ALB, got []."
    )


def test_alias_record_points_the_name_at_the_alb() -> None:
    assert alias_record(
        DOMAIN, dns_name="app-alb-1.elb.amazonaws.com", zone_id="Z1H1FL5HABSF5"
    ) == {
        "zone_id": "Z0123456789ABCDEFGHIJ",
        "name": "nlp.example.com",
        "type": "A",
        "aliases": [
            {
                "name": "app-alb-1.elb.amazonaws.com",
                "zone_id": "Z1H1FL5HABSF5",
                "evaluate_target_health": True,
            }
        ],
    }


def test_service_url_is_the_domain_over_https_else_the_alb_name() -> None:
    alb = "app-alb-1.us-west-2.elb.amazonaws.com"
    assert (
        resolve(service_url(domain=DOMAIN, https=True, dns_name=alb)) == "https://nlp.example.com"
    )
    assert resolve(service_url(domain=None, https=True, dns_name=alb)) == f"https://{alb}"
    assert resolve(service_url(domain=None, https=False, dns_name=alb)) == f"http://{alb}"


def test_a_domain_needs_a_certificate_and_well_formed_names() -> None:
    validate_domain(DOMAIN, certificate_arn=CERTIFICATE_ARN)
    with pytest.raises(ValueError) as exc_info:
        validate_domain(
            Domain(name="NLP.example.com.", zone_id="/hostedzone/Z1"), certificate_arn=None
        )
    assert str(exc_info.value).splitlines() == [
        "domain.name: expected a lowercase DNS name, got 'NLP.example.com.'.",
        "domain.zone_id: expected a Route 53 hosted zone ID, got '/hostedzone/Z1'.",
        "domain: expected a certificate for the name (certificate_arn), got 'NLP.example.com.'.",
    ]
