"""Console accounts: the people of the joint office who log in to /admin/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from credithub.db import Base, UtcDateTime, new_id, utcnow


class ConsoleAccount(Base):
    __tablename__ = "console_accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # argon2id, in the PHC string form (parameters and salt included); never the password.
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # in a row, since the last
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A login's session cookie carries the epoch it began in; logging out or a new password
    # moves it on, so every cookie of the account (a copied one too) stops opening the console.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
