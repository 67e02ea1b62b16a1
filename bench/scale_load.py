"""Load N records over N/5 subjects into a hub's database fast, in the rows the hub writes.

The records (`subject_records`) are the realistic shape of `bench/ingest.py`: persons,
individual businesses and organizations naming a legal representative with an ID number;
categories, fines and decision dates varied; every tenth subject listed on `ggzy-serious`.
Everything but a subject's identity repeats every `PERIOD` subjects.

1. The first period (subjects 1…PERIOD, one batch) is written by the hub's own ingest in
   process (`records.service.ingest`, a push without HTTP): subjects, names, records, the
   change log, the audit entry, the standings.
2. Every further period is that template again with the identities changed: each value that
   names a template subject (its ids, name, USCC and org code, ID number's hashes, cipher and
   mask, its legal representative's, its records' ids and refs) is replaced wherever it stands,
   in columns and inside JSON (content, standings); the content is encoded canonically again
   and its digest made again; change-log positions follow on. Rows go in by COPY
   (`db.bulk_insert`), a period per transaction, periods shared among processes.

The standings copied are those the hub computed for the template at its load: the same
records give the same standing, and `tests/bench/test_scale_load.py` shows a loaded database
is what the hub itself stores (re-sent records are `unchanged`; the hub's recomputation at the
same instant gives the stored standings).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from ingest import AUTHORITY, CATEGORIES, _subject, api_subject  # noqa: E402

PERIOD = 2000  # subjects per template: a multiple of 20 (the subject kinds repeat every 20)
PER_SUBJECT = 5
_REF = re.compile(r"〕(\d+)-\d+号$")


def subject_records(s: int, period: int = PERIOD) -> list[dict[str, Any]]:
    """The five records naming subject s, as the push API takes them; all but the identity
    depends on s's place in its period."""
    subject = api_subject(_subject(s))
    t = (s - 1) % period + 1
    out = []
    for k in range(PER_SUBJECT):
        i = t * PER_SUBJECT + k
        decided = f"{2022 + i % 5}-{1 + i % 11:02d}-{1 + (i * 13) % 28:02d}"
        record: dict[str, Any] = {"ref": f"呼住建罚〔{decided[:4]}〕{s}-{k}号",
                                  "subject": subject, "decided_on": decided}  # fmt: skip
        if t % 10 == 3 and k == PER_SUBJECT - 1:  # every tenth subject listed: barred
            record.update(kind="blacklist", list="ggzy-serious", listed_on=decided)
        else:
            categories, content, fined = CATEGORIES[(i * 31) % len(CATEGORIES)]
            record.update(kind="penalty", categories=categories.split(";"),
                          violation="违反建筑市场管理规定", facts="未取得施工许可证擅自施工",
                          basis="《建筑法》第六十四条", content=content)  # fmt: skip
            if fined:
                record["fine_yuan"] = f"{((i % 50) / 10 + 0.1) * 10000:.2f}"
        out.append(record)
    return out


def check_subject(s: int) -> dict[str, str]:
    """Subject s as a batch check names it."""
    r = _subject(s)
    if r["CF_XDR_ZJHM"]:
        return {"id_type": "身份证", "id_number": r["CF_XDR_ZJHM"]}
    return {"uscc": r["CF_XDR_SHXYM"]}


def write_template(client: str, period: int) -> None:
    """Subjects 1…period through the hub's own ingest, one batch (in an app context)."""
    from credithub.db import db
    from credithub.records.prepare import Actor
    from credithub.records.service import ingest

    actor = Actor.of_client(client, "department", AUTHORITY)
    items = [r for s in range(1, period + 1) for r in subject_records(s, period)]
    with db.transaction() as session:
        result = ingest(session, items, actor)
    if result.count("created") != len(items):
        bad = [r.to_dict() for r in result.results if r.status != "created"][:3]
        raise SystemExit(f"the template was not all created: {bad}")


TABLES = {  # the tables a period writes, their columns as COPY moves them, their group key
    "subjects": ("*", "id"),
    "subject_names": ("subject_id, name, first_seen, last_seen", "subject_id"),
    "records": ("*", "id"),
    "record_changes": ("*", "record_id"),
    "standings": ("*", "subject_id"),
}
_IN_TEXT = (".name", ".uscc", ".id_masked")  # what a standing's reason may name
_PIECES = re.compile(r'([\t"\n])')  # a value stands between tabs (a column) or quotes (JSON)


