"""Placeholder."""

from lti_tool.config import Settings


def build_register(settings: Settings, language: str) -> str:
    """Return the register."""
    return ""
