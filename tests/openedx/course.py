"""The course of the Open edX test LMS: its components, their passports, its users.

Modelled on lti-consumer-xblock 11.4.4: the LTI 1.3 fields of ``LtiConsumerXBlock`` (their
Studio names in the comments), ``LtiConfiguration`` (a primary key in the service URLs) and
``Lti1p3Passport`` (client id and platform key, shared by a block and its duplicates).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from opaque_keys.edx.keys import UsageKey


@dataclass
class Tool:
    """What the course team types into a component's LTI 1.3 fields in Studio."""

    launch_url: str  # "Launch URL" (lti_1p3_launch_url)
    oidc_url: str  # "Tool Initiate Login URL (OIDC)"
    keyset_url: str  # "Tool Keyset URL", with "Tool Public Key Mode" = "Keyset URL"
    deep_linking_url: str = ""  # "Deep Linking Launch URL"
    redirect_uris: list[str] = field(default_factory=list)  # empty: launch + deep-linking URL


@dataclass
class Passport:
    """``Lti1p3Passport``: the client id and the platform key a component signs with."""

    passport_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    kid: str = field(default_factory=lambda: str(uuid.uuid4()))
    private_pem: str = field(default_factory=lambda: _new_key())


def _new_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


@dataclass
class Component:
    """One "LTI Consumer" block of the course, with its configuration (``LtiConfiguration``)."""

    config_id: int  # the configuration's primary key, in the AGS, NRPS and DL URLs
    usage_key: str  # the block's location: the launches' resource_link.id
    display_name: str
    tool: Tool
    passport: Passport
    ags_mode: str = "declarative"  # "Assignment and Grades": declarative/programmatic/disabled
    deep_linking: bool = False  # "Deep linking"
    nrps: bool = False  # "Names & Roles (NRPS)"
    has_score: bool = True  # "This activity is graded"
    weight: float = 1.0  # "Grade Weight"
    ask_to_send_username: bool = False  # "Share Username"
    ask_to_send_full_name: bool = False  # "Share Full name"
    ask_to_send_email: bool = False  # "Share Email"
    custom_parameters: list[str] = field(default_factory=list)  # "Custom Parameters": "k=v"
    config_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    # What deep linking stored (LtiDlContentItem): id, type and validated attributes.
    content_items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def location(self) -> UsageKey:
        """Return the usage key the package compares line items with."""
        return UsageKey.from_string(self.usage_key)


@dataclass
class User:
    """A user of the course: LMS id, external id (the LTI ``sub``), role as Open edX names it."""

    user_id: int
    role: str  # a key of LTI_1P3_ROLE_MAP: "student", "staff", "instructor", "Community TA"…
    username: str
    full_name: str
    email: str
    external_id: str = field(default_factory=lambda: str(uuid.uuid4()))
