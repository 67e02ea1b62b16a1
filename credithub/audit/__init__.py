"""Audit trail (审计): who did what, when, to which object; append-only and hash-chained."""

from credithub.audit.service import record, verify

__all__ = ["record", "verify"]
