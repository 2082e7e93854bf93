"""Run every benchmark, each in its own process, then print every figure and write a Markdown table.

Run: ``.venv/bin/python -m benchmarks.run_all`` (a few minutes on 2 cores). Exits 1 when a bar is
missed. Figures drift with whatever else the machine is doing: run it on a quiet machine.
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks.harness import RESULTS_DIR, ROOT, load_figures, markdown_rows, print_figures

BENCHMARKS = ("rake", "prose", "edge", "http_layer", "wake", "cold_start", "images")
SUMMARY = RESULTS_DIR / "summary.md"


def main() -> int:
    failed = [
        name
        for name in BENCHMARKS
        if subprocess.run([sys.executable, "-m", f"benchmarks.bench_{name}"], cwd=ROOT).returncode
    ]
    table = ["| benchmark | figure | value | bar | result |", "| --- | --- | --- | --- | --- |"]
    for name in BENCHMARKS:
        path = RESULTS_DIR / f"{name}.json"
        if path.exists():
            benchmark, figures = load_figures(path)
            print_figures(f"{benchmark} (from {path.relative_to(ROOT)})", figures)
            table += markdown_rows(benchmark, figures)
    SUMMARY.write_text("\n".join(table) + "\n")
    print(f"\nwrote {SUMMARY.relative_to(ROOT)}")
    if failed:
        print(f"missed a bar or failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
