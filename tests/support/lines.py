"""A process's output read line by line as it comes, without blocking the test on a pipe."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable

import pytest

Lines = queue.Queue[str | None]


def pumped(stream: Iterable[str]) -> Lines:
    """`stream`'s lines (without newline) as they come, then None, read by a daemon thread."""
    lines: Lines = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def read_until(lines: Lines, marker: str | None, *, timeout: float) -> list[str]:
    """Lines up to and including the one containing `marker`, or all that are left for None;
    fails the test when the stream ends before `marker`."""
    read: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        if line is None:
            if marker is None:
                return read
            pytest.fail(f"output ended before {marker!r}:\n" + "\n".join(read))
        read.append(line)
        if marker is not None and marker in line:
            return read
