"""Tables of the demo LMS: its own metadata, in its own SQLite file.

The demo platform is another system than Jalon, so it shares nothing with Jalon's schema:
no Alembic migration, ``metadata.create_all`` on start. It keeps what an LMS keeps: users,
a course and its enrolments, the links placed in the course, the gradebook columns (line
items) and every score a tool sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from lti_tool.db import NAMING_CONVENTION, UTCDateTime, created_at

INSTRUCTOR = "Instructor"
LEARNER = "Learner"


class DemoBase(DeclarativeBase):
    """Declarative base of the demo LMS, apart from Jalon's ``Base``."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class User(DemoBase):
    """A person of the demo LMS; their id is the LTI ``sub``, as in Moodle."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(100), unique=True)
    given_name: Mapped[str] = mapped_column(sa.String(100))
    family_name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str] = mapped_column(sa.String(255))

    @property
    def sub(self) -> str:
        """Return the LTI user id sent to tools."""
        return str(self.id)

    @property
    def name(self) -> str:
        """Return the full name."""
        return f"{self.given_name} {self.family_name}"


class Course(DemoBase):
    """A course: the LTI context."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.String(255))

    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="course", order_by="Enrolment.user_id"
    )
    placements: Mapped[list[Placement]] = relationship(
        back_populates="course", order_by="Placement.id"
    )


class Enrolment(DemoBase):
    """A user's role in a course: ``Instructor`` or ``Learner``."""

    __tablename__ = "enrolments"

    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(50))

    course: Mapped[Course] = relationship(back_populates="enrolments")
    user: Mapped[User] = relationship()

    @property
    def is_instructor(self) -> bool:
        """Return whether the user teaches the course."""
        return self.role == INSTRUCTOR


class Placement(DemoBase):
    """An LTI resource link placed in a course by deep linking; its id is the link id."""

    __tablename__ = "placements"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"))
    title: Mapped[str] = mapped_column(sa.String(255))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    url: Mapped[str] = mapped_column(sa.String(1024))
    custom: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    document_target: Mapped[str] = mapped_column(sa.String(20), default="iframe")
    created_at: Mapped[created_at]

    course: Mapped[Course] = relationship(back_populates="placements")
    line_items: Mapped[list[LineItem]] = relationship(
        back_populates="placement", order_by="LineItem.id"
    )

    @property
    def resource_link_id(self) -> str:
        """Return the LTI resource link id."""
        return str(self.id)


class LineItem(DemoBase):
    """A gradebook column, made by deep linking or by the tool through AGS."""

    __tablename__ = "line_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"))
    placement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("placements.id"))
    label: Mapped[str] = mapped_column(sa.String(255))
    score_maximum: Mapped[float] = mapped_column(sa.Float)
    resource_id: Mapped[str | None] = mapped_column(sa.String(255))
    tag: Mapped[str | None] = mapped_column(sa.String(255))
    start_date_time: Mapped[str | None] = mapped_column(sa.String(40))
    end_date_time: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[created_at]

    placement: Mapped[Placement | None] = relationship(back_populates="line_items")
    scores: Mapped[list[Score]] = relationship(
        back_populates="line_item", order_by="Score.id", cascade="all, delete-orphan"
    )


class Score(DemoBase):
    """One score a tool posted, exactly as received (the gradebook shows the latest)."""

    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_item_id: Mapped[int] = mapped_column(sa.ForeignKey("line_items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    score_given: Mapped[float | None] = mapped_column(sa.Float)
    score_maximum: Mapped[float | None] = mapped_column(sa.Float)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    activity_progress: Mapped[str] = mapped_column(sa.String(20))
    grading_progress: Mapped[str] = mapped_column(sa.String(20))
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    submission: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    received_at: Mapped[created_at]

    line_item: Mapped[LineItem] = relationship(back_populates="scores")
    user: Mapped[User] = relationship()


class DeepLinkRequest(DemoBase):
    """A deep-linking request in flight; its id travels as the opaque ``data`` claim."""

    __tablename__ = "deep_link_requests"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[created_at]
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class UsedAssertion(DemoBase):
    """The ``jti`` of a client assertion already exchanged for a token: each works once."""

    __tablename__ = "used_assertions"

    jti: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