class Template:
    """The first period's rows as COPY writes them, each cut where a value stands, and the
    values naming each template subject, to write the rows of a later period."""

    def __init__(self, url: str, period: int) -> None:
        import psycopg

        from credithub.privacy import personal_data

        self.period, self.url, self.pd = period, url, personal_data()
        with psycopg.connect(url) as conn:
            legacy = conn.execute("SELECT count(*) FROM subject_identifiers").fetchone()
            if legacy and legacy[0]:
                raise SystemExit("the template has legacy codes: not replicated")
            self.columns = {t: self._columns(conn, t, c) for t, (c, _) in TABLES.items()}
            # The template: the first period's records (change-log positions), their subjects.
            conn.execute(
                "CREATE TEMP TABLE template_records AS SELECT id, subject_id, legal_rep_id "
                "FROM records WHERE id IN (SELECT record_id FROM record_changes "
                "WHERE position <= %s)",
                (period * PER_SUBJECT,),
            )
            conn.execute(
                "CREATE TEMP TABLE template_subjects AS SELECT subject_id AS id FROM "
                "template_records UNION SELECT legal_rep_id FROM template_records "
                "WHERE legal_rep_id IS NOT NULL"
            )
            text = {t: self._copy_out(conn, t) for t in TABLES}
            rest = {
                rid: canonical_rest(domains, severity, until)
                for rid, domains, severity, until in conn.execute(
                    "SELECT id, domains, severity, publish_until FROM records "
                    "WHERE id IN (SELECT id FROM template_records)"
                )
            }
        records = [line.split("\t") for line in text["records"]]
        col = {name: i for i, name in enumerate(self.columns["records"])}
        if len(records) != period * PER_SUBJECT:
            raise SystemExit("the database holds more (or less) than the template")
        self.group: dict[str, int] = {}  # subject or record id -> template subject number
        self.role: dict[str, str] = {}  # subject id -> "subject" | "rep"
        for f in records:
            t = int(_REF.search(f[col["ref"]]).group(1))  # type: ignore[union-attr]
            self.group[f[col["subject_id"]]] = self.group[f[col["id"]]] = t
            self.role[f[col["subject_id"]]] = "subject"
            if f[col["legal_rep_id"]] != "\\N":
                self.group[f[col["legal_rep_id"]]] = t
                self.role[f[col["legal_rep_id"]]] = "rep"
        self.old: dict[int, dict[str, str]] = {t: {} for t in range(1, period + 1)}
        for f in records:
            self.old[self.group[f[col["id"]]]][f[col["id"]]] = "record"
            self.old[self.group[f[col["id"]]]][f[col["ref"]]] = "ref"
        scol = {name: i for i, name in enumerate(self.columns["subjects"])}
        for line in text["subjects"]:
            f = line.split("\t")
            sid, old = f[scol["id"]], self.old[self.group[f[scol["id"]]]]
            role = self.role[sid]
            old[sid] = f"{role}.id"
            for name in ("name", "uscc", "org_code", "id_hash", "fed_hash", "id_masked",
                         "id_cipher"):  # fmt: skip
                if f[scol[name]] != "\\N":
                    old[f[scol[name]]] = f"{role}.{name}"
        for t, old in self.old.items():  # a legal representative named only (no subject)
            if (rep := _subject(t)["CF_FRDB"]) and rep not in old:
                old[rep] = "rep.name"
        assert self.columns["records"][0] == "id"
        assert self.columns["record_changes"][0] == "position"
        self.rest = rest
        self.rcol = col
        # Names and codes inside a sentence (a standing's reasons): found bounded by what
        # cannot continue a name or code.
        self.inside = {
            t: re.compile(
                r"(?<![0-9A-Za-z])("
                + "|".join(re.escape(v) for v, m in old.items() if m.endswith(_IN_TEXT))
                + r")(?![0-9A-Za-z])"
            )
            for t, old in self.old.items()
        }
        # Each line cut at its values: (group, pieces, [(index, meaning)]); a piece holding a
        # value inside a sentence has the meaning "text".
        self.lines: dict[str, list[tuple[int, list[str], list[tuple[int, str]]]]] = {}
        for table, (_, key) in TABLES.items():
            k = self.columns[table].index(key)
            cut = []
            for line in text[table]:
                t = self.group[line.split("\t")[k]]
                pieces = _PIECES.split(line)
                old = self.old[t]
                slots = [(i, old[p]) for i, p in enumerate(pieces) if p in old]
                if table == "standings":
                    slots += [
                        (i, "text") for i, p in enumerate(pieces)
                        if p not in old and self.inside[t].search(p)
                    ]  # fmt: skip
                cut.append((t, pieces, slots))
            self.lines[table] = cut
        self._self_check(text["records"])

    @staticmethod
    def _columns(conn: Any, table: str, columns: str) -> list[str]:
        if columns != "*":
            return [c.strip() for c in columns.split(",")]
        found = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            (table,),
        )
        return [r[0] for r in found]

    def _copy_out(self, conn: Any, table: str) -> list[str]:
        cols = ", ".join(self.columns[table])
        key = TABLES[table][1]
        by_record = table in ("records", "record_changes")
        among = "template_records" if by_record else "template_subjects"
        query = f"SELECT {cols} FROM {table} WHERE {key} IN (SELECT id FROM {among})"  # noqa: S608
        with conn.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT") as copy:
            data = b"".join(bytes(block) for block in copy)
        return data.decode().splitlines()

    def _self_check(self, lines: list[str]) -> None:
        """The digest this module makes is the hub's, on the template's own records."""
        c = self.rcol
        for line in lines[:50]:
            f = line.split("\t")
            rep = None if f[c["legal_rep_id"]] == "\\N" else f[c["legal_rep_id"]]
            made = content_digest(f[c["content"]], self.rest[f[c["id"]]], f[c["subject_id"]], rep)
            assert made == f[c["content_hash"]], "the content digest differs from the hub's"
        for t in range(1, min(self.period, 40) + 1):
            mine = self.values(t, t)
            for value, meaning in self.old[t].items():
                if meaning not in ("record", "ref") and not meaning.endswith((".id", "cipher")):
                    assert mine[meaning] == value, f"{meaning} differs from the hub's"

    def values(self, t: int, s: int) -> dict[str, str]:
        """Subject s's values, by meaning, in place of template subject t's."""
        from credithub.db import new_id
        from credithub.entities.identifiers import mask_id_number

        who = _subject(s)
        out = {"subject.id": new_id(), "rep.id": new_id(), "subject.name": who["CF_XDR_MC"],
               "rep.name": who["CF_FRDB"], "subject.uscc": who["CF_XDR_SHXYM"],
               "subject.org_code": who["CF_XDR_SHXYM"][8:17]}  # fmt: skip
        for role, number in (("subject", who["CF_XDR_ZJHM"]), ("rep", who["CF_FR_ZJHM"])):
            if number:
                out[f"{role}.id_hash"] = self.pd.lookup_hash("id_card", number)
                out[f"{role}.fed_hash"] = self.pd.federation_hash("id_card", number)
                out[f"{role}.id_masked"] = mask_id_number(number)
                out[f"{role}.id_cipher"] = "\\\\x" + self.pd.encrypt(number, "id_card").hex()
        return out

    def period_text(self, p: int) -> dict[str, str]:
        """The COPY text of period p (> 0), by table."""
        offset = p * self.period
        values = {t: self.values(t, t + offset) for t in range(1, self.period + 1)}
        for t, old in self.old.items():
            mine = values[t]
            for value, meaning in old.items():
                if meaning == "record":
                    mine[value] = _new_id()
                elif meaning == "ref":
                    mine[value] = value.replace(f"〕{t}-", f"〕{t + offset}-")
        shift = p * self.period * PER_SUBJECT
        out = {}
        c = self.rcol
        for table, cut in self.lines.items():
            lines = []
            for t, pieces, slots in cut:
                mine = values[t]
                new = pieces.copy()
                for i, meaning in slots:  # a record's id or ref: by the template's value
                    if meaning == "text":
                        new[i] = self.inside[t].sub(_swap(mine, self.old[t]), pieces[i])
                    else:
                        new[i] = mine[pieces[i] if meaning in ("record", "ref") else meaning]
                line = "".join(new)
                if table == "records":
                    f = line.split("\t")
                    rep = None if f[c["legal_rep_id"]] == "\\N" else f[c["legal_rep_id"]]
                    rest = self.rest[pieces[0]]
                    f[c["content_hash"]] = content_digest(
                        f[c["content"]], rest, f[c["subject_id"]], rep
                    )
                    line = "\t".join(f)
                elif table == "record_changes":
                    position, tail = line.split("\t", 1)
                    line = f"{int(position) + shift}\t{tail}"
                lines.append(line)
            out[table] = "\n".join(lines) + "\n"
        return out


