"""Closed-loop HTTP load from `wrk` (a C load generator, ``apt-get install wrk``), parsed.

wrk keeps `connections` requests in flight from `threads` OS threads of its own for a duration,
and prints its figures as text; this module writes the request into a Lua script for it
(``lua_script``), runs it (``run_wrk``) and reads the text back exactly (``parse_output``).

What wrk checks: answers with status >= 400 (its "Non-2xx or 3xx responses" line counts only
those) and socket errors; ``run_wrk`` raises ``WrkError`` on either. It never reads the bodies:
check one answer yourself before the run.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

WRK = "wrk"
# wrk prints times with its unit; these are its units, in microseconds (wrk's units.c).
_MICROSECONDS = {
    "us": Decimal(1),
    "ms": Decimal(1_000),
    "s": Decimal(1_000_000),
    "m": Decimal(60_000_000),
    "h": Decimal(3_600_000_000),
}
_TIME = r"([0-9.]+)(us|ms|s|m|h)"
# wrk pads a one-letter unit to two characters ("1.16s "): lines may end in spaces.
_PERCENTILE = re.compile(rf"^\s+(\d+)%\s+{_TIME} *$", re.MULTILINE)
_REQUESTS = re.compile(rf"^\s+(\d+) requests in {_TIME},", re.MULTILINE)
_PER_SECOND = re.compile(r"^Requests/sec:\s+([0-9.]+) *$", re.MULTILINE)
_STATUS_ERRORS = re.compile(r"^\s+Non-2xx or 3xx responses: (\d+) *$", re.MULTILINE)
_SOCKET_ERRORS = re.compile(
    r"^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+) *$", re.MULTILINE
)
_SOCKET_ERROR_KINDS = ("connect", "read", "write", "timeout")
# Bytes a Lua string literal may hold as they are: printable ASCII but the quote and backslash.
_LUA_PLAIN = frozenset(range(0x20, 0x7F)) - {ord('"'), ord("\\")}


class WrkError(RuntimeError):
    """wrk failed, or the run saw error statuses or socket errors; the message says which."""


@dataclass(frozen=True, kw_only=True)
class Request:
    """The one request wrk sends over and over (to the URL's path)."""

    method: str
    # Default: no body.
    body: str = ""
    # Default: none beyond wrk's Host and Content-Length.
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class WrkResult:
    """What wrk printed: answers, rate, median and 99th percentile latency, errors."""

    requests: int  # answers read in full
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    error_statuses: int  # answers with status >= 400
    socket_errors: Mapping[str, int]  # connect, read, write, timeout

    def problems(self) -> list[str]:
        """Why this run does not count (empty when it does)."""
        found = []
        if self.requests == 0:
            found.append("no answer")
        if self.error_statuses:
            found.append(f"{self.error_statuses} answers with status >= 400")
        if any(self.socket_errors.values()):
            counts = ", ".join(f"{kind} {n}" for kind, n in self.socket_errors.items() if n)
            found.append(f"socket errors: {counts}")
        return found


def lua_string(value: str) -> str:
    """`value` as a double-quoted Lua string literal: its UTF-8 bytes, escaped as ``\\ddd``
    unless printable ASCII (LuaJIT reads the bytes back exactly)."""
    return (
        '"'
        + "".join(
            chr(byte) if byte in _LUA_PLAIN else f"\\{byte:03d}" for byte in value.encode("utf-8")
        )
        + '"'
    )


def lua_script(request: Request) -> str:
    """A wrk script that sends `request` (a static request: wrk formats it once)."""
    lines = [f"wrk.method = {lua_string(request.method)}", f"wrk.body = {lua_string(request.body)}"]
    lines += [
        f"wrk.headers[{lua_string(name)}] = {lua_string(value)}"
        for name, value in request.headers.items()
    ]
    return "\n".join(lines) + "\n"


def _microseconds(number: str, unit: str) -> Decimal:
    return Decimal(number) * _MICROSECONDS[unit]


def _one(pattern: re.Pattern[str], text: str, what: str) -> re.Match[str]:
    match = pattern.search(text)
    if match is None:
        raise WrkError(f"no {what} in wrk's output (was --latency given?):\n{text}")
    return match


def parse_output(text: str) -> WrkResult:
    """wrk's printed report (run with ``--latency``) as figures; its times are read exactly."""
    percentiles = {
        int(percent): _microseconds(number, unit)
        for percent, number, unit in _PERCENTILE.findall(text)
    }
    if 50 not in percentiles or 99 not in percentiles:
        raise WrkError(f"no latency distribution in wrk's output (was --latency given?):\n{text}")
    requests = _one(_REQUESTS, text, "request count")
    status_errors = _STATUS_ERRORS.search(text)
    socket_errors = _SOCKET_ERRORS.search(text)
    return WrkResult(
        requests=int(requests[1]),
        seconds=float(_microseconds(requests[2], requests[3]) / 1_000_000),
        per_second=float(_one(_PER_SECOND, text, "Requests/sec")[1]),
        p50_ms=float(percentiles[50] / 1_000),
        p99_ms=float(percentiles[99] / 1_000),
        error_statuses=int(status_errors[1]) if status_errors else 0,
        socket_errors={
            kind: int(socket_errors[i]) if socket_errors else 0
            for i, kind in enumerate(_SOCKET_ERROR_KINDS, start=1)
        },
    )


def run_wrk(
    url: str, request: Request, *, connections: int, threads: int, seconds: int
) -> WrkResult:
    """`connections` requests in flight to `url` for `seconds`; raises WrkError on any error.

    Usage::

        result = run_wrk("http://127.0.0.1:8081/keywords", Request(method="POST", body=text,
                         headers={"Content-Type": "application/json"}), connections=16,
                         threads=2, seconds=3)
        result.per_second, result.p50_ms   # 2472.24, 5.78
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua_script(request))
        script.flush()
        command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
        done = subprocess.run(
            [*command, "-s", script.name, url],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
        )
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}: {done.stderr.strip()}")
    result = parse_output(done.stdout)
    problems = result.problems()
    if problems:
        raise WrkError(f"wrk run on {url} does not count: {'; '.join(problems)}")
    return result
