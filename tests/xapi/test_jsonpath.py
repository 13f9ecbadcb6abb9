"""The JSONPath subset of xAPI Profiles, checked by hand and against python-jsonpath."""

from __future__ import annotations

import importlib
import json
import os
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xapi.profile.jsonpath import JsonPathError, compile_path, find

STATEMENT = {
    "verb": {"id": "http://adlnet.gov/expapi/verbs/scored"},
    "context": {
        "extensions": {"https://jalon.test/xapi/profile/extensions/lti-context-id": "42"},
        "contextActivities": {
            "grouping": [{"id": "https://a.test/1"}, {"id": "https://a.test/2", "x": {"id": 3}}],
        },
    },
    "result": {"success": False, "score": {"scaled": 0}},
    "it's": {'say "hi"': 1},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.verb.id", ["http://adlnet.gov/expapi/verbs/scored"]),
        ("$['verb']['id']", ["http://adlnet.gov/expapi/verbs/scored"]),
        (
            "$.context.extensions['https://jalon.test/xapi/profile/extensions/lti-context-id']",
            ["42"],
        ),
        (
            '$.context.extensions["https://jalon.test/xapi/profile/extensions/lti-context-id"]',
            ["42"],
        ),
        ("$.context.contextActivities.grouping[*].id", ["https://a.test/1", "https://a.test/2"]),
        ("context.contextActivities.grouping[*].id", ["https://a.test/1", "https://a.test/2"]),
        ("$.context.contextActivities.grouping[1,0].id", ["https://a.test/2", "https://a.test/1"]),
        ("$.context.contextActivities.grouping[5].id", []),
        ("$.context.contextActivities.grouping.id", []),
        ("$.result.success", [False]),
        ("$.result.score.scaled", [0]),
        ("$.result.completion", []),
        ("$.result.*", [False, {"scaled": 0}]),
        ("$.verb.id | $.result.success", ["http://adlnet.gov/expapi/verbs/scored", False]),
        ("$.result.success|$.result.missing|$.result.success", [False, False]),
        ("$[ 'result' , 'verb' ].id", ["http://adlnet.gov/expapi/verbs/scored"]),
        ("$['it\\'s']['say \"hi\"']", [1]),
        ("$['\\u0069t\\u0027s'].*", [1]),
        ("$", [STATEMENT]),
    ],
)
def test_paths_select_what_the_spec_says(path: str, expected: list[Any]) -> None:
    assert find(path, STATEMENT) == expected


def test_a_selected_array_is_one_value() -> None:
    # "If a single value is found ... it is returned in an array (even if ... already an array)."
    assert find("$.context.contextActivities.grouping", STATEMENT) == [
        STATEMENT["context"]["contextActivities"]["grouping"]  # type: ignore[index]
    ]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("$.a[?(@.b == 1)]", "filter"),
        ("$.a[(@.length-1)]", "filter"),
        ("$..id", "recursive descent"),
        ("$.a[-1]", "non-negative index"),
        ("$.a[1:2]", "slices"),
        ("$.a[01]", "non-negative index"),
        ("$.a['unterminated]", "unterminated"),
        ("$.a['\\x41']", "unknown escape"),
        ("$.a['\\ud800']", "low surrogate"),
        ("$.a.", "member name"),
        ("$.a b", "unexpected character"),
        ("$.a |", "a path is expected"),
        ("", "a path is expected"),
        ("$.a[]", "non-negative index"),
    ],
)
def test_paths_outside_the_subset_are_refused(path: str, reason: str) -> None:
    with pytest.raises(JsonPathError, match=reason):
        compile_path(path)


@pytest.fixture(scope="module")
def reference() -> ModuleType:
    """The python-jsonpath package, an RFC 9535 implementation, as the oracle."""
    try:
        return importlib.import_module("jsonpath")
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("python-jsonpath is missing: pip install -e '.[test]'")
        pytest.skip("python-jsonpath is not installed: pip install -e '.[test]'")


_NAMES = st.sampled_from(
    ["id", "definition", "type", "a", "é", "k2", "https://x.test/e", "it's", 'q"', "a b", "\n"]
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_NAMES, children, max_size=4),
    max_leaves=20,
)
# The oracle reads a top-level string as JSON text, so documents are objects or arrays, as a
# statement is.
_documents = st.dictionaries(_NAMES, _json, max_size=4) | st.lists(_json, max_size=4)


def _quoted(name: str, single: bool) -> str:
    if single:
        escaped = json.dumps(name, ensure_ascii=False)[1:-1].replace('\\"', '"').replace("'", "\\'")
        return f"'{escaped}'"
    return json.dumps(name)


@st.composite
def _paths(draw: st.DrawFn) -> str:
    segments = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["dot", "star", "brackets"]))
        if kind == "dot":
            name = draw(_NAMES)
            segments.append(f".{name}" if name.isidentifier() else f"[{_quoted(name, True)}]")
        elif kind == "star":
            segments.append(".*")
        else:
            selectors = draw(
                st.lists(
                    st.one_of(
                        st.builds(_quoted, _NAMES, st.booleans()),
                        st.integers(0, 4).map(str),
                        st.just("*"),
                    ),
                    min_size=1,
                    max_size=3,
                )
            )
            segments.append("[" + ", ".join(selectors) + "]")
    return "$" + "".join(segments)


@settings(max_examples=300, deadline=None)
@given(document=_documents, path=_paths())
def test_same_values_as_an_rfc_9535_implementation(
    reference: ModuleType, document: Any, path: str
) -> None:
    strict = reference.JSONPathEnvironment(strict=True)
    assert find(path, document) == strict.findall(path, document)


@settings(max_examples=100, deadline=None)
@given(document=_documents, paths=st.lists(_paths(), min_size=2, max_size=3))
def test_pipe_unions_as_python_jsonpath_does(
    reference: ModuleType, document: Any, paths: list[str]
) -> None:
    path = " | ".join(paths)
    assert find(path, document) == reference.findall(path, document)
