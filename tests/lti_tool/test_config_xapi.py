"""The LRS settings: validated at start-up, named in errors, the password never shown."""

from __future__ import annotations

import pytest

from lti_tool.config import ConfigError, LrsSettings, Settings

BASE = {"JALON_SECRET_KEY": "a-long-enough-secret-key"}
PUBLIC = {"JALON_BASE_URL": "https://jalon.example.edu"}
PASSWORD = "p4ss-w0rd-of-the-lrs"  # noqa: S105 (a test value)
LRS = {
    "JALON_LRS_ENDPOINT": "https://lrs.example.org/xAPI/",
    "JALON_LRS_USERNAME": "jalon",
    "JALON_LRS_PASSWORD": PASSWORD,
}


def test_no_lrs_by_default_and_batches_of_500() -> None:
    settings = Settings.from_env(BASE)
    assert settings.lrs is None
    assert settings.xapi_batch_size == 500


def test_a_configured_lrs() -> None:
    settings = Settings.from_env({**BASE, **LRS, "JALON_XAPI_BATCH_SIZE": "200"})
    assert settings.lrs == LrsSettings("https://lrs.example.org/xAPI/", "jalon", PASSWORD)
    assert settings.xapi_batch_size == 200


def test_the_password_is_not_in_the_settings_repr() -> None:
    settings = Settings.from_env({**BASE, **LRS})
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in repr(settings.lrs)
    assert "password" not in repr(settings.lrs)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"JALON_LRS_ENDPOINT": "lrs.example.org/xAPI"}, "JALON_LRS_ENDPOINT must be the LRS's"),
        ({"JALON_LRS_ENDPOINT": "ftp://lrs.example.org/"}, "JALON_LRS_ENDPOINT must be the LRS's"),
        ({"JALON_LRS_ENDPOINT": "http://[::1/xAPI"}, "JALON_LRS_ENDPOINT must be the LRS's"),
        (
            {"JALON_LRS_ENDPOINT": f"https://jalon:{PASSWORD}@lrs.example.org/xAPI/"},
            "JALON_LRS_ENDPOINT must not hold credentials",
        ),
        ({"JALON_LRS_ENDPOINT": "https://lrs.example.org/xAPI/?x=1"}, "query or a fragment"),
        (
            {"JALON_LRS_ENDPOINT": "http://lrs.example.org/xAPI/"},
            "JALON_LRS_ENDPOINT must use https",
        ),
        ({"JALON_LRS_USERNAME": ""}, "JALON_LRS_USERNAME is required"),
        ({"JALON_LRS_USERNAME": "a:b"}, "JALON_LRS_USERNAME is required"),
        ({"JALON_LRS_PASSWORD": ""}, "JALON_LRS_PASSWORD is required"),
        ({"JALON_LRS_ENDPOINT": ""}, "JALON_LRS_PASSWORD need JALON_LRS_ENDPOINT"),
        ({"JALON_XAPI_BATCH_SIZE": "0"}, "JALON_XAPI_BATCH_SIZE must be a whole number"),
        ({"JALON_XAPI_BATCH_SIZE": "5001"}, "JALON_XAPI_BATCH_SIZE must be a whole number"),
        ({"JALON_XAPI_BATCH_SIZE": "many"}, "JALON_XAPI_BATCH_SIZE must be a whole number"),
    ],
)
def test_wrong_lrs_settings_stop_the_start_naming_the_variable(
    changes: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("?", r"\?")) as caught:
        Settings.from_env({**BASE, **PUBLIC, **LRS, **changes})
    assert PASSWORD not in str(caught.value)


def test_item1_plain_http_to_the_lrs_only_for_a_jalon_on_loopback() -> None:
    """The outbound policy would refuse every batch: the start says so at once."""
    http = {**LRS, "JALON_LRS_ENDPOINT": "http://127.0.0.1:8080/xAPI/"}
    demo = Settings.from_env({**BASE, **http, "JALON_BASE_URL": "http://127.0.0.1:8000"})
    assert demo.lrs is not None
    with pytest.raises(ConfigError, match="JALON_LRS_ENDPOINT must use https"):
        Settings.from_env({**BASE, **PUBLIC, **http})
