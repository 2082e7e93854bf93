"""rake-app over HTTP."""

from __future__ import annotations

from tests.services.helpers import COMMON_ROUTES, call
from tests.services.test_rake import SEED_KEYWORDS, SEED_TEXT


def test_keywords_seed_text_returns_seed_candidates_as_json(rake_url: str) -> None:
    reply = call("POST", f"{rake_url}/keywords", json_body={"text": SEED_TEXT})
    expected = [{"candidate": phrase, "score": score} for phrase, score in SEED_KEYWORDS]
    assert (reply.status, reply.body) == (200, expected)


def test_keywords_integral_score_is_printed_without_decimal_point(rake_url: str) -> None:
    reply = call("POST", f"{rake_url}/keywords", json_body={"text": "global system"})
    assert (reply.status, reply.text) == (200, '[{"candidate":"global system","score":4}]')


def test_keywords_fractional_score_keeps_full_precision(rake_url: str) -> None:
    reply = call("POST", f"{rake_url}/keywords", json_body={"text": "deep learning. learning"})
    assert (reply.status, reply.body) == (
        200,
        [{"candidate": "deep learning", "score": 3.5}, {"candidate": "learning", "score": 1.5}],
    )


def test_keywords_empty_text_returns_empty_list_not_null(rake_url: str) -> None:
    reply = call("POST", f"{rake_url}/keywords", json_body={"text": ""})
    assert (reply.status, reply.body) == (200, [])


def test_routes_lists_health_routes_and_keywords_in_order(rake_url: str) -> None:
    reply = call("GET", f"{rake_url}/routes")
    assert (reply.status, reply.body) == (
        200,
        [
            *COMMON_ROUTES,
            {"method": "POST", "path": "/keywords", "name": "keywords"},
        ],
    )


def test_openapi_with_key_documents_keywords_route(rake_url: str) -> None:
    reply = call("GET", f"{rake_url}/openapi.json")
    assert reply.status == 200
    assert reply.body["openapi"].startswith("3.")
    assert sorted(reply.body["paths"]) == ["/health", "/keywords", "/routes"]
