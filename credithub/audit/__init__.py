"""Audit trail (审计): who did what, when, to which object; append-only and hash-chained."""

from credithub.audit.service import entries, record, record_refusal, verify

__all__ = ["entries", "record", "record_refusal", "verify"]
