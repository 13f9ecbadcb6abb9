"""The README.txt of a person's export, in French then English."""

from __future__ import annotations

README = """\
Vos données dans Jalon
======================

Cette archive contient tout ce que Jalon conserve à votre sujet, tel que la plateforme
(LMS) vous a identifié·e. Les fichiers JSON sont en UTF-8 ; leurs clés ne changent pas
d'une version à l'autre ; les dates sont au format ISO 8601, en temps universel (UTC).

- person.json : votre identité telle que la plateforme l'a transmise (issuer, sub, nom,
  adresse électronique, identifiant de connexion) et la date de votre premier lancement.
- courses.json : les cours depuis lesquels vous avez lancé Jalon, vos rôles dans chacun
  et la date de votre dernier lancement.
- submissions.json : vos travaux, épreuve par épreuve, avec chaque version (texte, liens,
  fichiers joints : nom, type, taille, empreinte SHA-256 et chemin dans l'archive).
- files/ : les fichiers que vous avez joints, rangés par travail et par version.
- evaluations.json : les évaluations de vos travaux (brouillons compris), critère par
  critère ; l'évaluateur n'est désigné que par son rôle (évaluateur ou jury).
- decisions.json : les décisions par compétence des évaluations publiées, avec leur
  justification et la façon dont elles ont été arrêtées (seul, accord, jury).
- as_evaluator.json : si vous avez vous-même évalué des travaux, combien, par rôle et
  par état (les personnes évaluées ne sont pas nommées : ce sont leurs données).
- progress.json : votre progression par compétence, par bloc et pour la certification.
- grades.json : les notes envoyées (ou à envoyer) au carnet de notes de la plateforme.
- certification_identity.json : votre identité civile (noms, prénoms, date et lieu de
  naissance, sexe, voie d’accès) gardée pour la déclaration de votre certification à la
  Caisse des Dépôts, et la date où elle sera supprimée ; null si Jalon n’en garde pas.
- xapi_statements.json : les déclarations xAPI émises à votre sujet pour l'entrepôt
  d'apprentissage (LRS), avec leur état d'envoi.

Your data in Jalon
==================

This archive holds everything Jalon keeps about you, as the platform (LMS) identified
you. The JSON files are UTF-8; their keys do not change from one version to the next;
dates are ISO 8601, in Coordinated Universal Time (UTC).

- person.json: your identity as the platform sent it (issuer, sub, name, e-mail address,
  login) and when you first launched Jalon.
- courses.json: the courses you launched Jalon from, your roles in each, and when you
  last launched it there.
- submissions.json: your work, épreuve by épreuve, with each version (text, links,
  attached files: name, type, size, SHA-256 digest and path in the archive).
- files/: the files you attached, by piece of work and version.
- evaluations.json: the evaluations of your work (drafts included), criterion by
  criterion; the evaluator is named only by role (evaluator or jury).
- decisions.json: the competency decisions of published evaluations, with their
  justification and how they were reached (single, agreed, jury).
- as_evaluator.json: whether you evaluated others' work yourself, how many evaluations,
  by role and state (the people evaluated are not named: that is their data).
- progress.json: your progress on each competency, each bloc and the certification.
- grades.json: the grades sent (or to be sent) to the platform's gradebook.
- certification_identity.json: your civil identity (names, first names, birth date and
  place, sex, access route) kept to declare your certification to the Caisse des Dépôts,
  and the date it will be deleted; null when Jalon keeps none.
- xapi_statements.json: the xAPI statements issued about you for the learning record
  store (LRS), with whether they were delivered.
"""
