"""Retention settings: whole days, named when wrong."""

from __future__ import annotations

import pytest

from lti_tool.config import ConfigError, Settings

BASE = {"JALON_SECRET_KEY": "a-long-enough-secret-key"}


def test_defaults_keep_delivered_rows_a_month_and_drafts_half_a_year() -> None:
    settings = Settings.from_env(BASE)
    assert (settings.retention_outbox_days, settings.retention_draft_days) == (30, 180)


def test_retentions_are_configurable() -> None:
    settings = Settings.from_env(
        {**BASE, "JALON_RETENTION_OUTBOX_DAYS": " 7 ", "JALON_RETENTION_DRAFT_DAYS": "365"}
    )
    assert (settings.retention_outbox_days, settings.retention_draft_days) == (7, 365)


@pytest.mark.parametrize("name", ["JALON_RETENTION_OUTBOX_DAYS", "JALON_RETENTION_DRAFT_DAYS"])
@pytest.mark.parametrize("value", ["0", "-1", "1.5", "3651", "a month", ""])
def test_a_wrong_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**BASE, name: value})
    assert str(raised.value) == f"{name} must be a whole number of days from 1 to 3650"
