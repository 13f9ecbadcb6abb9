"""Where the demo gets the tool's keys: over HTTP with a cache, or in process."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify

from lti_tool.demo.database import demo_session
from lti_tool.demo.keys import HttpKeySets, InProcessKeySets, KeySetError
from tests.lti_tool.demo.harness import JALON, WsgiTransport

KEYS = {"keys": [{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}]}


def _key_server(document: Any, status: int = 200) -> Flask:
    app = Flask("key-server")
    app.config["served"] = 0

    @app.get("/jwks")
    def jwks() -> Any:
        app.config["served"] += 1
        return jsonify(document), status

    return app


def _fetcher(app: Flask, **kwargs: Any) -> HttpKeySets:
    transport = WsgiTransport({"tool.test": app})
    return HttpKeySets(transport.session(), **kwargs)


def test_http_key_sets_are_cached_and_refreshed_at_most_every_few_seconds() -> None:
    server = _key_server(KEYS)
    key_sets = _fetcher(server, min_refetch_interval=3600)
    assert key_sets.get("https://tool.test/jwks") == KEYS
    assert key_sets.get("https://tool.test/jwks") == KEYS
    assert key_sets.get("https://tool.test/jwks", refresh=True) == KEYS
    assert server.config["served"] == 1
    eager = _fetcher(server, min_refetch_interval=0)
    eager.get("https://tool.test/jwks")
    eager.get("https://tool.test/jwks", refresh=True)
    assert server.config["served"] == 3
    key_sets.session.close()
    eager.session.close()


@pytest.mark.parametrize(("document", "status"), [({"no": "keys"}, 200), (KEYS, 500)])
def test_a_bad_key_set_answer_is_an_error(document: Any, status: int) -> None:
    key_sets = _fetcher(_key_server(document, status))
    with pytest.raises(KeySetError):
        key_sets.get("https://tool.test/jwks")
    key_sets.session.close()


def test_an_in_process_call_leaves_the_requests_session_alone(lms: Flask) -> None:
    with lms.test_request_context("/demo/", base_url=JALON):
        lms.preprocess_request()
        session = demo_session()
        document = InProcessKeySets().get(f"{JALON}/demo/jwks")
        # The nested request ran in its own app context: ours keeps its session and locale.
        assert demo_session() is session
        assert session.is_active
        assert document["keys"][0]["kid"] == lms.extensions["jalon.demo"].keys.current.kid
        assert InProcessKeySets(lms).fetch(f"{JALON}/demo/jwks") == document


def test_an_in_process_call_to_a_missing_page_is_an_error(lms: Flask) -> None:
    with lms.app_context(), pytest.raises(KeySetError, match="404"):
        InProcessKeySets().get(f"{JALON}/nulle-part/jwks")
