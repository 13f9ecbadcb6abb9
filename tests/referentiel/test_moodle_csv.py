from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path

import pytest

import referentiel
from referentiel.exports.moodle_csv import dump_moodle_csv, shorten
from referentiel.identifiers import item_id
from referentiel.loader import load_file, load_yaml_text
from referentiel.model import Framework

SHIPPED = Path(referentiel.__file__).parent / "data" / "community-manager-n6.yaml"
# The strings of Moodle's lang/en/tool_lpimportcsv.php, in framework_importer's column order.
HEADER_LINE = (
    "Parent ID number,ID number,Short name,Description,Description format,Scale values,"
    "Scale configuration,Rule type (optional),Rule outcome (optional),Rule config (optional),"
    "Cross-referenced competency ID numbers,Exported ID (optional),Is framework,Taxonomy"
)
COLUMNS = HEADER_LINE.split(",")

SMALL = """\
format: jalon-referentiel/1
framework:
  code: petit
  title: Petit référentiel
  version: '1'
  language: fr
  publisher: Jalon
  description: Un référentiel <court> & "simple".
scale:
  - {code: insuffisant, label: Insuffisant, label_en: Insufficient, is_passing: false}
  - {code: partiel, label: Partiel, label_en: Partial, is_passing: false}
  - {code: atteint, label: Atteint, label_en: Met, is_passing: true}
  - {code: depasse, label: Dépassé, label_en: Exceeded, is_passing: true}
blocs:
  - code: B1
    title: Écrire <vite> & bien
    competencies:
      - code: C1.1
        statement: Rédiger un texte
        criteria:
          - {code: C1.1-1, text: "Le texte compte < 300 mots & reste <b>lisible</b>."}
          - {code: C1.1-2, text: L'orthographe est juste.}
      - code: C1.2
        statement: Rédiger un autre texte
        criteria:
          - {code: C1.2-1, text: Le texte est rendu.}
"""


@pytest.fixture(scope="module")
def shipped() -> Framework:
    return load_file(SHIPPED)


@pytest.fixture(scope="module")
def text(shipped: Framework) -> str:
    return dump_moodle_csv(shipped)


