"""`convoflow workflows export ID` and `convoflow workflows import FILE --workspace-id N` (WF-IO-01..07),
run in-process with typer's CliRunner on a SQLite file of a temporary data directory."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from convoflow.accounts import users
from convoflow.audit.models import AuditEntry
from convoflow.bootstrap import build_container
from convoflow.cli import app
from convoflow.db import migrate
from convoflow.settings import PasswordHashing, Settings
from convoflow.workflows import service
from convoflow.workflows.definition import limits
from convoflow.workflows.models import Workflow
from tests.support import seed_world
from tests.workflows.io_support import (
    export_file,
    file_bytes,
    full_definition,
    http_definition,
    make_workflow,
    seed_objects,
)

FAST_HASHING = PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No CONVOFLOW_* variable of the developer's leaks in; the commands' logging set-up is undone."""
    for name in list(os.environ):
        if name.startswith("CONVOFLOW_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def error_lines(result: Result) -> list[str]:
    """Standard error from the "Error:" line on (the schema check logs before it)."""
    lines = result.stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Error: ")), len(lines))
    return lines[start:]


@dataclass
class Setup:
    data_dir: Path
    workspace_id: int
    other_workspace_id: int
    workflow_id: int
    http_workflow_id: int
    manager_id: int
    manager_email: str
    agent_email: str
    owner_id: int

    def __call__(self, *args: str) -> Result:
        env = {"CONVOFLOW_DATA_DIR": str(self.data_dir)}
        return CliRunner().invoke(app, list(args), env=env)

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, password_hashing=FAST_HASHING)

    def query(self, statement: Any) -> Any:
        container = build_container(self.settings())
        try:
            with container.db.session() as session:
                return session.execute(statement).all()
        finally:
            container.close()

    def workflows(self, workspace_id: int) -> list[Workflow]:
        rows = self.query(select(Workflow).where(Workflow.workspace_id == workspace_id).order_by(Workflow.id))
        return [row[0] for row in rows]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    """Two workspaces; the first has the named objects, a full workflow and one with secret headers."""
    data_dir = tmp_path / "data"
    container = build_container(Settings(data_dir=data_dir, password_hashing=FAST_HASHING))
    try:
        migrate.upgrade(container.db.engine)
        session: Session
        with container.db.session() as session:
            world = seed_world(session, container.hasher)
            other = seed_world(session, container.hasher, name="Destino")
            objects = seed_objects(session, world)
            workflow = make_workflow(session, objects.owner, full_definition(objects), name="Mi flujo")
            secret = make_workflow(
                session,
                objects.owner,
                http_definition([{"name": "Authorization", "value": "Bearer s3cr3t"}]),
                name="Con secreto",
            )
            return Setup(
                data_dir,
                world.workspace.id,
                other.workspace.id,
                workflow.id,
                secret.id,
                world.manager.id,
                world.manager.email,
                world.agent.email,
                world.owner.id,
            )
    finally:
        container.close()


def test_export_writes_name_json_by_default(setup: Setup, tmp_path: Path) -> None:  # WF-IO-01
    result = setup("workflows", "export", str(setup.workflow_id))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Wrote Mi flujo.json"
    document = json.loads((tmp_path / "Mi flujo.json").read_text(encoding="utf-8"))
    assert list(document) == ["format", "formatVersion", "exportedAt", "workflow"]
    assert (document["format"], document["formatVersion"]) == ("convoflow.workflow", 1)
    assert list(document["workflow"]) == ["name", "description", "settings", "trigger", "root", "steps"]
    assert document["workflow"]["name"] == "Mi flujo"
    assert document["workflow"]["steps"][0]["config"]["text"] == "Hola $contact.firstname 👋"  # UTF-8 kept


def test_export_to_a_file_or_to_standard_output(setup: Setup, tmp_path: Path) -> None:  # WF-IO-01
    target = tmp_path / "out" / "flujo.json"
    target.parent.mkdir()
    written = setup("workflows", "export", str(setup.workflow_id), "--output", str(target))
    assert written.exit_code == 0, written.output
    printed = setup("workflows", "export", str(setup.workflow_id), "--output", "-")
    assert printed.exit_code == 0, printed.output
    from_file, from_stdout = json.loads(target.read_text(encoding="utf-8")), json.loads(printed.stdout)
    assert from_file["workflow"] == from_stdout["workflow"]
    assert from_stdout["workflow"]["trigger"]["type"] == "contact_tag_updated"
    assert from_stdout["workflow"]["trigger"]["config"]["tags"][0]["key"] == "vip"  # WF-IO-02


