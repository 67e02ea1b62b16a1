"""Objections (异议) and credit repairs (信用修复), and the steps each took.

An item keeps the deciding authority of its record (`authority_uscc`) so a department's queue
is one indexed filter, and `due_on`, the day its pending step is due (None once closed), so
the queues find what is overdue without counting working days again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from credithub.db import Base, UtcDateTime, new_id, utcnow


class Objection(Base):
    __tablename__ = "objections"
    __table_args__ = (
        Index("ix_objections_authority_status", "authority_uscc", "status"),
        Index("ix_objections_status_due", "status", "due_on"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    authority_uscc: Mapped[str] = mapped_column(String(18))
    applicant: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a public filing's
    source: Mapped[str] = mapped_column(String(12))  # office | department | public
    # received | refused | accepted | forwarded | decided
    status: Mapped[str] = mapped_column(String(12))
    prior_status: Mapped[str | None] = mapped_column(String(12))  # the record's, before
    outcome: Mapped[str | None] = mapped_column(String(12))  # upheld | corrected | revoked
    note: Mapped[str | None] = mapped_column(Text)  # the decision's, or the refusal's reason
    due_on: Mapped[date | None] = mapped_column(Date)  # of the pending step; None: closed
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Repair(Base):
    __tablename__ = "repairs"
    __table_args__ = (
        Index("ix_repairs_authority_status", "authority_uscc", "status"),
        Index("ix_repairs_status_due", "status", "due_on"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    authority_uscc: Mapped[str] = mapped_column(String(18))
    applicant: Mapped[str | None] = mapped_column(String(200))  # a public application's
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a public application's
    source: Mapped[str | None] = mapped_column(String(12))  # public; None: a client filed it
    commitment: Mapped[bool] = mapped_column(Boolean)  # the public credit commitment (信用承诺)
    evidence: Mapped[str | None] = mapped_column(Text)  # of the obligation performed
    status: Mapped[str] = mapped_column(String(12))  # pending | approved | rejected
    note: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WorkflowStep(Base):
    """One step of an objection or a repair: what, who, when, and the day it was due."""

    __tablename__ = "workflow_steps"
    __table_args__ = (Index("ix_workflow_steps_item", "item_id", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    item_type: Mapped[str] = mapped_column(String(12))  # objection | repair
    item_id: Mapped[str] = mapped_column(String(32))
    # filed | accepted | refused | forwarded | decided | removed
    step: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
