"""What the demo LMS does with a deep-linking answer: place the links, make their columns.

The items are checked with the rules of LTI Deep Linking 2.0; a refusal raises
:class:`~lti_tool.demo.gradebook.ToolDataError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from lti_tool.demo.gradebook import ToolDataError, create_line_item, optional_text
from lti_tool.demo.models import Course, Placement
from lti_tool.demo.protocol import DemoTool


def place_items(
    session: Session,
    course: Course,
    items: list[dict[str, Any]],
    tool: DemoTool,
    *,
    accept_multiple: bool = False,
) -> list[Placement]:
    """Place the resource links a deep-linking response returned, with their columns."""
    if len(items) > 1 and not accept_multiple:
        raise ToolDataError("several items returned although accept_multiple is false")
    placements = []
    for item in items:
        placement = _placement(course, item, tool)
        session.add(placement)
        session.flush()
        line_item = item.get("lineItem")
        if line_item is not None:
            if not isinstance(line_item, dict):
                raise ToolDataError("lineItem must be an object")
            create_line_item(
                session,
                course,
                {**line_item, "label": line_item.get("label") or placement.title},
                placement=placement,
            )
        placements.append(placement)
    return placements


def _placement(course: Course, item: Mapping[str, Any], tool: DemoTool) -> Placement:
    url = optional_text(item, "url") or tool.launch_url
    if _origin(url) != _origin(tool.launch_url):
        raise ToolDataError("url is not on the tool's site")
    custom = item.get("custom") or {}
    if not isinstance(custom, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in custom.items()
    ):
        raise ToolDataError("custom must map names to strings")
    target = "window" if "window" in item and "iframe" not in item else "iframe"
    return Placement(
        course_id=course.id,
        title=optional_text(item, "title") or tool.name,
        text=optional_text(item, "text") or "",
        url=url,
        custom=custom,
        document_target=target,
    )


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc
