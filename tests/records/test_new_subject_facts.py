"""The standings of subjects a batch creates are computed from the records it writes for them
(`ingest.new_subject_facts`), and equal the standings read back from the stored records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from credithub.clients.service import create_client
from credithub.db import db
from tests.records.samples import ZHUJIAN, realistic_sgs_rows, sgs_csv
from tests.records.test_batches import _empty, _stored


def test_an_import_stores_the_standings_it_would_read_back(
    app_factory: Callable[..., Flask],
    database_template: str,
    run_cli: Callable[..., Any],
    tmp_path: Path,
) -> None:
    path = tmp_path / "处罚信息.csv"
    rows = realistic_sgs_rows(90, 15)
    rows[40]["CF_JDRQ"] = "2026-11-30"  # recent: restricts now
    path.write_bytes(sgs_csv(rows, "gbk"))
    out = []
    for given in (True, False):
        url = _empty(database_template, tmp_path / f"{given}.db")
        app = app_factory(database={"url": url}, ingest={"new_subject_facts": given})
        with app.app_context(), db.transaction() as session:
            create_client(session, "zhujian", "department", ZHUJIAN)
        env = {
            "CREDITHUB_DATABASE_URL": url,
            "CREDITHUB_INGEST_NEW_SUBJECT_FACTS": str(given).lower(),
        }
        result = run_cli("import", str(path), "--client", "zhujian", "--batch-size", "9", env=env)
        assert result.exit_code == 0, result.output
        out.append((result.output, *_stored(app)))
    assert out[0] == out[1]
    standings = out[0][3]
    assert len(standings) == 15
    assert any(data["explanation"][1:] for _, data in standings)  # penalties counted
    assert any(data["restrictions"] for _, data in standings)  # and measures started
