"""benchmarks.wrk: wrk's printed report read back exactly, and the Lua script it is given.

The fixtures are real wrk 4.1.0 output captured on this project's dev VM: rake-app at
concurrency 1 and 16, a target at 64 on a busy machine (a p99 in seconds), rake-app refusing a
wrong key (401s), and a server closing every connection after its answer (read errors).
"""

from __future__ import annotations

import re
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from benchmarks.wrk import WRK, Request, WrkError, lua_script, lua_string, parse_output, run_wrk
from tests.benchmarks.markers import needs_wrk

FIXTURES = Path(__file__).parent / "fixtures"
NO_ERRORS = {"connect": 0, "read": 0, "write": 0, "timeout": 0}


def _sample(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_parse_output_concurrency_1_sample_reads_exact_figures() -> None:
    result = parse_output(_sample("wrk-c1.txt"))

    assert (result.requests, result.seconds, result.per_second) == (4785, 2.0, 2389.96)
    assert (result.p50_ms, result.p99_ms) == (0.376, 0.733)
    assert (result.error_statuses, result.socket_errors) == (0, NO_ERRORS)
    assert result.problems() == []


def test_parse_output_milliseconds_sample_reads_exact_figures() -> None:
    result = parse_output(_sample("wrk-c16.txt"))

    assert (result.requests, result.seconds, result.per_second) == (5193, 2.1, 2472.24)
    assert (result.p50_ms, result.p99_ms) == (5.78, 11.49)


def test_parse_output_seconds_padded_with_a_space_read_exactly() -> None:
    result = parse_output(_sample("wrk-c64-seconds.txt"))  # "99%    1.16s "

    assert (result.requests, result.seconds, result.per_second) == (4234, 3.01, 1408.76)
    assert (result.p50_ms, result.p99_ms) == (41.32, 1160.0)


@pytest.mark.parametrize(
    ("printed", "milliseconds"),
    [("733.00us", 0.733), ("11.49ms", 11.49), ("1.50s ", 1500.0), ("2.00m ", 120000.0)],
)
def test_parse_output_each_time_unit_converts_exactly(printed: str, milliseconds: float) -> None:
    text = _sample("wrk-c1.txt").replace("99%  733.00us", f"99%  {printed}")

    assert parse_output(text).p99_ms == milliseconds


def test_parse_output_error_statuses_counted_as_a_problem() -> None:
    result = parse_output(_sample("wrk-status-errors.txt"))

    assert (result.requests, result.error_statuses) == (3910, 3910)
    assert result.problems() == ["3910 answers with status >= 400"]


def test_parse_output_socket_errors_counted_as_a_problem() -> None:
    result = parse_output(_sample("wrk-socket-errors.txt"))

    assert result.socket_errors == {"connect": 0, "read": 25298, "write": 0, "timeout": 0}
    assert (result.p50_ms, result.p99_ms) == (0.033, 0.137)
    assert result.problems() == ["socket errors: read 25298"]


def test_parse_output_without_latency_distribution_raises() -> None:
    text = re.sub(r"^ +\d+%.*\n", "", _sample("wrk-c1.txt"), flags=re.MULTILINE)

    with pytest.raises(WrkError, match="no latency distribution"):
        parse_output(text)


def test_lua_string_quote_backslash_control_and_non_ascii_escaped_as_decimal_bytes() -> None:
    assert lua_string('a"b\\c\n€ 1') == '"a\\034b\\092c\\010\\226\\130\\172 1"'


def test_lua_script_request_sets_method_body_and_headers() -> None:
    request = Request(
        method="POST", body='{"text": "hi"}', headers={"Content-Type": "application/json"}
    )

    assert lua_script(request) == (
        'wrk.method = "POST"\n'
        'wrk.body = "{\\034text\\034: \\034hi\\034}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
    )


@needs_wrk
def test_lua_script_read_by_wrk_gives_back_the_exact_values() -> None:
    request = Request(method="POST", body='{"t": "x\\"\n€"}', headers={"X-API-Key": "k\x01y"})
    # wrk resolves (connects to) the URL before it calls init: a listening socket is enough.
    echo = 'function init(args) io.write(wrk.method, "|", wrk.body, "|", wrk.headers["X-API-Key"])'
    echo += " io.flush() os.exit(0) end\n"
    with socket.socket() as listener, tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        script.write(lua_script(request) + echo)
        script.flush()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        done = subprocess.run(
            [WRK, "-t1", "-c1", "-d1s", "-s", script.name, url], capture_output=True, timeout=30
        )

    assert done.stdout.decode("utf-8") == 'POST|{"t": "x\\"\n€"}|k\x01y'


@needs_wrk
def test_run_wrk_refused_connection_raises_with_wrk_message() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: connections are refused

        with pytest.raises(WrkError, match="wrk exited with 1: unable to connect to 127.0.0.1"):
            run_wrk(
                f"http://127.0.0.1:{port}/",
                Request(method="GET"),
                connections=1,
                threads=1,
                seconds=1,
            )
