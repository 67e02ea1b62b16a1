"""Import every model so Base.metadata knows all tables (migrations and tests use it)."""

from credithub.audit.models import AuditEntry, AuditHead
from credithub.clients.models import Client
from credithub.console.models import ConsoleAccount
from credithub.entities.models import Subject, SubjectIdentifier, SubjectName
from credithub.jobs.models import JobRun, Lease
from credithub.records.models import AuthorityOrigin, ChangeHead, Record, RecordChange
from credithub.reports.models import IssuedReport
from credithub.standing.models import CheckLog, StandingRow
from credithub.sync.models import DeadLetter, SyncState
from credithub.trust.models import HubKey, Quarantined
from credithub.webhooks.models import Watch, Webhook, WebhookAttempt, WebhookEvent
from credithub.workflows.models import Objection, Repair, WorkflowStep

__all__ = [
    "AuditEntry",
    "AuditHead",
    "AuthorityOrigin",
    "ChangeHead",
    "CheckLog",
    "Client",
    "ConsoleAccount",
    "DeadLetter",
    "HubKey",
    "IssuedReport",
    "JobRun",
    "Lease",
    "Objection",
    "Quarantined",
    "Record",
    "RecordChange",
    "Repair",
    "StandingRow",
    "Subject",
    "SubjectIdentifier",
    "SubjectName",
    "SyncState",
    "Watch",
    "Webhook",
    "WebhookAttempt",
    "WebhookEvent",
    "WorkflowStep",
]
