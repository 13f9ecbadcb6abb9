"""Every whole-number setting: a wrong value stops start-up with the variable's name."""

from __future__ import annotations

import pytest

from lti_tool.config import ConfigError, Settings

BASE = {"JALON_SECRET_KEY": "a-long-enough-secret-key"}
NUMBERS = [
    "JALON_KEY_GRACE_DAYS",
    "JALON_REGISTRATION_CACHE_SECONDS",
    "JALON_SESSION_MAX_HOURS",
    "JALON_ADMIN_SESSION_HOURS",
    "JALON_XAPI_BATCH_SIZE",
    "JALON_UPLOAD_MAX_MB",
    "JALON_UPLOAD_QUOTA_MB",
    "JALON_RETENTION_OUTBOX_DAYS",
    "JALON_RETENTION_DRAFT_DAYS",
]


@pytest.mark.parametrize("name", NUMBERS)
# Digits beyond ASCII (superscript two, which int() refuses; Arabic-Indic seven, which it
# reads as 7),
# a sign, a fraction, a word, nothing, and a number far out of range.
@pytest.mark.parametrize("value", ["²", "\u0667", "+7", "7.5", "seven", "", "99999999"])
def test_a_value_that_is_not_a_whole_number_in_range_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**BASE, name: value})
    assert str(raised.value).startswith(f"{name} must be a whole number")


@pytest.mark.parametrize("name", NUMBERS)
def test_spaces_around_a_number_are_ignored(name: str) -> None:
    # 21 is in range for every one of them, and no default.
    assert Settings.from_env({**BASE, name: " 21 "}) == Settings.from_env({**BASE, name: "21"})
    assert Settings.from_env({**BASE, name: "21"}) != Settings.from_env(BASE)
