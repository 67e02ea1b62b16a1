"""What `/metrics` reads from the database at each scrape, through the console dashboard's own
functions (the figures the joint office sees): per connector its lag, pending changes and dead
letters, the webhook backlog, and the objections and repairs past their due day."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from credithub import clock
from credithub.console import dashboard
from credithub.records.prepare import Actor
from credithub.workflows.models import Objection, Repair

# The whole hub, as the joint office sees it.
_OFFICE = Actor(name="metrics", kind="admin")


class DatabaseGauges(Collector):
    """A prometheus-client collector reading `session` when collected."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[GaugeMetricFamily]:
        session = self.session
        lag = GaugeMetricFamily(
            "credithub_sync_lag_seconds",
            "Seconds since the connector's last successful run (absent: never succeeded)",
            labels=["connector"],
        )
        late = GaugeMetricFamily(
            "credithub_sync_late",
            "1 if the connector never succeeded, is failing, or is three intervals behind",
            labels=["connector"],
        )
        pending = GaugeMetricFamily(
            "credithub_sync_pending",
            "Changes not yet pushed by the connector",
            labels=["connector"],
        )
        dead = GaugeMetricFamily(
            "credithub_sync_dead_letters",
            "Changes the connector gave up on, not replayed",
            labels=["connector"],
        )
        for state in dashboard.sync_health(session):
            name = [state["name"]]
            if state["lag_seconds"] is not None:
                lag.add_metric(name, state["lag_seconds"])
            late.add_metric(name, 1 if state["late"] else 0)
            pending.add_metric(name, state["pending"])
            dead.add_metric(name, state["dead_letters"])
        yield from (lag, late, pending, dead)

        hooks = dashboard.webhook_backlog(session)
        yield GaugeMetricFamily(
            "credithub_webhook_backlog", "Webhook events waiting to be delivered", hooks["pending"]
        )
        yield GaugeMetricFamily(
            "credithub_webhook_failed", "Webhook events given up on", hooks["failed"]
        )
        oldest = hooks["oldest"]
        age = (clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "credithub_webhook_oldest_pending_seconds",
            "Age of the oldest webhook event waiting (0: none waits)",
            age,
        )
        yield GaugeMetricFamily(
            "credithub_objections_overdue",
            "Open objections past their due day",
            dashboard.overdue(session, Objection, _OFFICE),
        )
        yield GaugeMetricFamily(
            "credithub_repairs_overdue",
            "Open repairs past their due day",
            dashboard.overdue(session, Repair, _OFFICE),
        )
