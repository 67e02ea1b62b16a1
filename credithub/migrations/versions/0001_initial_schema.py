"""subjects, clients, audit trail, records and the change log

Revision ID: 0001
Revises:
Create Date: 2026-11-24 11:52:12.468269
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import credithub.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("change_digest", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_object_id"), ["object_id"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "change_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_head")),
    )
    op.create_table(
        "clients",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hint", sa.String(length=12), nullable=False),
        sa.Column("created_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_clients_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_clients_token_hash")),
    )
    op.create_table(
        "subjects",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("org_code", sa.String(length=9), nullable=True),
        sa.Column("uscc_exception", sa.Boolean(), nullable=False),
        sa.Column("id_type", sa.String(length=24), nullable=True),
        sa.Column("id_hash", sa.String(length=64), nullable=True),
        sa.Column("id_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("id_masked", sa.String(length=40), nullable=True),
        sa.Column("created_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_subjects_id_hash")),
        sa.UniqueConstraint("uscc", name=op.f("uq_subjects_uscc")),
    )
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subjects_org_code"), ["org_code"], unique=False)

    op.create_table(
        "records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("legal_rep_id", sa.String(length=32), nullable=True),
        sa.Column("authority_uscc", sa.String(length=18), nullable=False),
        sa.Column("authority_name", sa.String(length=200), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=True),
        sa.Column("publish_until", sa.Date(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.Column("origin_hub", sa.String(length=64), nullable=False),
        sa.Column("origin_id", sa.String(length=64), nullable=False),
        sa.Column("origin_version", sa.Integer(), nullable=False),
        sa.Column("received_from", sa.String(length=100), nullable=True),
        sa.Column("created_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("revoked_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["legal_rep_id"], ["subjects.id"], name=op.f("fk_records_legal_rep_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_records_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint(
            "authority_uscc", "kind", "ref", "subject_id", name="uq_records_natural_key"
        ),
        sa.UniqueConstraint("origin_hub", "origin_id", name="uq_records_origin"),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_records_legal_rep_id"), ["legal_rep_id"], unique=False)
        batch_op.create_index("ix_records_subject_kind", ["subject_id", "kind"], unique=False)

    op.create_table(
        "subject_identifiers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("scheme", sa.String(length=24), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_subject_identifiers_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_identifiers")),
        sa.UniqueConstraint("scheme", "value", name=op.f("uq_subject_identifiers_scheme")),
    )
    with op.batch_alter_table("subject_identifiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_identifiers_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "subject_names",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_subject_names_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_names")),
        sa.UniqueConstraint("subject_id", "name", name=op.f("uq_subject_names_subject_id")),
    )
    op.create_table(
        "record_changes",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=12), nullable=False),
        sa.Column("at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("origin_hub", sa.String(length=64), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_record_changes_record_id_records")
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_record_changes")),
        sa.UniqueConstraint("record_id", "version", name="uq_record_changes_version"),
    )
    _append_only_audit()


def _append_only_audit() -> None:
    """Refuse UPDATE and DELETE on audit entries in the database itself, not only in code."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END;
            $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
            FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_entries_no_{event.lower()} BEFORE {event} ON audit_entries
                BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    op.drop_table("record_changes")
    op.drop_table("subject_names")
    with op.batch_alter_table("subject_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_identifiers_subject_id"))

    op.drop_table("subject_identifiers")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_subject_kind")
        batch_op.drop_index(batch_op.f("ix_records_legal_rep_id"))

    op.drop_table("records")
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subjects_org_code"))

    op.drop_table("subjects")
    op.drop_table("clients")
    op.drop_table("change_head")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_object_id"))

    op.drop_table("audit_entries")
