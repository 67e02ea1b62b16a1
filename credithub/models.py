"""Import every model so Base.metadata knows all tables (migrations and tests use it)."""

from credithub.audit.models import AuditEntry, AuditHead
from credithub.clients.models import Client
from credithub.entities.models import Subject, SubjectIdentifier, SubjectName
from credithub.records.models import ChangeHead, Record, RecordChange

__all__ = [
    "AuditEntry",
    "AuditHead",
    "ChangeHead",
    "Client",
    "Record",
    "RecordChange",
    "Subject",
    "SubjectIdentifier",
    "SubjectName",
]
