"""Benchmark 7: each image's size, its size over the base image, and time from `docker run` to
healthy.

Bars: rake-app adds at most 45 MB to the base, nlp-client at most 55 MB, prose-app at most
250 MB. Needs a Docker engine (started here when this machine can, see
tools/container_engine.py); the images are built as the tests build them, on the official base
or, where it cannot be pulled, on the Debian stand-in. Run: `.venv/bin/python -m
benchmarks.bench_images`. Sizes are docker's uncompressed image sizes, in MB (10^6 bytes).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time

from benchmarks.harness import BENCH_KEY, Figure, report
from local_stack import NLP_CLIENT, PROSE_APP, RAKE_APP, SERVICES, Service
from tools.container_engine import base_image, build_image, docker_engine

NAME = "images"
STARTS = 3
MAX_MB_OVER_BASE = {RAKE_APP: 45.0, NLP_CLIENT: 55.0, PROSE_APP: 250.0}
# The image's own HEALTHCHECK command, probed every 200 ms instead of its 15 s interval, so the
# figure is the time to the first passing probe rather than to the next scheduled one.
PROBE_INTERVAL = "200ms"


def size_mb(docker: str, image: str) -> float:
    inspect = [docker, "image", "inspect", "--format", "{{.Size}}", image]
    return int(subprocess.run(inspect, capture_output=True, text=True, check=True).stdout) / 1e6


def seconds_to_healthy(docker: str, image: str) -> float:
    run = [docker, "run", "--detach", "--read-only", "--init", "--cap-drop", "ALL"]
    run += ["--health-interval", PROBE_INTERVAL, "--env", f"API_KEY={BENCH_KEY}", image]
    started = time.perf_counter()
    container = subprocess.run(run, capture_output=True, text=True, check=True).stdout.strip()
    try:
        while True:
            inspect = [docker, "inspect", "--format", "{{json .State.Health.Status}}", container]
            status = json.loads(subprocess.run(inspect, capture_output=True, text=True).stdout)
            if status == "healthy":
                return time.perf_counter() - started
            if time.perf_counter() - started > 120:
                raise RuntimeError(f"{image} not healthy after 120 s")
            time.sleep(0.05)
    finally:
        subprocess.run([docker, "rm", "--force", container], capture_output=True, check=False)


def figures_of(docker: str, base: str, service: Service, image: str) -> list[Figure]:
    size = size_mb(docker, image)
    starts = [seconds_to_healthy(docker, image) for _ in range(STARTS)]
    return [
        Figure(name=f"{service.name} size", value=size, unit="MB"),
        Figure(
            name=f"{service.name} size over base",
            value=size - size_mb(docker, base),
            unit="MB",
            maximum=MAX_MB_OVER_BASE[service],
        ),
        Figure(name=f"{service.name} run to healthy", value=statistics.median(starts), unit="s"),
    ]


def main() -> bool:
    with docker_engine() as docker:
        base = base_image(docker)
        figures = [Figure(name="base size", value=size_mb(docker, base), unit="MB")]
        for service in SERVICES:
            image = build_image(docker, service.name, f"services/{service.module}", base)
            figures += figures_of(docker, base, service, image)
    notes = [f"base {base}", f"run to healthy: median of {STARTS}, probed every {PROBE_INTERVAL}"]
    return report(NAME, figures, notes=notes)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
