"""A signed jury session as the jury and credential pieces leave it, written with the ORM.

Community Manager n6 (a version whose file gives RNCP numbers), three candidates:
1. Camille Exemple: the title and all four blocs validated, credentials for the title and B2;
2. Dominique Durand: B2 validated; B1 refused; B3 validated then corrected to refused;
3. Alex Martin: nothing validated (and no identity recorded).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from lti_tool.certification.models import (
    Candidate,
    CertificationSession,
    DecisionScope,
    HolderIdentity,
    IssuedCredential,
    JuryDecision,
    SessionStatus,
    StatusList,
)
from lti_tool.db import Database
from lti_tool.frameworks import bundled_frameworks, import_framework
from lti_tool.models import LtiUser
from referentiel.model import Framework

REPO = Path(__file__).resolve().parents[3]
SPEC_XSD = REPO.parent / "shared" / "specs" / "cdc-cpf-accrochage-1.1.2.xsd"
FRAMEWORK = "community-manager-n6"
RNCP = "RNCP99999"
RNCP_VERSION = "1.0-rncp"
JURY_DAY = dt.date(2026, 11, 30)
ISSUER = "https://moodle.example.edu"
CAMILLE_PROOF_ID = "3f1f3b9e-8c1d-4c59-9a57-0d6c2f4ad001"
B2_PROOF_ID = "3f1f3b9e-8c1d-4c59-9a57-0d6c2f4ad002"
DECIDED = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Scenario:
    session_id: int
    camille: int  # learner ids
    dominique: int
    alex: int


def with_rncp(framework: Framework) -> Framework:
    """Return the shipped framework as a certifier completes it: its RNCP numbers added."""
    identity = replace(framework.identity, rncp=RNCP, version=RNCP_VERSION)
    blocs = tuple(
        replace(bloc, rncp=f"{RNCP}BC{n:02d}") for n, bloc in enumerate(framework.blocs, 1)
    )
    return replace(framework, identity=identity, blocs=blocs)


def camille_identity(learner_id: int) -> HolderIdentity:
    return HolderIdentity(
        learner_id=learner_id,
        birth_name="Exemple",
        first_name_1="Camille",
        first_name_2="Marie",
        birth_year=1990,
        birth_month=5,
        birth_day=14,
        sex="F",
        birth_insee_code="75056",
        birth_city="Paris",
        access_route="FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
        registration_initiative="CERTIFIE",
        registration_date=dt.date(2025, 9, 1),
        source="csv",
    )


def dominique_identity(learner_id: int) -> HolderIdentity:
    return HolderIdentity(
        learner_id=learner_id,
        birth_name="Durand",
        usage_name="Lefèvre",
        first_name_1="Dominique",
        birth_year=1985,
        sex="M",
        birth_postal_code="69003",
        access_route="VAE",
        vae_route="VAE_CLASSIQUE",
        source="form",
    )


def _decision(scope: str, code: str, validated: bool, minutes: int = 0) -> JuryDecision:
    return JuryDecision(
        scope=scope,
        code=code,
        is_validated=validated,
        reasons="" if validated else "Compétences non démontrées",
        decided_by="Présidente du jury",
        decided_at=DECIDED + dt.timedelta(minutes=minutes),
        is_final=True,
    )


def build(
    database: Database, *, rncp: bool = True, signed: bool = True, with_identities: bool = True
) -> Scenario:
    """Write the scenario; ``rncp=False`` points the session at the shipped file (no RNCP)."""
    with database.session() as db:
        shipped = bundled_frameworks()[0]
        framework = with_rncp(shipped) if rncp else shipped
        import_framework(db, framework)
        people = [
            LtiUser(issuer=ISSUER, sub=f"moodle-{n}", name=name)
            for n, name in enumerate(("Camille Exemple", "Dominique Durand", "Alex Martin"), 1)
        ]
        db.add_all(people)
        db.flush()
        session = CertificationSession(
            framework_code=FRAMEWORK,
            framework_version=framework.identity.version,
            title="Session de novembre 2026",
            place="Lyon",
            exam_postal_code="69007",
            exam_mode="EN_PRESENTIEL",
            exam_start=dt.date(2026, 11, 16),
            exam_end=dt.date(2026, 11, 20),
            jury_date=JURY_DAY,
            status=SessionStatus.SIGNED if signed else SessionStatus.OPEN,
            signed_at=DECIDED + dt.timedelta(hours=1) if signed else None,
            signed_by="Présidente du jury" if signed else None,
        )
        camille, dominique, alex = (
            Candidate(learner_id=person.id, number=n) for n, person in enumerate(people, 1)
        )
        session.candidates = [camille, dominique, alex]
        db.add(session)
        bloc = DecisionScope.BLOC
        camille.decisions = [
            _decision(DecisionScope.TITLE, FRAMEWORK, True),
            *(_decision(bloc, f"B{n}", True) for n in range(1, 5)),
        ]
        first_b3 = _decision(bloc, "B3", True)
        dominique.decisions = [
            _decision(bloc, "B1", False),
            _decision(bloc, "B2", True),
            first_b3,
        ]
        alex.decisions = [_decision(bloc, f"B{n}", False) for n in range(1, 5)]
        db.flush()
        correction = _decision(bloc, "B3", False, minutes=30)
        correction.supersedes_id = first_b3.id
        dominique.decisions.append(correction)
        if with_identities:
            db.add_all([camille_identity(people[0].id), dominique_identity(people[1].id)])
        status_list = StatusList(size=131072, bits=bytes(16384))
        db.add(status_list)
        db.flush()
        title = camille.decisions[0]
        b2 = camille.decisions[2]
        for index, (decision, public_id) in enumerate(
            ((title, CAMILLE_PROOF_ID), (b2, B2_PROOF_ID))
        ):
            db.add(
                IssuedCredential(
                    public_id=public_id,
                    decision_id=decision.id,
                    learner_id=people[0].id,
                    scope=decision.scope,
                    code=decision.code,
                    status_list_id=status_list.id,
                    status_index=index,
                    key_id="z6MkTest",
                    document="{}",
                    valid_until=dt.datetime(2031, 11, 30, tzinfo=dt.UTC) if index else None,
                )
            )
        db.flush()
        return Scenario(session.id, people[0].id, people[1].id, people[2].id)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
