"""What the public pages show: search results with level and bar, a subject's public profile
with its standing and the standing's history, and the data's freshness.

Everything the public sees comes from `credithub.public.service` (api.md "Visibility", by
`records.visibility`); this module only adds what a page shows beside it, from the same
standing computation the checks use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credithub import clock
from credithub.db import utcnow
from credithub.entities.models import Subject
from credithub.errors import Invalid, NotFound
from credithub.public import service as public
from credithub.records import visibility as vis
from credithub.records.models import Record
from credithub.records.read import record_row
from credithub.rules import active_pack
from credithub.rules.pack import RulePack
from credithub.rules.pack_entries import add_months
from credithub.standing.compute import compute_standing
from credithub.standing.service import facts_for, standings_at
from credithub.standing.values import Standing, china_date, china_midnight
from credithub.sync.models import SyncState
from credithub.web import explain
from credithub.workflows.models import Objection

SEARCH_PAGE = 20
HISTORY_MONTHS = 12


def _public_records(session: Session, ids: set[str], pack: RulePack, day: date) -> set[str]:
    """Which of these records the public sees today."""
    if not ids:
        return set()
    rows = session.scalars(select(Record).where(Record.id.in_(sorted(ids))))
    return {row.id for row in rows if vis.public_sees(record_row(row), pack, day)}


def public_restrictions(session: Session, standings: dict[str, Standing]) -> dict[str, list[Any]]:
    """Each subject's restrictions that cite a record the public sees (as the public profile
    shows them: a restriction behind an unpublished record is not the public's to know)."""
    cited = {r.record_id for s in standings.values() for r in s.restrictions if r.record_id}
    shown = _public_records(session, cited, active_pack(), clock.today())
    return {
        sid: [r for r in standing.restrictions if r.record_id in shown]
        for sid, standing in standings.items()
    }


def search(session: Session, q: str, page: int) -> dict[str, Any]:
    """The public search (`public.service.search`), each subject with its level and whether
    a published record bars it anywhere now."""
    found = public.search(session, q, page, SEARCH_PAGE)
    subjects: list[Subject] = found["items"]
    standings = standings_at(session, [s.id for s in subjects], utcnow())
    restrictions = public_restrictions(session, standings)
    found["items"] = [
        {
            "type": s.type,
            "name": s.name,
            "uscc": s.uscc,
            "id_type": s.id_type,
            "id_masked": s.id_masked,
            "level": standings[s.id].level,
            "score": standings[s.id].score,
            "barred": any(r.effect == "bar" for r in restrictions[s.id]),
        }
        for s in subjects
    ]
    found["pages"] = max(1, -(-found["total"] // SEARCH_PAGE))
    return found


def standing_history(session: Session, subject_id: str, now: datetime) -> list[dict[str, Any]]:
    """The standing at 00:00 (China time) on the first day of each of the last twelve months,
    and now: each computed by `standing.compute.compute_standing` (the one computation the
    checks use) from the subject's records as they are held now, with the active rule pack.
    A record revoked or repaired since counts until its revocation, as in any past check."""
    pack = active_pack()
    facts = facts_for(session, [subject_id])[subject_id]
    first = china_date(now).replace(day=1)
    instants = [china_midnight(add_months(first, -n)) for n in range(HISTORY_MONTHS - 1, -1, -1)]
    points = []
    for at in [*instants, now]:
        standing = compute_standing(facts, pack, at)
        points.append({"on": china_date(at), "score": standing.score, "level": standing.level})
    return points


def open_objections(session: Session, record_ids: Sequence[str]) -> dict[str, str]:
    """The status of the open objection on each of these records, if any."""
    if not record_ids:
        return {}
    rows = session.execute(
        select(Objection.record_id, Objection.status).where(
            Objection.record_id.in_(list(record_ids)),
            Objection.status.in_(("received", "accepted", "forwarded")),
        )
    )
    return {record_id: status for record_id, status in rows}


def check_record_of(session: Session, record_id: str, uscc: str) -> None:
    """A form on a subject's profile files on that subject's records only (422 otherwise)."""
    owner = session.scalar(
        select(Subject.uscc)
        .join(Record, Record.subject_id == Subject.id)
        .where(Record.id == record_id)
    )
    if owner != uscc:
        message = "该记录不是本主体的公示记录"
        raise Invalid(message, {"record_id": [message]})


def freshness(session: Session, subject_id: str) -> dict[str, datetime | None]:
    """When a change to the subject's records was last applied here, and when this hub last
    heard from any connector (None: no connector has run)."""
    changed = session.scalar(
        select(func.max(Record.updated_at)).where(Record.subject_id == subject_id)
    )
    synced = session.scalar(select(func.max(SyncState.last_success_at)))
    return {"changed": changed, "synced": synced}


def profile(session: Session, uscc: str) -> dict[str, Any]:
    """The public profile (`public.service.public_profile`: 404 for a subject the public does
    not see), with each record and restriction in words, the standing and its history."""
    try:
        data = public.public_profile(session, uscc)
    except NotFound:
        raise NotFound(f"没有统一社会信用代码为 {uscc} 的公示主体") from None
    pack = active_pack()
    subject = session.scalar(select(Subject).where(Subject.uscc == data["uscc"]))
    if subject is None:  # gone since public_profile read it
        raise NotFound(f"没有统一社会信用代码为 {uscc} 的公示主体")
    now = utcnow()
    standing = standings_at(session, [subject.id], now)[subject.id]
    pending = open_objections(session, [r["id"] for r in data["records"]])
    records = [
        explain.record(r, pack, disputed=pending.get(r["id"]) in ("accepted", "forwarded"))
        | {"objection": pending.get(r["id"])}
        for r in data["records"]
    ]
    return {
        **data,
        "subject_id": subject.id,
        "records": records,
        "restrictions": [explain.restriction(r, pack) for r in data["restrictions"]],
        "barred": any(r["effect"] == "bar" for r in data["restrictions"]),
        "score": standing.score,
        "level": standing.level,
        "level_title": next(
            (lv.title for lv in pack.score.levels if lv.level == standing.level), ""
        ),
        "history": standing_history(session, subject.id, now),
        "freshness": freshness(session, subject.id),
        # What the forms offer: a record without an open objection (one at a time), and for
        # repair also not a commendation; the services check every condition again.
        "objectionable": [r for r in records if r["objection"] is None and not r["disputed"]],
        "repairable": [r for r in records if r["kind"] != "commendation" and not r["disputed"]],
    }
