"""Jalon's keys: thumbprint kids, /lti/jwks, rotation with a grace period, loaded once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from jwcrypto.jwk import JWK

from lti_tool.cli.lti import keys as keys_command
from lti_tool.db import Database
from lti_tool.lti import keys
from lti_tool.models import ToolKey


def test_jwks_creates_the_first_key_and_publishes_it(app: Flask, clean_database: Database) -> None:
    response = app.test_client().get("/lti/jwks")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    (jwk,) = response.get_json()["keys"]
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    assert "d" not in jwk
    assert "p" not in jwk
    # kid = RFC 7638 thumbprint, as computed by an independent implementation.
    assert jwk["kid"] == JWK(kty="RSA", n=jwk["n"], e=jwk["e"]).thumbprint()
    assert int.from_bytes(jwt.utils.base64url_decode(jwk["n"]), "big").bit_length() == 2048
    # The same key is served again: it was stored, not regenerated.
    assert app.test_client().get("/lti/jwks").get_json()["keys"] == [jwk]


def test_a_signature_verifies_with_the_published_key(app: Flask, clean_database: Database) -> None:
    published = app.test_client().get("/lti/jwks").get_json()["keys"][0]
    with clean_database.session() as session:
        key = keys.current(session)
        token = jwt.encode(
            {"iss": "jalon"}, keys.private_key(key), algorithm="RS256", headers={"kid": key.kid}
        )
    public = jwt.PyJWK(published).key
    assert jwt.decode(token, public, algorithms=["RS256"]) == {"iss": "jalon"}


def test_rotation_keeps_the_old_key_published_during_the_grace_period(
    app: Flask, clean_database: Database
) -> None:
    client = app.test_client()
    (old,) = client.get("/lti/jwks").get_json()["keys"]
    with clean_database.session() as session:
        new, retired = keys.rotate(session)
        assert [k.kid for k in retired] == [old["kid"]]
    kids = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert kids == [new.kid, old["kid"]]
    with clean_database.session() as session:
        assert keys.current(session).kid == new.kid
        # Eight days later (grace: 7 days by default), the old key is gone.
        row = session.scalar(sa.select(ToolKey).where(ToolKey.kid == old["kid"]))
        assert row is not None
        assert row.retired_at is not None
        row.retired_at -= dt.timedelta(days=8)
    kids = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert kids == [new.kid]


def test_keys_rotate_command(tmp_path: Path, database_url: str, clean_database: Database) -> None:
    runner = CliRunner(
        env={
            "JALON_DATABASE_URL": database_url,
            "JALON_INSTANCE_PATH": str(tmp_path),
            "JALON_SECRET_KEY": "",
            "JALON_KEY_GRACE_DAYS": "3",
        }
    )
    first = runner.invoke(keys_command, ["rotate"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("new current key ")
    second = runner.invoke(keys_command, ["rotate"])
    assert second.exit_code == 0, second.output
    assert "retired " in second.output
    assert "published until" in second.output
    listing = runner.invoke(keys_command, ["list"])
    lines = listing.output.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("current")
    assert "retired, published until" in lines[1]
    with clean_database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).where(ToolKey.is_current)) == 1


def test_a_private_key_is_parsed_once_per_process(clean_database: Database) -> None:
    with clean_database.session() as session:
        key = keys.current(session)
        kid, pem = key.kid, key.private_key_pem
    keys._loaded.pop(kid, None)  # as in a fresh worker process
    row = ToolKey(kid=kid, private_key_pem=pem, public_jwk={}, is_current=True)
    first = keys.private_key(row)
    row.private_key_pem = "not a PEM any more: a second parse would fail"
    assert keys.private_key(row) is first


@pytest.mark.parametrize("value", ["0", "abc", "400"])
def test_grace_setting_is_checked(value: str) -> None:
    from lti_tool.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="JALON_KEY_GRACE_DAYS"):
        Settings.from_env({"JALON_SECRET_KEY": "x" * 20, "JALON_KEY_GRACE_DAYS": value})
