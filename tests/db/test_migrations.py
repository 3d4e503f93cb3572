"""Migrations: the migrated schema is exactly the models' schema, and it goes down and up cleanly."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from convoflow.accounts.passwords import PasswordHasher
from convoflow.db import migrate
from convoflow.db.engine import build_engine
from convoflow.db.models import Base
from convoflow.db.session import Database
from convoflow.settings import PasswordHashing
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_contact, make_user, make_workspace


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    built = build_engine(db_url)
    yield built
    built.dispose()


def _drift(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff: list[Any] = compare_metadata(context, Base.metadata)
    return diff


def test_migrated_schema_equals_the_models(engine: Engine) -> None:
    head = migrate.head_revision(engine)
    assert head is not None
    assert migrate.current_revision(engine) == head
    assert _drift(engine) == []


def test_migrations_form_one_line_from_0001_to_the_head(engine: Engine) -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config(engine))
    head = migrate.head_revision(engine)
    assert scripts.get_heads() == [head]
    newest_first = list(scripts.walk_revisions())
    # One line: each revision revises exactly the one before it, down to 0001 which revises nothing.
    assert newest_first[0].revision == head
    assert newest_first[-1].revision == "0001"
    assert newest_first[-1].down_revision is None
    for later, earlier in itertools.pairwise(newest_first):
        assert later.down_revision == earlier.revision
    assert "0002" in {rev.revision for rev in newest_first}  # workflows, versions and audit_log


def _user_relations(conn: Connection) -> set[str]:
    """Tables, indexes and sequences left in the database, apart from Alembic's version table."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
    else:
        rows = conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema()"
            )
        )
    return {name for (name,) in rows} - {"alembic_version", "pk_alembic_version", "alembic_version_pkc"}


