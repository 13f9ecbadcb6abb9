"""Upload settings: a size in megabytes and a list of extensions, never active content."""

from __future__ import annotations

import pytest

from lti_tool.config import DEFAULT_UPLOAD_TYPES, ConfigError, Settings

BASE = {"JALON_SECRET_KEY": "a-long-enough-secret-key"}


def test_defaults_allow_documents_up_to_20_mb() -> None:
    settings = Settings.from_env(BASE)
    assert settings.upload_max_bytes == 20 * 1024 * 1024
    assert settings.upload_types == DEFAULT_UPLOAD_TYPES
    assert {"pdf", "docx", "png"} <= settings.upload_types
    assert not {"html", "svg", "js"} & settings.upload_types


def test_size_and_types_are_configurable() -> None:
    settings = Settings.from_env(
        {**BASE, "JALON_UPLOAD_MAX_MB": "5", "JALON_UPLOAD_TYPES": " PDF, .odt ,png"}
    )
    assert settings.upload_max_bytes == 5 * 1024 * 1024
    assert settings.upload_types == {"pdf", "odt", "png"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"JALON_UPLOAD_MAX_MB": "0"}, "JALON_UPLOAD_MAX_MB must be a whole number"),
        ({"JALON_UPLOAD_MAX_MB": "1.5"}, "JALON_UPLOAD_MAX_MB must be a whole number"),
        ({"JALON_UPLOAD_MAX_MB": "4096"}, "JALON_UPLOAD_MAX_MB must be a whole number"),
        ({"JALON_UPLOAD_TYPES": "pdf,html"}, "must not allow types a browser runs: html"),
        ({"JALON_UPLOAD_TYPES": "svg,js,pdf"}, "must not allow types a browser runs: js, svg"),
        ({"JALON_UPLOAD_TYPES": "pdf,tar.gz"}, "JALON_UPLOAD_TYPES must list extensions"),
        ({"JALON_UPLOAD_TYPES": ", ,"}, "JALON_UPLOAD_TYPES must list extensions"),
    ],
)
def test_a_wrong_value_names_the_variable(changes: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**BASE, **changes})


def test_item6_the_quota_per_learner_and_placement_defaults_to_100_mb() -> None:
    assert Settings.from_env(BASE).upload_quota_bytes == 100 * 1024 * 1024
    assert Settings.from_env({**BASE, "JALON_UPLOAD_QUOTA_MB": "250"}).upload_quota_bytes == (
        250 * 1024 * 1024
    )
    # A largest file above 100 MB raises the default quota with it: one such file fits.
    larger = Settings.from_env({**BASE, "JALON_UPLOAD_MAX_MB": "500"})
    assert larger.upload_quota_bytes == larger.upload_max_bytes


@pytest.mark.parametrize(
    "changes",
    [
        {"JALON_UPLOAD_QUOTA_MB": "10"},  # below the 20 MB a single file may weigh
        {"JALON_UPLOAD_QUOTA_MB": "100", "JALON_UPLOAD_MAX_MB": "200"},
        {"JALON_UPLOAD_QUOTA_MB": "0"},
        {"JALON_UPLOAD_QUOTA_MB": "1.5"},
        {"JALON_UPLOAD_QUOTA_MB": "100MB"},
        {"JALON_UPLOAD_QUOTA_MB": "102401"},
    ],
)
def test_item6_a_wrong_quota_names_the_variable(changes: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"JALON_UPLOAD_QUOTA_MB must be a whole number"):
        Settings.from_env({**BASE, **changes})
