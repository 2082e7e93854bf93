"""What every service gets from `common`, over HTTP: auth, the error shape, body parsing and cap."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from common import API_KEY_HEADER, ApiError, errors
from common.auth import check_api_key
from tests.services.served_apps import COMMON_ROUTES, TEST_MAX_BODY_BYTES
from tests.support.http import TEST_API_KEY, call


def test_health_without_key_returns_up(echo_url: str) -> None:
    reply = call("GET", f"{echo_url}/health", key=None)
    assert (reply.status, reply.body) == (200, {"status": "UP"})


def test_health_with_trailing_slash_is_not_the_open_path(echo_url: str) -> None:
    reply = call("GET", f"{echo_url}/health/", key=None)
    assert (reply.status, reply.body) == (404, {"message": errors.NOT_FOUND})


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/echo", id="post"),
        pytest.param("/routes", id="routes"),
        pytest.param("/openapi.json", id="openapi"),
    ],
)
def test_route_without_key_returns_400(echo_url: str, path: str) -> None:
    method = "POST" if path == "/echo" else "GET"
    reply = call(method, f"{echo_url}{path}", json_body={"text": "x"}, key=None)
    assert (reply.status, reply.body) == (400, {"message": errors.MISSING_KEY})


@pytest.mark.parametrize("key", [pytest.param("wrong", id="wrong"), pytest.param("", id="empty")])
def test_route_with_wrong_key_returns_401(echo_url: str, key: str) -> None:
    reply = call("POST", f"{echo_url}/echo", json_body={"text": "x"}, key=key)
    assert (reply.status, reply.body) == (401, {"message": errors.INVALID_KEY})


def test_echo_with_key_and_json_returns_text(echo_url: str) -> None:
    reply = call("POST", f"{echo_url}/echo", json_body={"text": "héllo", "other": 1})
    assert (reply.status, reply.body) == (200, {"text": "héllo"})


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(None, id="none"),
        pytest.param("application/json; charset=utf-8", id="json-charset"),
        pytest.param("application/vnd.api+json", id="suffix-json"),
    ],
)
def test_body_json_content_types_are_accepted(echo_url: str, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    reply = _post_raw(echo_url, b'{"text": "x"}', headers)
    assert (reply.status, reply.body) == (200, {"text": "x"})


def test_body_with_a_number_beyond_int_digit_limit_is_still_json(echo_url: str) -> None:
    # Python's int() refuses over 4,300 digits; the number is valid JSON and never read.
    body = b'{"text": "x", "n": ' + b"9" * 5_000 + b"}"
    reply = _post_raw(echo_url, body, {"Content-Type": "application/json"})
    assert (reply.status, reply.body) == (200, {"text": "x"})


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param(b'{"text": 5}', 422, errors.TEXT_NOT_STRING, id="int"),
        pytest.param(b'{"text": 5.5}', 422, errors.TEXT_NOT_STRING, id="float"),
        pytest.param(b'{"text": 1' + b"0" * 5_000 + b"}", 422, errors.TEXT_NOT_STRING, id="huge"),
    ],
)
def test_body_number_text_is_refused_however_it_is_parsed(
    echo_url: str, body: bytes, status: int, message: str
) -> None:
    reply = _post_raw(echo_url, body, {"Content-Type": "application/json"})
    assert (reply.status, reply.body) == (status, {"message": message})


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        pytest.param(
            b'{"text": "x"}', "text/plain", 415, errors.UNSUPPORTED_MEDIA_TYPE, id="text-plain"
        ),
        pytest.param(
            b"text=x",
            "application/x-www-form-urlencoded",
            415,
            errors.UNSUPPORTED_MEDIA_TYPE,
            id="form",
        ),
        pytest.param(b"", "application/json", 400, errors.INVALID_JSON, id="empty"),
        pytest.param(b'{"text": ', "application/json", 400, errors.INVALID_JSON, id="truncated"),
        pytest.param(
            b'{"text": "\xff"}', "application/json", 400, errors.INVALID_JSON, id="bad-utf8"
        ),
        pytest.param(
            b"[" * 50_000, "application/json", 400, errors.INVALID_JSON, id="deep-nesting"
        ),
        pytest.param(
            b'{"text": "x", "n": NaN}', "application/json", 400, errors.INVALID_JSON, id="nan"
        ),
        pytest.param(b'["text"]', "application/json", 422, errors.BODY_NOT_OBJECT, id="array"),
        pytest.param(b'"text"', "application/json", 422, errors.BODY_NOT_OBJECT, id="string"),
        pytest.param(b"{}", "application/json", 422, errors.MISSING_TEXT, id="no-text"),
        pytest.param(b'{"text": null}', "application/json", 422, errors.TEXT_NOT_STRING, id="null"),
        pytest.param(
            b'{"text": ["a"]}', "application/json", 422, errors.TEXT_NOT_STRING, id="list"
        ),
    ],
)
def test_bad_body_returns_4xx_with_fixed_message(
    echo_url: str, body: bytes, content_type: str, status: int, message: str
) -> None:
    reply = _post_raw(echo_url, body, {"Content-Type": content_type})
    assert (reply.status, reply.body) == (status, {"message": message})


def test_body_lone_surrogate_is_replaced_like_go_does(echo_url: str) -> None:
    reply = _post_raw(echo_url, b'{"text": "a\\ud800b"}', {"Content-Type": "application/json"})
    assert (reply.status, reply.body) == (200, {"text": "a\ufffdb"})


def test_unknown_path_returns_404_message(echo_url: str) -> None:
    reply = call("GET", f"{echo_url}/nope")
    assert (reply.status, reply.body) == (404, {"message": errors.NOT_FOUND})


def test_wrong_method_returns_405_message(echo_url: str) -> None:
    reply = call("GET", f"{echo_url}/echo")
    assert (reply.status, reply.body) == (405, {"message": errors.METHOD_NOT_ALLOWED})


def test_unexpected_exception_returns_500_without_internals(echo_url: str) -> None:
    reply = call("GET", f"{echo_url}/boom")
    assert (reply.status, reply.text) == (500, '{"message":"internal error"}')


def test_body_at_the_cap_is_accepted(echo_url: str) -> None:
    body = _json_body_of_size(TEST_MAX_BODY_BYTES)
    reply = _post_raw(echo_url, body, {"Content-Type": "application/json"})
    assert (reply.status, len(reply.body["text"])) == (200, TEST_MAX_BODY_BYTES - 12)


def test_body_over_the_cap_by_content_length_returns_413(echo_url: str) -> None:
    body = _json_body_of_size(TEST_MAX_BODY_BYTES + 1)
    reply = _post_raw(echo_url, body, {"Content-Type": "application/json"})
    assert (reply.status, reply.body) == (413, {"message": errors.BODY_TOO_LARGE})


def test_chunked_body_over_the_cap_returns_413_while_streaming(echo_url: str) -> None:
    # No Content-Length: the cap is enforced on the bytes received so far.
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(TEST_MAX_BODY_BYTES // 1024 + 1):
            yield b"a" * 1024
        yield b'"}'

    reply = _post_raw(echo_url, chunks(), {"Content-Type": "application/json"}, chunked=True)
    assert (reply.status, reply.body) == (413, {"message": errors.BODY_TOO_LARGE})


def _json_body_of_size(size: int) -> bytes:
    body = b'{"text": "' + b"a" * (size - 12) + b'"}'
    assert len(body) == size
    return body


class _RawReply:
    def __init__(self, status: int, raw: bytes) -> None:
        self.status = status
        self.body = json.loads(raw)


def _post_raw(
    base_url: str,
    body: bytes | Iterator[bytes],
    headers: dict[str, str],
    *,
    chunked: bool = False,
) -> _RawReply:
    """POST exactly these bytes and headers (urllib would add a form Content-Type)."""
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        connection.request(
            "POST",
            "/echo",
            body=body,
            headers={API_KEY_HEADER: TEST_API_KEY, **headers},
            encode_chunked=chunked,
        )
        response = connection.getresponse()
        return _RawReply(response.status, response.read())
    finally:
        connection.close()


def test_routes_lists_every_route_in_declaration_order(echo_url: str) -> None:
    reply = call("GET", f"{echo_url}/routes")
    assert (reply.status, reply.body) == (
        200,
        [
            *COMMON_ROUTES,
            {"method": "POST", "path": "/echo", "name": "echo"},
            {"method": "GET", "path": "/boom", "name": "boom"},
        ],
    )


@pytest.mark.parametrize(
    "path", [pytest.param("/docs", id="docs"), pytest.param("/redoc", id="redoc")]
)
def test_interactive_docs_are_not_served(echo_url: str, path: str) -> None:
    reply = call("GET", f"{echo_url}{path}")
    assert (reply.status, reply.body) == (404, {"message": errors.NOT_FOUND})


def test_openapi_document_is_served_behind_the_key(echo_url: str) -> None:
    reply = call("GET", f"{echo_url}/openapi.json")
    assert reply.status == 200
    assert sorted(reply.body["paths"]) == ["/boom", "/echo", "/health", "/routes"]


def test_check_api_key_compares_the_header_bytes_as_sent() -> None:
    # A non-ASCII key matches its own UTF-8 bytes (Starlette's latin-1 decoding is undone).
    key = "clé-секрет".encode()
    check_api_key(key, key)
    with pytest.raises(ApiError) as missing:
        check_api_key(None, key)
    assert missing.value.status_code == 400
    with pytest.raises(ApiError) as wrong:
        check_api_key(key[:-1], key)
    assert wrong.value.status_code == 401
