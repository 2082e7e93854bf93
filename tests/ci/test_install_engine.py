""".ci/install-engine, which CI runs as root before `make test`: run against a scratch apt
configuration (its own package lists and caches, never the machine's)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "install-engine"
APT_GET = shutil.which("apt-get")
APT_CACHE = shutil.which("apt-cache")
BASH = shutil.which("bash")


@pytest.mark.skipif(APT_GET is None or APT_CACHE is None, reason="needs Debian's apt-get")
def test_install_engine_fails_when_apt_cannot_update_its_package_lists(tmp_path: Path) -> None:
    # dockerd and debootstrap are there (stubs), docker-compose is not: the script updates apt's
    # lists to look for it, from a source that refuses connections. apt-get update only warns
    # and exits 0 when an index fails to download; the script must stop there, not go on to
    # drop docker-compose as unavailable and succeed.
    assert APT_GET is not None and APT_CACHE is not None and BASH is not None
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "apt-get").symlink_to(APT_GET)
    (tools / "apt-cache").symlink_to(APT_CACHE)
    for present in ("dockerd", "debootstrap"):
        (tools / present).write_text("#!/bin/sh\nexit 0\n")
        (tools / present).chmod(0o755)
    for directory in ("lists/partial", "cache/archives/partial", "empty"):
        (tmp_path / directory).mkdir(parents=True)
    (tmp_path / "sources.list").write_text("deb http://127.0.0.1:9/debian bookworm main\n")
    config = tmp_path / "apt.conf"
    config.write_text(
        f'Dir::Etc::sourcelist "{tmp_path}/sources.list";\n'
        f'Dir::Etc::sourceparts "{tmp_path}/empty";\n'
        f'Dir::Etc::parts "{tmp_path}/empty";\n'
        f'Dir::State::Lists "{tmp_path}/lists";\n'
        f'Dir::Cache "{tmp_path}/cache";\n'
        'Acquire::Retries "0";\n'
    )
    result = subprocess.run(
        [BASH, str(SCRIPT)],
        env={"PATH": str(tools), "APT_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Failed to fetch http://127.0.0.1:9/debian" in result.stderr
