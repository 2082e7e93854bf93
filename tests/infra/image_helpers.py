"""What the program's image of a repository is expected to be, from the checked-out sources."""

from __future__ import annotations

from pathlib import PurePosixPath

from components.image_inputs import image_inputs, inputs_digest
from tests.infra.harness import ROOT, fake_digest

# The stack files' `imageTag` (Pulumi.yaml's default).
RELEASE = "1.1.0"


def short_digest(source: str) -> str:
    """12 hex of the digest of the image's inputs in this checkout (its exact value is tested in
    tests/infra/test_image_inputs.py)."""
    return inputs_digest(image_inputs(ROOT, PurePosixPath(source)))[:12]


def image_tag(source: str, release: str = RELEASE) -> str:
    """The tag pushed for the image built from `source`: `<release>-<12 hex>`."""
    return f"{release}-{short_digest(source)}"


def image_uri(registry: str, name: str, source: str) -> str:
    """The digest-pinned URI the mocks give image `name` (`harness._docker_image`)."""
    return f"{registry}/{name}@sha256:{fake_digest(f'{registry}/{name}:{image_tag(source)}')}"


def build_args(name: str, source: str) -> dict[str, str]:
    """The docker Image's `build` input: the image's own assembled context."""
    context = f".build/images/{name}-{short_digest(source)}"
    return {"context": context, "dockerfile": f"{context}/Dockerfile", "platform": "linux/amd64"}
