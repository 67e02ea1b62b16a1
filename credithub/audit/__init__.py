"""Audit trail (审计): who did what, when, to which object; append-only and hash-chained."""

from credithub.audit.service import record, record_refusal, verify

__all__ = ["record", "record_refusal", "verify"]
