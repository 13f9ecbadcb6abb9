"""The words of the jury's pages: how a field is named and a problem said, in French first.

The domain refuses with reason codes (:mod:`lti_tool.certification.sessions.problems`);
these functions word them in the reader's language, without the field's name, which the
page puts before the message.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from lti_tool.certification.sessions import Problem


def field_label(name: str) -> str:
    """Return how pages name a field (or a candidate: « candidate 3 »)."""
    if name.startswith("candidate "):
        return _("Candidat n° %(number)s", number=name.removeprefix("candidate "))
    labels = {
        "framework": _("Référentiel"),
        "title": _("Intitulé de la session"),
        "jury_date": _("Date du jury"),
        "place": _("Lieu"),
        "exam_start": _("Début des épreuves"),
        "exam_end": _("Fin des épreuves"),
        "exam_postal_code": _("Code postal du lieu des épreuves"),
        "exam_mode": _("Modalité de passage"),
        "full_name": _("Nom et prénom"),
        "role": _("Rôle"),
        "quality": _("Qualité"),
        "member": _("Membre du jury"),
        "members": _("Jury"),
        "course": _("Cours"),
        "learner": _("Apprenant"),
        "candidates": _("Candidats"),
        "session": _("Session"),
        "code": _("Bloc"),
        "scope": _("Objet de la décision"),
        "is_validated": _("Décision"),
        "reasons": _("Motifs"),
        "decided_by": _("Décidé par"),
        "signed_by": _("Signé par"),
        "decision": _("Décision corrigée"),
    }
    return labels.get(name, name)


def problem_text(problem: Problem) -> str:
    """Word a problem for the reader, without the field's name."""
    value = problem.value
    if problem.reason == "missing_decision":
        if value.startswith("bloc "):
            return _("aucune décision sur le bloc %(code)s.", code=value.removeprefix("bloc "))
        return _("aucune décision sur le titre.")
    texts: dict[str, Callable[[], str]] = {
        "required": lambda: _("Ce champ est obligatoire."),
        "too_long": lambda: _("Ce champ est trop long."),
        "unstorable": lambda: _("Ce champ contient un caractère de contrôle."),
        "not_postal_code": lambda: _("Un code postal compte 5 chiffres."),
        "bad_exam_mode": lambda: _("Choisissez en présentiel, à distance ou mixte."),
        "end_before_start": lambda: _("La fin des épreuves précède leur début."),
        "bad_role": lambda: _("Choisissez président, membre ou professionnel du métier."),
        "not_current": lambda: _("Ce n’est pas la version en vigueur d’un référentiel importé."),
        "unknown_framework": lambda: _("Aucun référentiel importé n’a ce code."),
        "bad_date": lambda: _("Saisissez une date (AAAA-MM-JJ)."),
        "signed": lambda: _("Le procès-verbal est signé : la session ne change plus."),
        "not_signed": lambda: _("Le procès-verbal n’est pas signé : modifiez la décision."),
        "not_in_session": lambda: _("Il n’appartient pas à cette session."),
        "not_a_learner": lambda: _("Cette personne n’est pas apprenante de ce cours."),
        "already_candidate": lambda: _("Cet apprenant est déjà candidat de la session."),
        "not_using_framework": lambda: _("Ce cours n’utilise pas le référentiel de la session."),
        "unknown_course": lambda: _("Choisissez un cours de la liste."),
        "no_learners": lambda: _("Ce cours n’a aucun apprenant à ajouter."),
        "unknown_bloc": lambda: _("Le référentiel n’a pas ce bloc."),
        "not_the_title": lambda: _("Ce n’est pas le titre de la session."),
        "bad_scope": lambda: _("Une décision porte sur un bloc ou sur le titre."),
        "bad_decision": lambda: _("Choisissez validé ou non validé."),
        "reasons_required": lambda: _("Une décision « non validé » donne ses motifs."),
        "correction_reasons": lambda: _("Une correction donne ses motifs."),
        "against_proposal": lambda: _(
            "Jalon ne trouve pas acquises : %(codes)s. Le jury est souverain, mais il motive "
            "la validation.",
            codes=value,
        ),
        "blocs_not_validated": lambda: _(
            "Le titre exige tous les blocs validés ; non validés : %(codes)s.", codes=value
        ),
        "title_validated": lambda: _(
            "Le titre est validé : corrigez d’abord la décision sur le titre."
        ),
        "superseded": lambda: _("Cette décision a déjà été corrigée : corrigez la plus récente."),
        "no_president": lambda: _("Le jury n’a pas de président."),
        "several_presidents": lambda: _("Le jury a plus d’un président."),
        "no_professional": lambda: _("Le jury ne compte aucun professionnel du métier."),
        "no_candidates": lambda: _("La session n’a aucun candidat."),
        "unknown_candidate": lambda: _("Ce candidat n’est pas dans la session."),
    }
    found = texts.get(problem.reason)
    return found() if found is not None else problem.reason
