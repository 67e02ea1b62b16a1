"""What verifies an issued credit report: its number, the digest of its content, the subject
and when it was issued (never the report: the holder of a printed one brings it back)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from credithub.db import Base, UtcDateTime


class IssuedReport(Base):
    __tablename__ = "credit_reports"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the report's canonical content
    subject_uscc: Mapped[str] = mapped_column(String(18), index=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
