"""services/compose.yaml run by a compose implementation, as `docker compose up` runs it.

Built with compose's own `build:` sections on the session's base (every layer comes from the
cache of the images tests/images/conftest.py built from the same files), one project per run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

from local_stack import NLP_CLIENT, SERVICES_DIR
from tests.images.task import wait_healthy


def compose_command(docker: str) -> list[str] | None:
    """Debian's `docker-compose` (1.29), else the `docker compose` plugin, else None."""
    standalone = shutil.which("docker-compose")
    if standalone:
        return [standalone]
    plugin = subprocess.run(
        [docker, "compose", "version"], capture_output=True, check=False, timeout=30
    )
    return [docker, "compose"] if plugin.returncode == 0 else None


class ComposeStack:
    """`with ComposeStack(docker, compose, base, api_key) as running:`; taken down on exit."""

    def __init__(self, docker: str, compose: list[str], base: str, api_key: str) -> None:
        self.docker = docker
        self.project = f"nlp-api-test-{uuid.uuid4().hex[:8]}"
        self.command = [*compose, "--project-name", self.project]
        self.base = base
        self.environ = {**os.environ, "API_KEY": api_key}
        # compose.yaml publishes the edge on 127.0.0.1:8080.
        self.url = f"http://127.0.0.1:{NLP_CLIENT.default_port}"

    def _compose(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run(
            [*self.command, *args],
            cwd=SERVICES_DIR,
            env=self.environ,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        assert result.returncode == 0, f"compose {args[0]}: {result.stderr[-2000:]}"
        return result.stdout.strip()

    def container(self, service: str) -> str:
        return self._compose("ps", "--quiet", service)

    def __enter__(self) -> ComposeStack:
        try:
            self._compose("build", "--build-arg", f"BASE_IMAGE={self.base}")
            # `up` starts the edge once rake-app and prose-app are healthy (depends_on).
            self._compose("up", "--detach")
            wait_healthy(self.docker, self.container(NLP_CLIENT.name))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._compose("down", "--volumes", "--timeout", "30", timeout=120)
