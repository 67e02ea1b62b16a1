"""Full rescore (issue: Score and screen): N records over N/5 subjects on SQLite, timed as
`credithub rescore --all` end to end. The data is written straight into the tables (bulk
inserts), so the figure is the rescore alone.

    python bench/rescore.py [--records 1000000]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import BIN, uscc  # noqa: E402

from credithub import create_app  # noqa: E402
from credithub.db import bulk_insert, db, new_id  # noqa: E402
from credithub.entities.models import Subject  # noqa: E402
from credithub.records.models import Record  # noqa: E402

AUTHORITY = "11230500001755309F"


def seed(instance: str, records: int) -> None:
    app = create_app({"instance_path": Path(instance), "logging": {"level": "WARNING"}})
    pack = app.extensions["credithub.rule_pack"]
    codes = sorted(pack.misconduct)
    rng = random.Random(7)
    now = datetime.now(UTC)
    subjects = records // 5
    with app.app_context():
        from credithub import migrate

        migrate.upgrade(db.engine)
        for start in range(0, subjects, 20_000):
            with db.transaction() as session:
                subject_rows, record_rows = [], []
                for n in range(start + 1, min(subjects, start + 20_000) + 1):
                    sid, code = new_id(), uscc(n)
                    subject_rows.append(
                        {
                            "id": sid,
                            "type": "organization",
                            "name": f"第{n}建筑工程有限公司",
                            "uscc": code,
                            "uscc_exception": False,
                            "org_code": code[8:17],
                            "id_type": None,
                            "id_hash": None,
                            "id_cipher": None,
                            "id_masked": None,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    for k in range(5):
                        record_rows.append(_record(rng, sid, n, k, codes, now))
                bulk_insert(session, Subject, subject_rows)
                bulk_insert(session, Record, record_rows)
    with app.app_context():
        db.engine.dispose()


def _record(rng: random.Random, sid: str, n: int, k: int, codes: list[str], now: datetime) -> dict:
    decided = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 1000))
    kind = (
        "penalty",
        "misconduct",
        "misconduct",
        "penalty",
        "blacklist" if n % 20 == 0 else "commendation",
    )[k]
    content: dict[str, object] = {
        "kind": kind,
        "ref": f"R{n}-{k}",
        "decided_on": decided.isoformat(),
    }
    code = None
    if kind == "penalty":
        content.update(categories=["罚款"], fine_yuan=f"{rng.randrange(1, 300) * 1000}.00")
    elif kind == "misconduct":
        code = rng.choice(codes)
    elif kind == "blacklist":
        code = "ggzy-serious"
    else:
        code = "red-list"
    rid = new_id()
    return {
        "id": rid, "kind": kind, "ref": f"R{n}-{k}", "subject_id": sid, "legal_rep_id": None,
        "authority_uscc": AUTHORITY, "authority_name": "住建局", "decided_on": decided,
        "status": "active", "version": 1, "severity": "general" if kind == "penalty" else None,
        "publish_until": None, "code": code, "starts_on": decided,
        "ends_on": decided + timedelta(days=1095) if kind in ("blacklist", "commendation") else None,  # noqa: E501
        "domains": ["construction"], "content": content, "content_hash": "0" * 64, "raw": None,
        "origin_hub": "local", "origin_id": rid, "origin_version": 1, "received_from": "bench",
        "created_at": now, "updated_at": now, "revoked_at": None, "revoke_reason": None,
        "revoked_by": None,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        seed(tmp, args.records)
        print(
            f"seeded {args.records} records over {args.records // 5} subjects in "
            f"{time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )
        env = {
            **os.environ,
            "CREDITHUB_INSTANCE": tmp,
            "CREDITHUB_CONFIG": "",
            "CREDITHUB_LOGGING_LEVEL": "WARNING",
        }
        env.pop("CREDITHUB_DATABASE_URL", None)
        start = time.perf_counter()
        out = subprocess.run(
            [str(BIN), "rescore", "--all"], env=env, capture_output=True, text=True, check=True
        )
        seconds = time.perf_counter() - start
        print(
            f"full rescore (SQLite, `credithub rescore --all`): records={args.records} "
            f"subjects={args.records // 5} seconds={seconds:.1f} "
            f"records_per_s={args.records / seconds:,.0f} ({out.stdout.strip()})"
        )


if __name__ == "__main__":
    main()
