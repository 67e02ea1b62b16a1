"""A listing that reaches this hub by a pull from another hub notifies the consumers here
that checked the bidder (two real hubs on loopback, each its own process and database)."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from tests.records.samples import SHUDAO, ZHUJIAN, serious_listing
from tests.sync.hubs import Hub, running
from tests.webhooks.receiver import receiving


def test_a_pulled_listing_notifies_the_consumer_of_the_receiving_hub(tmp_path: Path) -> None:
    province, city = Hub("province", tmp_path / "p"), Hub("city-b", tmp_path / "b")
    city.connect("province", province)
    with running(province, city), receiving() as receiver:
        department = province.token("department", "zhujian", "--uscc", ZHUJIAN)
        bidding = city.token("consumer", "bidding")
        resp = requests.post(
            f"{city.url}/api/v1/webhooks",
            json={"url": receiver.url, "events": ["check.changed"]},
            headers={"Authorization": f"Bearer {bidding}"},
            timeout=30,
        )
        assert resp.status_code == 201, resp.text
        hook = resp.json()
        assert city.verdict(bidding, SHUDAO) == "clear"
        # The check's log row (and its watch) is written by the worker within a second; the
        # receipts list writes that worker's buffer first, so once it lists the check it is kept.
        deadline = time.monotonic() + 10
        while not city.get("/api/v1/checks", bidding)["items"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)

        province.post("/api/v1/records", department, {"records": [serious_listing()]})
        city.cli("sync", "run")
        assert city.verdict(bidding, SHUDAO) == "barred"
        delivered = city.cli("webhooks", "run").stdout
        assert "delivered 1, failed 0" in delivered
        [got] = receiver.received
        event = got.verified(hook["secret"])
        assert (event["subject"]["uscc"], event["domain"]) == (SHUDAO, "construction")
        assert (event["verdict"], event["previous"]) == ("barred", "clear")
        # Once delivered, it is not sent again.
        assert "delivered 0" in city.cli("webhooks", "run").stdout
        assert len(receiver.received) == 1