def _swap(mine: dict[str, str], old: dict[str, str]) -> Callable[[re.Match[str]], str]:
    return lambda m: mine[old[m.group(0)]]


def _new_id() -> str:
    from credithub.db import new_id

    return new_id()


def canonical_rest(domains: Any, severity: str | None, until: Any) -> bytes:
    from credithub.db import canonical_json

    return canonical_json([domains, severity, until.isoformat() if until else None], floats=())


def content_digest(content: str, rest: bytes, subject_id: str, legal_rep_id: str | None) -> str:
    """The digest the hub stores for a record (`records.normal_form.Prepared.content_hash`)."""
    assert "\\" not in content, "a content with escapes"
    body = b"[" + content.encode() + b"," + rest[1:]
    return hashlib.sha256(body + f"\n{subject_id}\n{legal_rep_id or ''}".encode()).hexdigest()


def write_periods(env: dict[str, str], periods: list[int], period: int) -> None:
    """Periods (> 0) of the template, a transaction each (its own process)."""
    os.environ.update(env)
    import psycopg

    from credithub import create_app

    app = create_app()
    url = env["CREDITHUB_DATABASE_URL"]
    start = time.perf_counter()
    with app.app_context():
        template = Template(url, period)
    print(f"  process {os.getpid()}: template read in {time.perf_counter() - start:.1f} s",
          file=sys.stderr, flush=True)  # fmt: skip
    made = written = 0.0
    with psycopg.connect(url) as conn:
        for p in periods:
            start = time.perf_counter()
            with app.app_context():
                text = template.period_text(p)
            made += time.perf_counter() - start
            start = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                for table, data in text.items():
                    cols = ", ".join(template.columns[table])
                    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                        copy.write(data.encode())
            written += time.perf_counter() - start
    print(f"  process {os.getpid()}: {len(periods)} periods made in {made:.1f} s, written in "
          f"{written:.1f} s", file=sys.stderr, flush=True)  # fmt: skip