def test_export_leaves_secrets_out(setup: Setup) -> None:  # WF-IO-03
    result = setup("workflows", "export", str(setup.http_workflow_id), "--output", "-")
    assert result.exit_code == 0, result.output
    assert "s3cr3t" not in result.stdout
    headers = json.loads(result.stdout)["workflow"]["steps"][0]["config"]["headers"]
    assert headers == [{"name": "Authorization", "value": "", "secret": None}]


def test_export_errors(setup: Setup) -> None:  # WF-GEN-01
    missing = setup("workflows", "export", "999999")
    assert missing.exit_code == 1 and error_lines(missing) == ["Error: Workflow not found"]
    as_agent = setup("workflows", "export", str(setup.workflow_id), "--as", setup.agent_email)
    assert as_agent.exit_code == 1 and error_lines(as_agent) == [
        "Error: This action needs the Owner or Manager role"
    ]
    stranger = setup("workflows", "export", str(setup.workflow_id), "--as", "nobody@example.com")
    assert stranger.exit_code == 1 and error_lines(stranger) == [
        "Error: No such active member in this workspace"
    ]
    assert not list(Path.cwd().glob("*.json"))


def test_import_creates_a_draft_in_the_workspace(setup: Setup, tmp_path: Path) -> None:  # WF-IO-04..07
    assert setup("workflows", "export", str(setup.workflow_id)).exit_code == 0
    result = setup(
        "workflows", "import", str(tmp_path / "Mi flujo.json"), "--workspace-id", str(setup.workspace_id)
    )
    assert result.exit_code == 0, result.output
    created = setup.workflows(setup.workspace_id)[-1]
    assert result.stdout.strip() == f"Imported 'Mi flujo (imported)' as draft workflow {created.id}."
    original = setup.workflows(setup.workspace_id)[0]
    assert (created.name, created.state, created.created_by) == (
        "Mi flujo (imported)",
        "draft",
        setup.owner_id,
    )
    assert created.import_report == []
    exported = json.loads((tmp_path / "Mi flujo.json").read_text(encoding="utf-8"))["workflow"]
    assert created.draft == {"schemaVersion": 1, **{k: exported[k] for k in ("trigger", "root", "steps")}}
    assert [s["type"] for s in created.draft["steps"]] == [s["type"] for s in original.draft["steps"]]
    audit = setup.query(
        select(AuditEntry.action, AuditEntry.actor_id).where(AuditEntry.target_id == created.id)
    )
    assert [tuple(row) for row in audit] == [("imported", setup.owner_id)]


def test_import_as_a_chosen_member(setup: Setup, tmp_path: Path) -> None:  # audit: the importer
    path = tmp_path / "f.json"
    path.write_bytes(file_bytes(export_file("Del gerente", {"trigger": None, "root": None, "steps": []})))
    result = setup(
        "workflows",
        "import",
        str(path),
        "--workspace-id",
        str(setup.workspace_id),
        "--as",
        setup.manager_email,
    )
    assert result.exit_code == 0, result.output
    assert setup.workflows(setup.workspace_id)[-1].created_by == setup.manager_id
    refused = setup(
        "workflows", "import", str(path), "--workspace-id", str(setup.workspace_id), "--as", setup.agent_email
    )
    assert refused.exit_code == 1 and error_lines(refused) == [
        "Error: This action needs the Owner or Manager role"
    ]
    assert [w.name for w in setup.workflows(setup.workspace_id)].count("Del gerente (imported)") == 0


