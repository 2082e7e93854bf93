"""What every benchmark shares: bars, the printed table, the JSON record, timing and RSS."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
# The API key the benchmarks give the services they start (loopback only).
BENCH_KEY = "benchmark-key-0123456789"
# Seconds a floor started by `started_module` has to answer its first /health.
START_TIMEOUT_SECONDS = 30.0
# The services import each other as top-level packages (their images' layout), as in the tests.
SERVICES_DIR = ROOT / "services"
if str(SERVICES_DIR) not in sys.path:
    sys.path.insert(0, str(SERVICES_DIR))


@dataclass(frozen=True, kw_only=True)
class Figure:
    """One measured number, with the bar it must meet when it has one."""

    name: str
    value: float
    unit: str
    # Default: no bar, the figure is context only (for example the baseline it is compared to).
    minimum: float | None = None
    # Default: no upper bar.
    maximum: float | None = None

    @property
    def passed(self) -> bool | None:
        if self.minimum is None and self.maximum is None:
            return None
        return (self.minimum is None or self.value >= self.minimum) and (
            self.maximum is None or self.value <= self.maximum
        )

    @property
    def bar(self) -> str:
        if self.minimum is not None:
            return f">= {self.minimum:.4g}"
        if self.maximum is not None:
            return f"<= {self.maximum:.4g}"
        return ""


def best_seconds(run: Callable[[], object], *, repeat: int) -> float:
    """The fastest of `repeat` wall-clock runs: the least disturbed by other work on the machine."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def rss_mb(pid: int) -> float:
    """Resident set size of a live process, in MB (10^6 bytes), from /proc (Linux only)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time a live process has used so far, user + system, from /proc (Linux only)."""
    # Fields 14 and 15 of /proc/<pid>/stat, in clock ticks; the command name (field 2) may hold
    # spaces, so count after its closing parenthesis (field 3 is the first after it).
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def started_module(module: str, *args: str) -> Iterator[tuple[str, int]]:
    """``python -m module *args <port>`` on a free port, until ``GET /health`` there answers
    UP, and until the block ends: its URL and pid (a floor such as ``benchmarks.bare_app``)."""
    from common.healthcheck import check  # noqa: PLC0415 (the services' path is set above)
    from tests.support.ports import free_port  # noqa: PLC0415

    port = free_port()
    path = os.pathsep.join([str(SERVICES_DIR), str(ROOT)])
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args, str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while (problem := check(port)) is not None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{module} did not start: {problem}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_floor(app: ASGIApp, port: int, *, lifespan: bool) -> None:
    """Serve a floor (``benchmarks.bare_app``, ``benchmarks.bare_forwarder``) on 127.0.0.1 until
    stopped: uvicorn with httptools and uvloop as the services run it, without their protocol
    subclass, logs or settings."""
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        http="httptools",
        loop="uvloop",
        lifespan="on" if lifespan else "off",
        access_log=False,
        log_level="warning",
    )


def _git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def print_figures(title: str, figures: Sequence[Figure]) -> None:
    """The figures as an aligned table, with each bar and whether it is met."""
    width = max(len(f.name) for f in figures)
    print(f"\n== {title} ==")
    print(f"{'figure':<{width}}  {'value':>12}  {'unit':<8}  {'bar':<10}  result")
    for f in figures:
        verdict = {None: "", True: "ok", False: "MISSED"}[f.passed]
        print(f"{f.name:<{width}}  {f.value:>12.4g}  {f.unit:<8}  {f.bar:<10}  {verdict}")


def markdown_rows(benchmark: str, figures: Sequence[Figure]) -> list[str]:
    """One Markdown table row per figure: benchmark, figure, value, bar, result."""
    rows = []
    for f in figures:
        verdict = {None: "", True: "ok", False: "**missed**"}[f.passed]
        rows.append(f"| {benchmark} | {f.name} | {f.value:.4g} {f.unit} | {f.bar} | {verdict} |")
    return rows


def load_figures(path: Path) -> tuple[str, list[Figure]]:
    """A results/<benchmark>.json file back as its name and figures."""
    record = json.loads(path.read_text())
    names = set(Figure.__dataclass_fields__)
    figures = [Figure(**{k: v for k, v in f.items() if k in names}) for f in record["figures"]]
    return record["benchmark"], figures


def report(benchmark: str, figures: Sequence[Figure], *, notes: Sequence[str] = ()) -> bool:
    """Print the figures, write them to results/<benchmark>.json; True if every bar is met."""
    print_figures(benchmark, figures)
    for note in notes:
        print(f"  note: {note}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": benchmark,
        "commit": _git_commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "figures": [asdict(f) | {"passed": f.passed} for f in figures],
        "notes": list(notes),
    }
    path = RESULTS_DIR / f"{benchmark}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"  wrote {os.path.relpath(path, ROOT)}")
    return all(f.passed is not False for f in figures)
