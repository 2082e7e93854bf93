"""Where a customer stack's vendor images come from: the vendor stack's outputs, or pinned config.

With `vendorStack`, a StackReference reads `<repo>_image_uri` and `<repo>_repository_arn`, the
names the vendor stack exports (`components.shared_repo.repository_output`), so both stacks agree by
construction. A customer without access to the vendor's Pulumi state sets `vendorImage` and
`vendorRepositoryArn` instead. Either way the image is pinned by digest and the repository is a
`RepoRef`, whose pull grant goes into the customer's execution role.
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
    # Default: the vendor repository is AES256-encrypted (set with `image` when it uses a KMS key).
    kms_key_arn: str | None = None


def vendor_images(names: Sequence[str], vendor: VendorSource | None) -> dict[str, VendorImage]:
    """The vendor images the app's containers name (`vendorRepository`), by repository name.

    Empty when no container uses a vendor image; settings has already checked that exactly one of
    `vendorStack` and `vendorImage` is set otherwise.
    """
    names = sorted(set(names))
    if not names or vendor is None:
        return {}
    if vendor.stack is None:
        assert vendor.image is not None and vendor.repository_arn is not None
        return {
            name: VendorImage(
                image_uri=pulumi.Output.from_input(vendor.image),
                repository=RepoRef.from_arn(vendor.repository_arn, kms_key_arn=vendor.kms_key_arn),
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

    return {
        name: VendorImage(
            # A tag can be re-pointed; a digest makes a new vendor image a visible diff.
            image_uri=output(
                name, "image_uri", ECR_IMAGE_BY_DIGEST, "an ECR image pinned by digest"
            ),
            repository=RepoRef.from_arn(
                output(name, "repository_arn", ECR_REPOSITORY_ARN, "an ECR repository ARN"),
                # Exported only when the vendor encrypts the repository with its own KMS key.
                kms_key_arn=reference.get_output(repository_output(name, "kms_key_arn")),
            ),
        )
        for name in names
    }
