"""Where a customer stack's vendor images come from: the vendor stack's outputs, or pinned config.

With `vendorStack`, a StackReference reads `<repo>_image_uri` and `<repo>_repository_arn`, the
names the vendor stack exports (`components.shared_repo.repository_output`), so both stacks agree by
construction. A customer without access to the vendor's Pulumi state sets `vendorImage` and
`vendorRepositoryArn` instead. Either way the image is pinned by digest and the repository is a
`RepoRef`, whose pull grant goes into the customer's execution role.

Through the reference the customer also learns who the vendor shares each repository with
(`<repo>_pull_accounts`, `<repo>_pull_org_id`), and fails at preview, naming its account, when
it is not among them: otherwise the first sign would be tasks that cannot pull. With
`vendorImage` there is nothing to read, and the check is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pulumi

from components.aws_values import ECR_IMAGE_BY_DIGEST, ECR_REPOSITORY_ARN
from components.config_errors import format_problem
from components.shared_repo import RepoRef, repository_output

# Logical name of the StackReference resource (its `name` input is the configured stack).
STACK_REFERENCE_NAME: Final = "vendor"


@dataclass(frozen=True, kw_only=True)
class VendorImage:
    """One image of the vendor and the repository it is pulled from."""

    # <account>.dkr.ecr.<region>.amazonaws.com/<name>@sha256:<digest>, in the vendor's registry.
    image_uri: pulumi.Output[str]
    # The vendor's repository, in the vendor's account and region.
    repository: RepoRef


@dataclass(frozen=True, kw_only=True)
class VendorSource:
    """Where the vendor's images come from: its stack's outputs, or a pinned image + ARN."""

    # Exactly one of `stack` and `image` is set; `repository_arn` goes with `image`.
    stack: str | None = None
    image: str | None = None
    repository_arn: str | None = None


def vendor_images(
    names: Sequence[str], vendor: VendorSource | None, *, account_id: str
) -> dict[str, VendorImage]:
    """The vendor images the app's containers name (`vendorRepository`), by repository name.

    Empty when no container uses a vendor image; settings has already checked that exactly one of
    `vendorStack` and `vendorImage` is set otherwise. `account_id` is the customer's account: with
    `vendorStack`, each image resolves only if the vendor shares its repository with it.
    """
    names = sorted(set(names))
    if not names or vendor is None:
        return {}
    if vendor.stack is None:
        assert vendor.image is not None and vendor.repository_arn is not None
        return {
            name: VendorImage(
                image_uri=pulumi.Output.from_input(vendor.image),
                repository=RepoRef.from_arn(vendor.repository_arn),
            )
            for name in names
        }

    stack = vendor.stack
    reference = pulumi.StackReference(STACK_REFERENCE_NAME, stack_name=stack)

    def output(
        name: str, attribute: str, pattern: re.Pattern[str], expected: str
    ) -> pulumi.Output[str]:
        key = repository_output(name, attribute)

        def checked(value: Any) -> str:
            # Checked when the reference resolves (preview included), naming the vendor's output;
            # an output the vendor does not export arrives as None.
            if not isinstance(value, str) or not pattern.fullmatch(value):
                raise ValueError(format_problem(f"{stack} output {key}", expected, value))
            return value

        return reference.get_output(key).apply(checked)

    def shared_with_us(name: str) -> pulumi.Output[None]:
        accounts_key = repository_output(name, "pull_accounts")

        def check(values: list[Any]) -> None:
            accounts, org_id = values
            if not isinstance(accounts, list):  # a vendor stack deployed before this output
                raise ValueError(
                    format_problem(
                        f"{stack} output {accounts_key}", "the accounts that may pull", accounts
                    )
                )
            # Membership of the vendor's organization cannot be checked from here (it needs
            # organizations:DescribeOrganization); an org-wide share passes.
            if account_id not in accounts and not org_id:
                raise ValueError(
                    f"{stack} does not share {name} with account {account_id} "
                    f"(it may be pulled by {', '.join(accounts) or 'no other account'}): the "
                    f"vendor adds it to `repositories.{name}.pullAccounts` and runs `pulumi up`."
                )

        return pulumi.Output.all(
            reference.get_output(accounts_key),
            reference.get_output(repository_output(name, "pull_org_id")),
        ).apply(check)

    def image(name: str) -> pulumi.Output[str]:
        # A tag can be re-pointed; a digest makes a new vendor image a visible diff.
        uri = output(name, "image_uri", ECR_IMAGE_BY_DIGEST, "an ECR image pinned by digest")
        return pulumi.Output.all(uri, shared_with_us(name)).apply(lambda values: str(values[0]))

    return {
        name: VendorImage(
            image_uri=image(name),
            repository=RepoRef.from_arn(
                output(name, "repository_arn", ECR_REPOSITORY_ARN, "an ECR repository ARN")
            ),
        )
        for name in names
    }
