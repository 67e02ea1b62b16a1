"""The standings of subjects a batch creates are computed from the records it writes for them
(`ingest.new_subject_facts`), and equal the standings read back from the stored records."""

from __future__ import annotations

from tests.records.samples import realistic_sgs_rows
from tests.records.test_batches import ImportBothWays
from tests.records.test_batches import import_both_ways as import_both_ways  # the fixture


def test_an_import_stores_the_standings_it_would_read_back(
    import_both_ways: ImportBothWays,
) -> None:
    rows = realistic_sgs_rows(90, 15)
    rows[40]["CF_JDRQ"] = "2026-11-30"  # recent: restricts now
    given, read_back = import_both_ways(rows, "new_subject_facts", 9)
    assert given == read_back
    standings = given[3]
    assert len(standings) == 15
    assert any(data["explanation"][1:] for _, data in standings)  # penalties counted
    assert any(data["restrictions"] for _, data in standings)  # and measures started
