"""Fixtures of the picker tests: Moodle/Canvas-shaped platforms (tests/lti_tool/lti) and the
demo LMS beside Jalon (tests/lti_tool/demo)."""

from __future__ import annotations

from tests.lti_tool.demo.conftest import jalon_demo, keys, platform_key
from tests.lti_tool.lti.conftest import browser, canvas, key_server, moodle, registered

__all__ = [
    "browser",
    "canvas",
    "jalon_demo",
    "key_server",
    "keys",
    "moodle",
    "platform_key",
    "registered",
]
