"""Bad framework files: each is refused whole, with the file, line, field and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from referentiel.loader import FrameworkError, load_file, load_yaml_text
from referentiel.model import CompetencyRule

GOOD = """\
format: jalon-referentiel/1
framework:
  code: mini
  title: Mini référentiel
  level: 5
  version: "1"
  language: fr
  publisher: Jalon
scale:
  - {code: non, label: Non atteint, label_en: Not met, is_passing: false}
  - {code: oui, label: Atteint, label_en: Met, is_passing: true}
blocs:
  - code: B1
    title: Premier bloc
    competencies:
      - code: C1
        statement: Faire une chose.
        criteria:
          - {code: C1-1, text: La chose est faite.}
          - {code: C1-2, text: La chose est bien faite.}
      - code: C2
        statement: Faire une autre chose.
        criteria:
          - {code: C2-1, text: L’autre chose est faite.}
activities:
  - code: A1
    bloc: B1
    title: Activité
    tasks: [Une tâche]
    competencies: [C1, C2]
epreuves:
  - code: E1
    title: Épreuve
    modality: etude_de_cas
    modality_label: Étude de cas
    description: Un cas.
    deliverables: [Un livrable]
    preparation_time: PT3H
    competencies: [C1, C2]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(FrameworkError) as caught:
        load_yaml_text(text, source="bad.yaml")
    return str(caught.value).splitlines()[1:]


def test_the_good_file_loads() -> None:
    framework = load_yaml_text(GOOD)
    assert framework.competency("C2").criteria[0].code == "C2-1"
    assert framework.rules.competency is CompetencyRule.ALL_CRITERIA
    assert framework.epreuve("E1").preparation_time == "PT3H"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # 1. a key nobody knows
        (
            "    title: Premier bloc\n",
            "    title: Premier bloc\n    colour: red\n",
            "bad.yaml:15: blocs[0].colour: is not a known key",
        ),
        # 2. a required field missing
        (
            "        statement: Faire une chose.\n",
            "",
            "bad.yaml:16: blocs[0].competencies[0].statement: is required",
        ),
        # 3. the same code twice
        (
            "code: C2-1,",
            "code: C1-2,",
            "bad.yaml:24: blocs[0].competencies[1].criteria[0].code: duplicate code 'C1-2'",
        ),
        # 4. an épreuve naming a competency that does not exist
        (
            "PT3H\n    competencies: [C1, C2]",
            "PT3H\n    competencies: [C1, C2, C9]",
            "bad.yaml:39: epreuves[0].competencies[2]: names an unknown competency 'C9'",
        ),
        # 5. a competency without criteria
        (
            "        criteria:\n          - {code: C2-1, text: L’autre chose est faite.}\n",
            "        criteria: []\n",
            "blocs[0].competencies[1].criteria: a competency needs at least one criterion",
        ),
        # 6. a bloc without competencies
        (
            "blocs:\n  - code: B1\n",
            "blocs:\n  - code: B0\n    title: Vide\n    competencies: []\n  - code: B1\n",
            "bad.yaml:15: blocs[0].competencies: a bloc needs at least one competency",
        ),
        # 7. a scale where nothing passes
        (
            "label_en: Met, is_passing: true",
            "label_en: Met, is_passing: false",
            "scale: needs at least one level with is_passing: true",
        ),
        # 8. a malformed duration
        (
            "preparation_time: PT3H",
            "preparation_time: 3 heures",
            "epreuves[0].preparation_time: must be an ISO 8601 duration",
        ),
        # 9. an unknown modality
        (
            "modality: etude_de_cas",
            "modality: oral",
            "epreuves[0].modality: must be one of: "
            "etude_de_cas, projet_entretien, mise_en_situation",
        ),
        # 10. an activity in a bloc that does not exist
        ("    bloc: B1\n", "    bloc: B7\n", "activities[0].bloc: names an unknown bloc 'B7'"),
        # 11. a competency no épreuve evaluates
        (
            "PT3H\n    competencies: [C1, C2]",
            "PT3H\n    competencies: [C1]",
            "blocs[0].competencies[1]: C2 is evaluated by no épreuve",
        ),
        # 12. a key written twice in one mapping
        ("  level: 5\n", "  level: 5\n  level: 6\n", "duplicate key 'level' (first on line 5)"),
        # 13. a wrong format marker
        (
            "format: jalon-referentiel/1",
            "format: jalon-referentiel/9",
            "format: must be 'jalon-referentiel/1'",
        ),
        # 14. min_criteria without its rule
        (
            "scale:\n",
            "rules:\n  min_criteria: 2\nscale:\n",
            "rules.min_criteria: is only allowed when competency is min_criteria",
        ),
        # 15. a string where a boolean is expected
        ("is_passing: false}", 'is_passing: "no"}', "scale[0].is_passing: not a valid boolean"),
        # 16. broken YAML
        ("  title: Mini référentiel\n", "  title: [Mini référentiel\n", "is not valid YAML"),
    ],
)
def test_bad_files_are_refused_with_a_located_reason(old: str, new: str, expected: str) -> None:
    assert old in GOOD, "the test's anchor must exist in the good file"
    found = problems(GOOD.replace(old, new, 1))
    assert any(expected in line for line in found), found


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace("PT3H", "3h").replace("modality: etude_de_cas", "modality: oral")
    assert len(problems(text)) == 2
    text = GOOD.replace("    bloc: B1\n", "    bloc: B7\n").replace(
        "[C1, C2]\n    preparation", "[C1]\n    preparation"
    )
    assert len(problems(text)) == 1  # C2 is not evaluated; B7 is unknown


def test_min_criteria_must_fit_every_competency() -> None:
    text = GOOD.replace(
        "scale:\n", "rules:\n  competency: min_criteria\n  min_criteria: 2\nscale:\n", 1
    )
    assert any("has 1 criteria, fewer than rules.min_criteria (2)" in p for p in problems(text))


def test_an_empty_file_is_refused() -> None:
    assert any("must be a mapping" in p for p in problems(""))


def test_an_unreadable_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(FrameworkError, match=r"absent\.yaml: 1 problem"):
        load_file(missing)


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        # Flow style: the line of the list, the index of the repeat.
        (
            "    competencies: [C1, C2, C1]\n",
            [
                "bad.yaml:39: epreuves[0].competencies[2]: "
                "lists C1 again (already epreuves[0].competencies[0])"
            ],
        ),
        # Block style: the line of the repeated item itself.
        (
            "    competencies:\n      - C1\n      - C2\n      - C2\n      - C1\n",
            [
                "bad.yaml:42: epreuves[0].competencies[2]: "
                "lists C2 again (already epreuves[0].competencies[1])",
                "bad.yaml:43: epreuves[0].competencies[3]: "
                "lists C1 again (already epreuves[0].competencies[0])",
            ],
        ),
    ],
    ids=["flow", "block"],
)
def test_item13_an_epreuve_listing_a_competency_twice_is_refused(
    listed: str, expected: list[str]
) -> None:
    anchor = "PT3H\n    competencies: [C1, C2]\n"
    assert anchor in GOOD
    text = GOOD.replace(anchor, "PT3H\n" + listed, 1)
    assert problems(text) == expected
