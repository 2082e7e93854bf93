"""tools.live_check, which deploy.yml runs after `pulumi up`: against a loopback stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import JsonHandler, serving
from tools.live_check import USAGE, main

KEY = "the-api-key-never-printed"


class _Edge(JsonHandler):
    """/health answers 200; /health/rake 200 with the key (401 without); /health/prose as set."""

    prose_status = 200

    def do_GET(self) -> None:
        if self.path == "/health":
            status = 200
        elif self.headers.get("X-API-Key") != KEY:
            status = 401
        else:
            status = {"/health/rake": 200, "/health/prose": type(self).prose_status}.get(
                self.path, 404
            )
        self.send(status, b'{"status":"UP"}' if status == 200 else b'{"message":"no"}')


@pytest.fixture
def edge() -> Iterator[str]:
    _Edge.prose_status = 200
    with serving(_Edge) as url:
        yield url


def test_live_check_passes_when_every_path_answers_200(
    edge: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--wait", "0", edge], {"API_KEY": KEY}) == 0
    assert capsys.readouterr().out.splitlines() == [
        "GET /health: 200",
        "GET /health/rake (with the key): 200",
        "GET /health/prose (with the key): 200",
    ]


def test_live_check_fails_naming_the_path_and_never_prints_the_key(
    edge: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _Edge.prose_status = 502

    assert main(["--wait", "0", edge], {"API_KEY": KEY}) == 1

    out, err = capsys.readouterr()
    assert out.splitlines()[2] == (
        f"GET /health/prose (with the key): {edge}/health/prose did not answer 200 within 0 s "
        "(1 attempts; last: HTTP 502)."
    )
    assert err == "not healthy: GET /health/prose (with the key)\n"
    assert KEY not in out + err


def test_live_check_with_a_wrong_key_fails_the_keyed_paths(
    edge: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--wait", "0", edge], {"API_KEY": "wrong"}) == 1
    assert capsys.readouterr().err == (
        "not healthy: GET /health/rake (with the key), GET /health/prose (with the key)\n"
    )


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        pytest.param(["http://127.0.0.1:9"], {}, id="no-key"),
        pytest.param(["127.0.0.1:9"], {"API_KEY": KEY}, id="not-a-url"),
        pytest.param([], {"API_KEY": KEY}, id="no-url"),
    ],
)
def test_live_check_bad_usage_exits_2(
    argv: list[str], environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv, environ) == 2
    assert capsys.readouterr().err == USAGE + "\n"
