"""Subjects (市场主体): organizations, individual businesses and persons, with aliases and names."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from credithub.db import Base, UtcDateTime, new_id, utcnow

SUBJECT_TYPES = ("organization", "individual_business", "person")


class Subject(Base):
    __tablename__ = "subjects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(24))
    # Names are searched by infix (LIKE '%…%'), which no B-tree index serves.
    name: Mapped[str] = mapped_column(String(300))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    # Positions 9-17 of the USCC, the old 组织机构代码: feeds that send only it find the subject.
    org_code: Mapped[str | None] = mapped_column(String(9), index=True)
    uscc_exception: Mapped[bool] = mapped_column(default=False)
    # Persons: the number itself only encrypted; found by keyed hash; shown masked.
    id_type: Mapped[str | None] = mapped_column(String(24))
    id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_masked: Mapped[str | None] = mapped_column(String(40))
    # The keyed hash a person travels with between hubs (PersonalData.federation_hash): made
    # here when the number is known, else as a peer sent it. Every person has one.
    fed_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    identifiers: Mapped[list[SubjectIdentifier]] = relationship(
        back_populates="subject", cascade="all, delete-orphan", order_by="SubjectIdentifier.id"
    )
    names: Mapped[list[SubjectName]] = relationship(
        back_populates="subject", cascade="all, delete-orphan", order_by="SubjectName.id"
    )

    @property
    def all_identifiers(self) -> list[dict[str, str]]:
        """Every code naming the subject: the org code inside its USCC, then legacy aliases."""
        derived = [{"scheme": "org_code", "value": self.org_code}] if self.org_code else []
        return derived + [
            {"scheme": i.scheme, "value": i.value}
            for i in self.identifiers
            if (i.scheme, i.value) != ("org_code", self.org_code)
        ]

    @property
    def code(self) -> str | None:
        """The identifier an outsider may see: the USCC, or the masked ID number."""
        return self.uscc or self.id_masked


class SubjectIdentifier(Base):
    """A legacy code (工商注册号, 组织机构代码 …) that also names the subject."""

    __tablename__ = "subject_identifiers"
    __table_args__ = (UniqueConstraint("scheme", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    scheme: Mapped[str] = mapped_column(String(24))
    value: Mapped[str] = mapped_column(String(40))

    subject: Mapped[Subject] = relationship(back_populates="identifiers")


class SubjectName(Base):
    """A name the subject has carried (current and former names), with when it was seen."""

    __tablename__ = "subject_names"
    __table_args__ = (UniqueConstraint("subject_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Indexed by the (subject_id, name) unique constraint.
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))
    first_seen: Mapped[date] = mapped_column(Date)
    last_seen: Mapped[date] = mapped_column(Date)

    subject: Mapped[Subject] = relationship(back_populates="names")