def rows_of(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    rows = list(reader)
    assert all(len(row) == len(header) for row in rows)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_header_is_moodles(text: str) -> None:
    assert text.split("\r\n", 1)[0] == HEADER_LINE


def test_lines_end_with_crlf(text: str) -> None:
    assert text.endswith("\r\n")
    assert text.count("\n") == text.count("\r\n") == 1 + 1 + 4 + 44


def test_one_row_for_the_framework_each_bloc_and_each_competency(text: str) -> None:
    rows = rows_of(text)
    assert len(rows) == 1 + 4 + 44
    assert [row["Is framework"] for row in rows] == ["1"] + [""] * 48
    assert list(rows[0]) == COLUMNS


def test_the_framework_row_carries_the_scale(text: str) -> None:
    framework = rows_of(text)[0]
    assert framework["Parent ID number"] == ""
    assert framework["ID number"] == "community-manager-n6"
    assert framework["Short name"] == "Community Manager — Niveau 6"
    assert framework["Description"].startswith("<p>Référentiel d\u2019activités")
    assert framework["Description format"] == "1"
    assert framework["Scale values"] == "Non atteint,Atteint"
    assert json.loads(framework["Scale configuration"]) == [
        {"scaleid": "0"},
        {"id": 1, "scaledefault": 1, "proficient": 0},
        {"id": 2, "scaledefault": 0, "proficient": 1},
    ]
    assert framework["Taxonomy"] == "domain,competency"


def test_competencies_follow_their_bloc(text: str, shipped: Framework) -> None:
    rows = rows_of(text)[1:]
    expected = [
        (parent, code)
        for bloc in shipped.blocs
        for parent, code in [("", bloc.code), *((bloc.code, c.code) for c in bloc.competencies)]
    ]
    assert [(row["Parent ID number"], row["ID number"]) for row in rows] == expected


def test_blocs_are_complete_when_all_their_competencies_are(text: str) -> None:
    blocs = [row for row in rows_of(text) if row["ID number"].startswith("B")]
    assert len(blocs) == 4
    for row in blocs:
        assert row["Rule type (optional)"] == "core_competency\\competency_rule_all"
        assert row["Rule outcome (optional)"] == "2"
        assert row["Rule config (optional)"] == "null"


def test_only_blocs_carry_a_rule_and_only_the_framework_a_scale(text: str) -> None:
    for row in rows_of(text)[1:]:
        assert row["Scale values"] == row["Scale configuration"] == row["Taxonomy"] == ""
        if row["Parent ID number"]:
            assert row["Rule type (optional)"] == ""
            assert row["Rule outcome (optional)"] == "0"


def test_exported_ids_are_the_items_uuids(text: str) -> None:
    rows = {row["ID number"]: row for row in rows_of(text)}
    code = "community-manager-n6"
    assert rows["B3"]["Exported ID (optional)"] == str(item_id(code, "bloc", "B3"))
    assert rows["C3.4"]["Exported ID (optional)"] == str(item_id(code, "competency", "C3.4"))


def test_short_names_fit_moodles_100_characters(text: str, shipped: Framework) -> None:
    rows = {row["ID number"]: row for row in rows_of(text)}
    shortened = 0
    for competency in shipped.competencies():
        full = f"{competency.code} — {competency.statement}"
        short = rows[competency.code]["Short name"]
        assert len(short) <= 100
        if short != full:
            shortened += 1
            assert short.endswith("…")
            assert full.startswith(short[:-1])
            assert not full[len(short) - 1].isalnum(), "cut inside a word"
    assert shortened > 30
    assert rows["B2"]["Short name"].startswith("B2 — ")


def test_descriptions_list_every_criterion_escaped(text: str, shipped: Framework) -> None:
    rows = {row["ID number"]: row for row in rows_of(text)}
    for competency in shipped.competencies():
        description = rows[competency.code]["Description"]
        assert description.startswith(f"<p>{html.escape(competency.statement, quote=False)}</p>")
        assert "<p>Critères d'évaluation :</p><ul>" in description
        items = [f"<li>{html.escape(k.text, quote=False)}</li>" for k in competency.criteria]
        assert description.endswith("".join(items) + "</ul>")


def test_markup_in_texts_is_escaped() -> None:
    rows = {row["ID number"]: row for row in rows_of(dump_moodle_csv(load_yaml_text(SMALL)))}
    assert rows["petit"]["Description"] == (
        '<p>Un référentiel &lt;court&gt; &amp; "simple".</p>'
    )
    assert rows["B1"]["Description"] == "<p>Écrire &lt;vite&gt; &amp; bien</p>"
    assert "<li>Le texte compte &lt; 300 mots &amp; reste &lt;b&gt;lisible&lt;/b&gt;.</li>" in (
        rows["C1.1"]["Description"]
    )
    assert "<b>" not in rows["C1.1"]["Description"]


def test_a_longer_scale_keeps_its_order_and_passing_levels() -> None:
    [framework] = rows_of(dump_moodle_csv(load_yaml_text(SMALL)))[:1]
    assert framework["Scale values"] == "Insuffisant,Partiel,Atteint,Dépassé"
    config = json.loads(framework["Scale configuration"])
    assert [(c["id"], c["scaledefault"], c["proficient"]) for c in config[1:]] == [
        (1, 1, 0), (2, 0, 0), (3, 0, 1), (4, 0, 1)
    ]


def test_a_comma_in_a_scale_label_is_refused() -> None:
    framework = load_yaml_text(SMALL.replace("label: Partiel,", 'label: "Partiel, presque",'))
    with pytest.raises(ValueError, match="partiel"):
        dump_moodle_csv(framework)


def test_a_base_url_links_each_row_to_jalon(shipped: Framework) -> None:
    rows = {row["ID number"]: row for row in rows_of(dump_moodle_csv(shipped, "https://j.example"))}
    root = "https://j.example/referentiels/community-manager-n6/"
    assert rows["community-manager-n6"]["Description"].endswith(
        f'<p><a href="{root}">{root}</a></p>'
    )
    assert f'<a href="{root}blocs/B1">' in rows["B1"]["Description"]
    assert f'<a href="{root}competences/C4.2">' in rows["C4.2"]["Description"]
    assert "href" not in rows_of(dump_moodle_csv(shipped))[1]["Description"]


def test_the_output_is_deterministic(text: str) -> None:
    assert dump_moodle_csv(load_file(SHIPPED)) == text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Court", "Court"),
        ("x" * 100, "x" * 100),
        ("mot " * 30, "mot " * 24 + "mot…"),
        ("a, " + "b" * 120, "a…"),
        ("y" * 150, "y" * 99 + "…"),
        ("deux  espaces\net une ligne", "deux espaces et une ligne"),
    ],
)
def test_shorten(source: str, expected: str) -> None:
    assert shorten(source) == expected
    assert len(shorten(source)) <= 100