def test_import_into_another_workspace_lists_what_was_stripped(
    setup: Setup, tmp_path: Path
) -> None:  # WF-IO-05/06
    assert setup("workflows", "export", str(setup.workflow_id)).exit_code == 0
    result = setup(
        "workflows",
        "import",
        str(tmp_path / "Mi flujo.json"),
        "--workspace-id",
        str(setup.other_workspace_id),
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    created = setup.workflows(setup.other_workspace_id)[-1]
    assert lines[0] == f"Imported 'Mi flujo' as draft workflow {created.id}."
    assert set(lines[1:]) == {
        "  stripped: step 'Trigger' config.tags[0] (vip)",
        "  stripped: step 'Saludo' config.channel (Web Chat)",
        "  stripped: step 'Asignar' config.user (Mario Pérez)",
        "  stripped: step 'Equipo' config.team (Ventas)",
        "  stripped: step 'Ciudad' config.rows[0].field (city)",
        "  stripped: step 'Cerrar' config.category (Resuelto)",
    }
    assert created.import_report is not None and len(created.import_report) == 6


def test_a_bad_file_lists_every_problem_and_creates_nothing(setup: Setup, tmp_path: Path) -> None:  # WF-IO-04
    path = tmp_path / "roto.json"
    steps = [
        {"key": "s1", "name": "A", "type": "teleport"},
        {"key": "s2", "name": "B", "type": "wait", "config": {"amount": "many"}},
    ]
    path.write_bytes(file_bytes(export_file("Roto", {"trigger": None, "root": "s1", "steps": steps})))
    before = len(setup.workflows(setup.workspace_id))
    result = setup("workflows", "import", str(path), "--workspace-id", str(setup.workspace_id))
    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 3
    assert lines[0] == "Error: The workflow file has 2 problems; nothing was imported"
    assert "Unknown step type 'teleport'" in lines[1] and "'stepKey': 's1'" in lines[1]
    assert "'field': 'config.amount'" in lines[2]
    assert len(setup.workflows(setup.workspace_id)) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "Error: The file is not valid JSON"),
        (b" " * (limits.IMPORT_MAX_BYTES + 1), "Error: A workflow file is at most 400 KB"),
    ],
)
def test_unreadable_files_are_refused(
    setup: Setup, tmp_path: Path, content: bytes, message: str
) -> None:  # WF-IO-04
    path = tmp_path / "malo.json"
    path.write_bytes(content)
    before = len(setup.workflows(setup.workspace_id))
    result = setup("workflows", "import", str(path), "--workspace-id", str(setup.workspace_id))
    assert result.exit_code == 1 and error_lines(result)[0].startswith(message)
    assert len(setup.workflows(setup.workspace_id)) == before


def test_import_needs_an_existing_file_and_workspace(setup: Setup, tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    path.write_bytes(file_bytes(export_file("Ok", {"steps": []})))
    missing_file = setup(
        "workflows", "import", str(tmp_path / "nope.json"), "--workspace-id", str(setup.workspace_id)
    )
    assert missing_file.exit_code == 2
    no_option = setup("workflows", "import", str(path))
    assert no_option.exit_code == 2 and "--workspace-id" in no_option.output
    unknown = setup("workflows", "import", str(path), "--workspace-id", "999999")
    assert unknown.exit_code == 1 and error_lines(unknown) == ["Error: Workspace not found"]
    count = setup.query(select(func.count()).select_from(Workflow).where(Workflow.name == "Ok"))
    assert count[0][0] == 0


def test_export_on_a_fresh_data_directory_is_a_clear_error(tmp_path: Path) -> None:  # WF-IO-01
    fresh = Setup(tmp_path / "fresh", 0, 0, 0, 0, 0, "", "", 0)
    result = fresh("workflows", "export", "1")
    assert result.exit_code == 1 and error_lines(result) == ["Error: Workflow not found"]


def test_export_to_an_unwritable_place_is_a_clear_error(setup: Setup, tmp_path: Path) -> None:  # WF-IO-01
    target = tmp_path / "missing-dir" / "f.json"
    result = setup("workflows", "export", str(setup.workflow_id), "--output", str(target))
    assert result.exit_code == 1
    assert error_lines(result)[0].startswith(f"Error: cannot write {target}")
    assert not target.exists()


def test_export_keeps_unicode_names_and_replaces_unsafe_characters(setup: Setup, tmp_path: Path) -> None:
    # WF-IO-01: `<name>.json`
    container = build_container(setup.settings())
    try:
        with container.db.session() as session:
            owner = users.acting_member(session, workspace_id=setup.workspace_id)
            service.update_details(
                session,
                owner,
                workflow_id=setup.workflow_id,
                name="Bienvenida 🎉 a/b",
                description=None,
                settings=None,
            )
            session.commit()
    finally:
        container.close()
    result = setup("workflows", "export", str(setup.workflow_id))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Wrote Bienvenida 🎉 a_b.json"
    document = json.loads((tmp_path / "Bienvenida 🎉 a_b.json").read_text(encoding="utf-8"))
    assert document["workflow"]["name"] == "Bienvenida 🎉 a/b"
