"""`check.changed`: a subject a client checked lately now answers otherwise in a domain it
checked it in.

Every change of a verdict passes through the standing refresh (`standing.service.refresh`):
a push, a pull's pages, a revocation, a repair, and time itself (the rescore job). The refresh
asks `watched` before it replaces the stored standings and `Watching.changed` after: the
verdict each watcher's domain had, against the one it has now. Only subjects someone with a
`check.changed` webhook checked in the last `webhooks.watch_days` are looked at; with no such
webhook the refresh pays one query of the (small) webhooks table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.db import one_of
from credithub.entities.models import Subject
from credithub.standing.models import StandingRow
from credithub.standing.values import verdict_of
from credithub.webhooks.models import Watch
from credithub.webhooks.service import emit, subscribers
from schemas.check import RESTRICTION_KEYS

EVENT = "check.changed"
CHUNK = 500


def _verdict(data: Mapping[str, Any] | None, domain: str) -> str:
    if data is None:
        return "clear"  # no standing yet: a check answers clear (known or not)
    return verdict_of({r["effect"] for r in data["restrictions"] if domain in r["domains"]})


@dataclass
class Watching:
    """The watched subjects of one refresh and what their stored standings said before it."""

    watchers: dict[str, set[tuple[str, str]]]  # subject id -> {(client name, domain)}
    subjects: dict[str, dict[str, Any]]  # subject id -> the subject as an event names it
    before: dict[str, Mapping[str, Any] | None]  # subject id -> stored standing (data)
    clients: dict[str, str]  # client name -> id

    def changed(
        self, session: Session, after: Mapping[str, Mapping[str, Any]], at: datetime
    ) -> int:
        """Write a `check.changed` event for each (watcher, subject, domain) whose verdict is
        not what it was; how many events."""
        written = 0
        for sid in sorted(self.watchers):
            now = after.get(sid)
            if now is None:
                continue
            for client, domain in sorted(self.watchers[sid]):
                previous, verdict = _verdict(self.before[sid], domain), _verdict(now, domain)
                if previous == verdict:
                    continue
                restrictions = [
                    {k: r[k] for k in RESTRICTION_KEYS}
                    for r in now["restrictions"]
                    if domain in r["domains"]
                ]
                data = {
                    "subject": self.subjects[sid],
                    "domain": domain,
                    "verdict": verdict,
                    "previous": previous,
                    "restrictions": restrictions,
                    "at": at.isoformat(),
                }
                written += emit(session, EVENT, [self.clients[client]], data)
        return written


def watched(session: Session, subject_ids: Sequence[str], now: datetime) -> Watching | None:
    """Who watches these subjects (clients with a `check.changed` webhook that checked them in
    the last `webhooks.watch_days`) and their stored standings now; None if nobody does."""
    clients = subscribers(session, EVENT)
    if not clients or not subject_ids:
        return None
    days = current_app.extensions["credithub.settings"].webhooks.watch_days
    since = now - timedelta(days=days)
    watchers: dict[str, set[tuple[str, str]]] = {}
    subjects: dict[str, dict[str, Any]] = {}
    for start in range(0, len(subject_ids), CHUNK):
        part = subject_ids[start : start + CHUNK]
        by_key: dict[str, str] = {}
        named: dict[str, dict[str, Any]] = {}
        for row in session.execute(
            select(
                Subject.id, Subject.type, Subject.name, Subject.uscc, Subject.fed_hash,
                Subject.id_hash, Subject.id_masked,
            ).where(one_of(session, Subject.id, part))
        ):  # fmt: skip
            for key in {row.uscc, row.fed_hash, row.id_hash} - {None}:
                by_key[str(key)] = row.id  # whichever a check keyed its watch by (Watch)
            named[row.id] = (
                {"uscc": row.uscc, "name": row.name}
                if row.uscc is not None or row.type != "person"
                else {"id_number": row.id_masked, "name": row.name}
            )
        if not by_key:
            continue
        query = select(Watch.subject_key, Watch.client, Watch.domain).where(
            one_of(session, Watch.subject_key, sorted(by_key)),
            Watch.checked_at >= since,
            Watch.client.in_(sorted(clients)),
        )
        for key, client, domain in session.execute(query):
            sid = by_key[key]
            watchers.setdefault(sid, set()).add((client, domain))
            subjects[sid] = named[sid]
    if not watchers:
        return None
    before: dict[str, Mapping[str, Any] | None] = dict.fromkeys(watchers)
    for sid, data in session.execute(
        select(StandingRow.subject_id, StandingRow.data).where(
            one_of(session, StandingRow.subject_id, sorted(watchers))
        )
    ):
        before[sid] = data
    return Watching(watchers, subjects, before, clients)
