"""The keys of the vendor's image in the customer's region, NAT-less tasks and scanning.

`vendorMirror`, `vendorMirrorPrefix`, `acceptReplicationFrom`, `scanning`, `app.vpcEndpoints`,
`app.natGateways: None`, `repositories.<name>.cacheAccounts` and `.replicateTo`: their values,
and the combinations refused before any resource exists (components/settings_rules.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from components.settings import ReplicationDestinationSettings
from tests.infra.harness import VENDOR_ACCOUNT as VENDOR
from tests.infra.settings_helpers import (
    VENDOR_ARN,
    VENDOR_IMAGE,
    P,
    customer_app,
    errors_of,
    parse,
    stack_values,
)

CUSTOMER = "999988887777"
ENDPOINTS_URL = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html"
NAT_LESS = customer_app(natGateways="None", vpcEndpoints=True)
# vendorImage and its ARN instead of the stack file's vendorStack.
PINNED = {"vendorStack": None, "vendorImage": VENDOR_IMAGE, "vendorRepositoryArn": VENDOR_ARN}


def vendor_repositories(**changes: Any) -> dict[str, Any]:
    rake: dict[str, Any] = {**stack_values("vendor")["repositories"]["rake-app"], **changes}
    return {"rake-app": rake}


def test_mirror_keys_default_to_todays_behaviour() -> None:
    settings = parse("customer")
    assert settings.app is not None
    assert (
        settings.vendor_mirror,
        settings.vendor_mirror_prefix,
        settings.accept_replication_from,
        settings.scanning,
        settings.app.vpc_endpoints,
    ) == ("none", "vendor", (), "basic", False)
    vendor = parse("vendor").repositories["rake-app"]
    assert (vendor.cache_accounts, vendor.replicate_to) == ((), ())


def test_customer_mirror_keys_parse() -> None:
    settings = parse(
        "customer",
        vendorMirror="replication",
        acceptReplicationFrom=[VENDOR],
        scanning="enhanced",
        vendorMirrorPrefix="from-vendor/v1",
        app=NAT_LESS,
    )
    assert settings.app is not None
    assert (
        settings.vendor_mirror,
        settings.vendor_mirror_prefix,
        settings.accept_replication_from,
        settings.scanning,
        settings.app.nat_gateways,
        settings.app.vpc_endpoints,
    ) == ("replication", "from-vendor/v1", (VENDOR,), "enhanced", "None", True)


def test_vendor_copy_keys_parse_accounts_given_as_numbers_too() -> None:
    repositories = vendor_repositories(
        cacheAccounts=[int(CUSTOMER)],
        replicateTo=[{"account": CUSTOMER, "region": "us-west-2"}],
    )
    rake = parse("vendor", repositories=repositories).repositories["rake-app"]
    assert (rake.cache_accounts, rake.replicate_to) == (
        (CUSTOMER,),
        (ReplicationDestinationSettings(account=CUSTOMER, region="us-west-2"),),
    )


def test_mirror_keys_refuse_bad_values_naming_each_key() -> None:
    repositories = vendor_repositories(
        cacheAccounts=["12345"],
        replicateTo=[
            {"account": CUSTOMER, "region": "us-west-2"},
            {"account": CUSTOMER, "region": "mars-1"},
            {"account": CUSTOMER},
        ],
    )
    assert errors_of(
        "vendor",
        vendorMirror="cache",
        vendorMirrorPrefix="Vendor",
        acceptReplicationFrom="111122223333",
        scanning="full",
        repositories=repositories,
    ) == (
        f"{P}vendorMirror: expected one of `none`, `pullThroughCache`, `replication`, got "
        "'cache'.\n"
        f"{P}vendorMirrorPrefix: expected 2 to 30 characters of lowercase repository-name "
        "segments, got 'Vendor'.\n"
        f"{P}acceptReplicationFrom: expected a list, got '111122223333'.\n"
        f"{P}scanning: expected one of `basic`, `enhanced`, got 'full'.\n"
        f"{P}repositories.rake-app.cacheAccounts[0]: expected a 12-digit AWS account ID (in "
        "quotes, or set with `--type string`), got '12345'.\n"
        f"{P}repositories.rake-app.replicateTo[1].region: expected an AWS region name such as "
        "'us-west-2', got 'mars-1'.\n"
        f"{P}repositories.rake-app.replicateTo[2].region: expected an AWS region name such as "
        "'us-west-2', got None."
    )


def test_replicate_to_refuses_a_destination_twice() -> None:
    twice = [{"account": CUSTOMER, "region": "us-west-2"}] * 2
    assert errors_of("vendor", repositories=vendor_repositories(replicateTo=twice)) == (
        f"{P}repositories.rake-app.replicateTo[1]: expected no duplicates, got "
        "{'account': '999988887777', 'region': 'us-west-2'}."
    )


def test_nat_gateways_none_without_endpoints_says_why() -> None:
    assert errors_of(
        "customer",
        app=customer_app(natGateways="None"),
        vendorMirror="replication",
        acceptReplicationFrom=[VENDOR],
    ) == (
        f"{P}app.natGateways: expected `None` only with `app.vpcEndpoints: true` (without NAT, "
        "tasks reach ECR, S3, CloudWatch Logs and Secrets Manager only through VPC endpoints), "
        "got 'None'."
    )


def test_nat_gateways_none_with_a_cache_follows_aws_first_pull_needs_nat() -> None:
    assert errors_of("customer", app=NAT_LESS, vendorMirror="pullThroughCache") == (
        f"{P}app.natGateways: expected `None` only with `vendorMirror: replication`, not "
        "`pullThroughCache` (AWS: a first pull through a cache over VPC endpoints needs a NAT "
        f"gateway, {ENDPOINTS_URL}), got 'None'."
    )


def test_nat_gateways_none_with_the_vendors_registry_in_another_region_is_refused() -> None:
    assert errors_of("customer", app=NAT_LESS, **PINNED) == (
        f"{P}app.natGateways: expected `None` only with `vendorMirror: replication` or a "
        f"`vendorImage` in us-west-2 (an ECR endpoint serves its own region only, "
        f"{ENDPOINTS_URL}), got 'None'."
    )


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(
            {"vendorMirror": "replication", "acceptReplicationFrom": [VENDOR]}, id="replication"
        ),
        # The vendor's image already in the customer's region: its endpoint serves it.
        pytest.param({**PINNED}, id="vendor-image-in-region"),
        # An app without vendor images needs no copy.
        pytest.param(
            {
                "vendorStack": None,
                "app": {
                    **NAT_LESS,
                    "containers": [
                        {
                            "name": "nlp-client",
                            "repository": "nlp-client",
                            "port": 8080,
                            "ingress": True,
                        }
                    ],
                },
            },
            id="no-vendor-image",
        ),
    ],
)
def test_nat_gateways_none_is_accepted_with_endpoints_and_an_in_region_image(
    changes: dict[str, Any],
) -> None:
    values = {"app": NAT_LESS, **changes}
    region = "us-east-2" if "vendorImage" in changes else None
    settings = parse("customer", region=region, **values)
    assert settings.app is not None and settings.app.nat_gateways == "None"


def test_vendor_mirror_needs_a_vendor_image_to_copy() -> None:
    assert errors_of("vendor", vendorMirror="pullThroughCache") == (
        f"{P}vendorMirror: expected `none` when no container of `app` sets `vendorRepository` "
        "(nothing to copy), got 'pullThroughCache'."
    )


def test_cache_copies_one_vendor_repository() -> None:
    other = {"name": "other", "vendorRepository": "other-app", "port": 8090}
    app = customer_app(containers=[*customer_app()["containers"], other])
    assert errors_of("customer", app=app, vendorMirror="pullThroughCache") == (
        f"{P}app.containers: expected one `vendorRepository` with `vendorMirror: "
        "pullThroughCache` (the cache's role reads one vendor repository), got "
        "['other-app', 'rake-app']."
    )


def test_replication_needs_the_vendor_account_accepted() -> None:
    assert errors_of("customer", vendorMirror="replication") == (
        f"{P}acceptReplicationFrom: expected the vendor's account with `vendorMirror: "
        "replication`, got []."
    )
    assert errors_of(
        "customer", vendorMirror="replication", acceptReplicationFrom=[CUSTOMER], **PINNED
    ) == (
        f"{P}acceptReplicationFrom: expected the vendor's account 111122223333 (vendorImage's "
        "registry) with `vendorMirror: replication`, got ['999988887777']."
    )


def test_accept_replication_needs_vendor_repositories_and_leaves_their_names_free() -> None:
    assert errors_of("vendor", acceptReplicationFrom=[CUSTOMER]) == (
        f"{P}acceptReplicationFrom: expected no accounts when no container of `app` sets "
        "`vendorRepository` (nothing to accept), got ['999988887777']."
    )
    own = {**stack_values("customer")["repositories"], "rake-app": {"source": "services/rake_app"}}
    assert errors_of("customer", acceptReplicationFrom=[VENDOR], repositories=own) == (
        f"{P}repositories.rake-app: expected no repository named like a vendor repository that "
        "`acceptReplicationFrom` admits (its replica takes that name), got 'rake-app'."
    )


def test_replicate_to_refuses_its_own_registry_and_ecr_limits() -> None:
    own = {"account": VENDOR, "region": "us-east-2"}
    many = [{"account": CUSTOMER, "region": f"eu-west-{i}"} for i in range(1, 27)]
    repositories = {
        **vendor_repositories(replicateTo=[own, *many[:1]]),
        "big-app": {"source": "services/rake_app", "replicateTo": many},
    }
    assert errors_of("vendor", repositories=repositories) == (
        f"{P}repositories.rake-app.replicateTo[0]: expected a registry other than this stack's "
        "own (111122223333 in us-east-2), got {'account': '111122223333', 'region': "
        "'us-east-2'}.\n"
        f"{P}repositories.big-app.replicateTo: expected at most 25 destinations, got 26."
    )
    eleven = {
        f"app-{i:02}": {
            "source": "services/rake_app",
            "replicateTo": [{"account": CUSTOMER, "region": "us-west-2"}],
        }
        for i in range(11)
    }
    assert errors_of("vendor", repositories=eleven) == (
        f"{P}repositories: expected `replicateTo` on at most 10 repositories (one replication "
        f"rule each), got {sorted(eleven)}."
    )
