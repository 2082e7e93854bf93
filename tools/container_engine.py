"""A Docker engine, a base image and the three services' images, for the tests and benchmarks
that run them (tests/images/, benchmarks/bench_images.py).

- Engine: the running one if `docker info` answers; otherwise, as root with `dockerd` installed
  (`.ci/install-engine`), a `dockerd` started in the background and stopped by its PID at the end.
- Base: the Dockerfiles' default `python:3.11.14-slim-bookworm` if the engine has it or can pull
  it; otherwise a stand-in built from Debian's packages (`debootstrap`), never named like the
  official image, reused while an image of its tag exists (the tag is a digest of its recipe).
- Images: built with the classic builder from the contexts `pulumi up` builds from
  (`components.image_inputs.assemble`), the base passed as the build argument `BASE_IMAGE`.

`EngineUnavailable` says what is missing when there is no engine or no base to build on.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from components.image_inputs import assemble

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / ".build"
# The Dockerfiles' `ARG BASE_IMAGE` default.
OFFICIAL_BASE = "python:3.11.14-slim-bookworm"
STAND_IN_REPOSITORY = "stand-in-python"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
STAND_IN_PACKAGES = ("python3", "python3-venv", "ca-certificates")
# Debian's bundled pip 23.0.1 refuses prose-app's hash-locked `smart-open[http]`; the official
# image ships pip 24.0, so the stand-in's `python -m venv` gets that one (hash-pinned, from PyPI).
PIP_REQUIREMENT = (
    "pip==24.0 --hash=sha256:ba0d021a166865d2265246961bec0152ff124de910c5cc39f1156ce3fa7c69dc"
)
# Where Debian keeps a machine's own CA certificates (a TLS-inspecting proxy's, for one).
EXTRA_CA_DIR = Path("/usr/local/share/ca-certificates")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
ENGINE_START_SECONDS = 30.0
IMAGE_PREFIX = "nlp-api-test"


class EngineUnavailable(RuntimeError):
    """No engine, or no base image to build on; the message says what is missing."""


def _run(*command: str, timeout: float = 600, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}... failed:\n{result.stderr[-2000:]}")
    return str(result.stdout)


def _answers(docker: str) -> bool:
    try:
        info = subprocess.run([docker, "info"], capture_output=True, check=False, timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return info.returncode == 0


@contextlib.contextmanager
def docker_engine() -> Iterator[str]:
    """The docker client's path, with an engine answering it for the duration of the block."""
    docker = shutil.which("docker")
    if docker is None:
        raise EngineUnavailable("no docker client on PATH (as root: .ci/install-engine)")
    if _answers(docker):
        yield docker
        return
    dockerd = shutil.which("dockerd") or next(
        (p for p in ("/usr/sbin/dockerd", "/usr/bin/dockerd") if Path(p).exists()), None
    )
    if dockerd is None:
        raise EngineUnavailable("no running engine and no dockerd (as root: .ci/install-engine)")
    if os.geteuid() != 0:
        raise EngineUnavailable("no running engine, and starting dockerd needs root")
    LOG_DIR.mkdir(exist_ok=True)
    log_path = LOG_DIR / "dockerd.log"
    with log_path.open("wb") as log:
        daemon = subprocess.Popen([dockerd], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + ENGINE_START_SECONDS
        while not _answers(docker):
            if daemon.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise EngineUnavailable(
                    "dockerd did not start (missing kernel features?): " + " | ".join(tail)
                )
            time.sleep(0.2)
        yield docker
    finally:
        daemon.terminate()  # dockerd stops its containers' shims and exits on SIGTERM
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def _has_image(docker: str, name: str) -> bool:
    inspect = [docker, "image", "inspect", name]
    return subprocess.run(inspect, capture_output=True, check=False, timeout=30).returncode == 0


def _extra_certificates() -> list[Path]:
    return sorted(EXTRA_CA_DIR.rglob("*.crt")) if EXTRA_CA_DIR.is_dir() else []


def stand_in_tag() -> str:
    """`stand-in-python:bookworm-<12 hex>`: a digest of the recipe and the host's extra CAs."""
    recipe = hashlib.sha256(
        repr((DEBIAN_SUITE, DEBIAN_MIRROR, STAND_IN_PACKAGES, PIP_REQUIREMENT)).encode()
    )
    for certificate in _extra_certificates():
        recipe.update(certificate.read_bytes())
    return f"{STAND_IN_REPOSITORY}:{DEBIAN_SUITE}-{recipe.hexdigest()[:12]}"


def base_image(docker: str) -> str:
    """The image to build on: the official base when the engine has or can pull it, else the
    stand-in (built once per tag)."""
    if _has_image(docker, OFFICIAL_BASE):
        return OFFICIAL_BASE
    pull = subprocess.run(
        [docker, "pull", "--quiet", OFFICIAL_BASE], capture_output=True, check=False, timeout=300
    )
    if pull.returncode == 0:
        return OFFICIAL_BASE
    tag = stand_in_tag()
    if not _has_image(docker, tag):
        _build_stand_in(docker, tag)
    return tag


def _build_stand_in(docker: str, tag: str) -> None:
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists() or os.geteuid() != 0:
        raise EngineUnavailable(
            f"{OFFICIAL_BASE} cannot be pulled, and its stand-in needs debootstrap and root "
            "(as root: .ci/install-engine)"
        )
    with tempfile.TemporaryDirectory(prefix="stand-in-") as work:
        rootfs = Path(work) / "rootfs"
        include = ",".join(STAND_IN_PACKAGES)
        _run(
            debootstrap, "--variant=minbase", f"--include={include}", DEBIAN_SUITE,
            str(rootfs), DEBIAN_MIRROR, timeout=900,
        )  # fmt: skip
        changes = ["ENV LANG=C.UTF-8", 'CMD ["python"]']
        environ = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
        certificates = _extra_certificates()
        if certificates:
            # Trusted inside the builds too: pip uses its own CA list unless PIP_CERT is set.
            for certificate in certificates:
                shutil.copy(certificate, rootfs / "usr/local/share/ca-certificates")
            _run("chroot", str(rootfs), "update-ca-certificates", env=environ)
            environ["PIP_CERT"] = CA_BUNDLE
            changes.append(f"ENV PIP_CERT={CA_BUNDLE}")
        for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy"):
            if proxy in os.environ:
                environ[proxy] = os.environ[proxy]
        wheels = rootfs / "usr/share/python-wheels"
        (rootfs / "tmp/pip.txt").write_text(PIP_REQUIREMENT + "\n")
        _run(
            "chroot", str(rootfs), "sh", "-ec",
            "python3 -m venv /tmp/v && /tmp/v/bin/pip download --quiet --no-deps "
            "--require-hashes -r /tmp/pip.txt -d /tmp/wheel && rm -r /tmp/v",
            env=environ,
        )  # fmt: skip
        for old in wheels.glob("pip-*.whl"):
            old.unlink()
        for wheel in (rootfs / "tmp/wheel").glob("pip-*.whl"):
            shutil.move(wheel, wheels / wheel.name)
        # The official image's `python` command.
        (rootfs / "usr/local/bin/python").symlink_to("/usr/bin/python3")
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists", "tmp"):
            shutil.rmtree(rootfs / leftover)
            (rootfs / leftover).mkdir(mode=0o1777 if leftover == "tmp" else 0o755)
        (rootfs / "tmp").chmod(0o1777)
        command = [docker, "import", *(f"--change={c}" for c in changes), "-", tag]
        with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
            imported = subprocess.run(command, stdin=tar.stdout, capture_output=True, check=False)
        if tar.returncode != 0 or imported.returncode != 0:
            raise RuntimeError(f"docker import failed: {imported.stderr.decode()[-2000:]}")


def build_image(docker: str, name: str, source: str, base: str) -> str:
    """Build image `name` from the Dockerfile in `source` on `base`; returns its local tag."""
    context = assemble(ROOT, name, source)
    tag = f"{IMAGE_PREFIX}/{name}:{context.short_digest}"
    _run(
        docker, "build", "--quiet", "--build-arg", f"BASE_IMAGE={base}",
        "-f", str(ROOT / context.dockerfile), "-t", tag, str(ROOT / context.directory),
        env={k: v for k, v in os.environ.items() if k != "DOCKER_BUILDKIT"}, timeout=1200,
    )  # fmt: skip
    # Earlier builds of this image go (their layers stay as the build cache while referenced).
    listed = _run(docker, "images", "--format", "{{.Repository}}:{{.Tag}}", tag.split(":")[0])
    stale = [image for image in listed.split() if image != tag]
    if stale:
        _run(docker, "image", "rm", *stale)
    return tag