def test_upgrade_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    tables = {t.name for t in Base.metadata.sorted_tables}
    try:
        with engine.begin() as conn:  # data in the tables must not stop the downgrade
            conn.execute(
                text(
                    "INSERT INTO users (email, first_name, last_name, password_hash, presence, created_at) "
                    "VALUES ('a@example.com', 'A', '', 'x', 'offline', '2026-01-05 09:00:00')"
                )
            )
            # Rows in the tables of 0002 (workflows, their versions, the audit log) must not stop it either.
            conn.execute(
                text(
                    "INSERT INTO workspaces (slug, name, timezone, settings, created_at) "
                    "VALUES ('acme', 'Acme', 'UTC', '{}', '2026-01-05 09:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO workflows (workspace_id, name, name_norm, description, state, draft, "
                    "revision, settings, created_at, updated_at) SELECT id, 'W', 'w', '', 'published', "
                    "'{}', 1, '{}', '2026-01-05 09:00:00', '2026-01-05 09:00:00' FROM workspaces"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO workflow_versions (workflow_id, number, definition, content_hash, "
                    "published_at) SELECT id, 1, '{}', 'x', '2026-01-05 09:00:00' FROM workflows"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO audit_log (workspace_id, actor_kind, action, target_kind, target_id, "
                    "data, at) SELECT id, 'system', 'created', 'workflow', 1, '{}', "
                    "'2026-01-05 09:00:00' FROM workspaces"
                )
            )

        migrate.downgrade(engine, "base")

        assert migrate.current_revision(engine) is None
        assert not migrate.is_current(engine)
        with engine.connect() as conn:
            assert _user_relations(conn) == set()
    finally:
        migrate.upgrade(engine)

    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    assert migrate.is_current(engine)
    assert set(inspect(engine).get_table_names()) == tables | {"alembic_version"}
    assert _drift(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 0


# --- What autogenerate does not compare ---------------------------------------------------------------
# compare_metadata ignores partial-index WHERE clauses, ON DELETE actions, SQLite AUTOINCREMENT, identity
# columns and server defaults. So the migrated database is also compared, object by object, with a
# database built by Base.metadata.create_all().


def _sqlite_signature(conn: Connection) -> dict[str, Any]:
    rows = conn.execute(
        text(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '%alembic_version%'"
        )
    )
    signature: dict[str, Any] = {}
    for kind, name, sql in rows:
        if kind == "table":
            # create_table() and create_all() emit the same clauses, but constraints in another order.
            head, _, body = sql.partition("(")
            # ALTER TABLE ADD COLUMN appends ", col TYPE" to the stored text: split on top-level commas.
            clauses = {" ".join(clause.split()) for clause in _top_level_split(body.rstrip().rstrip(")"))}
            signature[name] = (head.strip(), frozenset(clauses - {""}))
        else:
            signature[name] = (kind, sql)
    return signature


def _top_level_split(body: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _postgres_signature(conn: Connection) -> dict[str, Any]:
    columns = conn.execute(
        text(
            "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity, "
            "identity_generation, character_maximum_length FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name <> 'alembic_version'"
        )
    ).all()
    constraints = conn.execute(
        text(
            "SELECT cl.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace "
            "WHERE n.nspname = current_schema() AND cl.relname <> 'alembic_version'"
        )
    ).all()
    indexes = conn.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
        )
    ).all()
    return {"columns": set(columns), "constraints": set(constraints), "indexes": set(indexes)}


def _signature(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return _sqlite_signature(conn)
        return _postgres_signature(conn)


@pytest.fixture
def models_engine(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the same kind, for Base.metadata.create_all()."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        built = build_engine(f"sqlite:///{tmp_path / 'models.db'}")
        yield built
        built.dispose()
        return
    name = f"{url.database}_models"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    built = build_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        yield built
    finally:
        built.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrated_database_matches_create_all_object_by_object(engine: Engine, models_engine: Engine) -> None:
    Base.metadata.create_all(models_engine)
    migrated, modelled = _signature(engine), _signature(models_engine)
    assert migrated
    assert migrated == modelled


# --- Later migrations that rebuild a table ---------------------------------------------------------------

_REBUILD_WORKSPACES = """
import sqlalchemy as sa
from alembic import op

revision = "rebuild_test"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot drop NOT NULL in place: batch mode copies the table, drops it and renames the copy.
    with op.batch_alter_table("workspaces") as batch:
        batch.alter_column("timezone", existing_type=sa.String(64), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.alter_column("timezone", existing_type=sa.String(64), nullable=False)
"""


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("workspaces", "memberships", "lifecycle_stages", "contacts", "events")
        }


def test_rebuilding_a_referenced_table_keeps_the_rows_that_reference_it(
    engine: Engine, tmp_path: Path
) -> None:
    db = Database(engine, FakeClock())
    with db.session() as session:
        owner = make_user(session, PasswordHasher(PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)))
        workspace = make_workspace(session, owner=owner)
        make_contact(session, workspace_id=workspace.id, first_name="Lucía")
        session.commit()
    before = _row_counts(engine)
    assert before == {"workspaces": 1, "memberships": 1, "lifecycle_stages": 5, "contacts": 1, "events": 1}

    versions = tmp_path / "versions"
    versions.mkdir()
    head = migrate.head_revision(engine)
    assert head is not None
    (versions / "rebuild_test.py").write_text(_REBUILD_WORKSPACES.replace("{head}", head))
    config = migrate.alembic_config(engine)
    config.set_main_option(
        "version_locations", os.pathsep.join([str(migrate.MIGRATIONS_DIR / "versions"), str(versions)])
    )
    try:
        command.upgrade(config, "rebuild_test")
        assert migrate.current_revision(engine) == "rebuild_test"
        assert _row_counts(engine) == before
    finally:
        command.downgrade(config, head)
    assert migrate.current_revision(engine) == head
    assert _row_counts(engine) == before
    assert _drift(engine) == []
    if engine.dialect.name == "sqlite":
        assert _pragma_foreign_keys(engine) == 1  # switched back on for the pooled connections


def _pragma_foreign_keys(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one())