def load(
    env: dict[str, str], records: int, processes: int, period: int = PERIOD, resume: bool = False
) -> None:
    """Write `records` records (a multiple of period × 5) into the empty, migrated database
    of `env`, whose department client `zhujian` exists; then ANALYZE. `resume`: the database
    holds a load stopped part-way (its template and whole periods): write the rest."""
    per_period = period * PER_SUBJECT
    if records % per_period:
        raise SystemExit(f"--records must be a multiple of {per_period}")
    os.environ.update(env)
    import psycopg
    from sqlalchemy import text, update

    from credithub import create_app
    from credithub.db import db
    from credithub.records.models import ChangeHead

    app = create_app()
    start = time.perf_counter()
    if not resume:
        with app.app_context():
            write_template("zhujian", period)
            db.engine.dispose()
    print(f"  template of {per_period:,} records through the hub's ingest: "
          f"{time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)  # fmt: skip
    start = time.perf_counter()
    later = list(range(1, records // per_period))
    with psycopg.connect(env["CREDITHUB_DATABASE_URL"]) as conn:
        done = {p for (p,) in conn.execute(
            "SELECT DISTINCT (position - 1) / %s FROM record_changes", (per_period,))}  # fmt: skip
    if done:  # a load stopped part-way goes on where it stopped (whole periods are written)
        later = [p for p in later if p not in done]
    if later:
        parts = [later[k::processes] for k in range(processes) if later[k::processes]]
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(len(parts)) as pool:
            pool.starmap(write_periods, [(env, part, period) for part in parts])
    print(f"  {len(later)} copies of it by COPY: {time.perf_counter() - start:.1f} s",
          file=sys.stderr, flush=True)  # fmt: skip
    start = time.perf_counter()
    with app.app_context():
        with db.transaction() as session:
            session.execute(update(ChangeHead).where(ChangeHead.id == 1).values(position=records))
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        db.engine.dispose()
    print(f"  ANALYZE: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
