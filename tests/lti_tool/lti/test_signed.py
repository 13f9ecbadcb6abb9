"""Token signing without zlib for small payloads: same tokens read, large ones still shrink."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

from lti_tool.lti.signed import COMPRESS_FROM, TokenSerializer

SECRET = "a-secret-of-the-tests-0123456789abcdef"  # noqa: S105 (a test secret)


def test_small_payloads_are_not_compressed_and_read_back() -> None:
    serializer = TokenSerializer(SECRET, salt="s")
    payload = ["launch-id-0123", 1765000000]
    token = serializer.dumps(payload)
    assert not token.startswith(".")
    assert serializer.loads(token) == payload


def test_large_payloads_are_still_compressed() -> None:
    serializer = TokenSerializer(SECRET, salt="s")
    payload = {"login_hint": "x" * COMPRESS_FROM}
    token = serializer.dumps(payload)
    assert token.startswith(".")
    assert serializer.loads(token) == payload


def test_tokens_of_either_serializer_read_with_the_other() -> None:
    # Tokens signed before the change (zlib tried on each) are still valid, and back.
    old = URLSafeTimedSerializer(SECRET, salt="s")
    new = TokenSerializer(SECRET, salt="s")
    for payload in (["a" * 40, "a" * 40], {"k": "v" * 600}, ["launch", 1]):
        assert new.loads(old.dumps(payload)) == payload
        assert old.loads(new.dumps(payload)) == payload


def test_another_salt_or_secret_is_refused() -> None:
    token = TokenSerializer(SECRET, salt="s").dumps(["launch", 1])
    for other in (TokenSerializer(SECRET, salt="t"), TokenSerializer(SECRET + "x", salt="s")):
        try:
            other.loads(token)
        except BadSignature:
            continue
        raise AssertionError("a token signed with another key was read")


def test_an_older_secret_still_reads_and_the_newest_signs() -> None:
    # itsdangerous' key rotation: a list of secrets, the last one signs.
    old = TokenSerializer(SECRET, salt="s").dumps(["launch", 1])
    rotated = TokenSerializer([SECRET, SECRET + "-new"], salt="s")
    assert rotated.loads(old) == ["launch", 1]
    assert TokenSerializer(SECRET + "-new", salt="s").loads(rotated.dumps(["x", 2])) == ["x", 2]
    # A salt given at the call is honoured, not the one the signer was built for.
    assert rotated.loads(rotated.dumps(["y", 3], salt="u"), salt="u") == ["y", 3]
