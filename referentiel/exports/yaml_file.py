"""Write a framework back as a ``jalon-referentiel/1`` YAML file a person can read."""

from __future__ import annotations

from typing import Any

import yaml

from referentiel.model import Framework
from referentiel.schemas import FrameworkSchema

_FOLD_AT = 70


class _Dumper(yaml.SafeDumper):
    """Indent lists under their key and fold long texts, as a person writes the file."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = ">" if len(value) > _FOLD_AT and "\n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    # Short code lists read best on one line: competencies: [C1.1, C1.2].
    flow = bool(value) and all(isinstance(v, str) and len(v) < 12 for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def to_document(framework: Framework) -> dict[str, Any]:
    """Return the file's mapping for a framework."""
    document: dict[str, Any] = FrameworkSchema().dump(framework)
    return document


def dump_yaml(framework: Framework) -> str:
    """Return the framework as YAML text that loads back to an equal framework."""
    return yaml.dump(
        to_document(framework), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100
    )
