"""The `convoflow` command line, run in-process with typer's CliRunner against a temporary data directory."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.core import TyperGroup
from typer.testing import CliRunner, Result

from convoflow.accounts.models import Membership, User, Workspace
from convoflow.api.app import create_app
from convoflow.bootstrap import Container, build_container
from convoflow.cli import app
from convoflow.contacts.models import Contact, LifecycleStage
from convoflow.db import migrate
from convoflow.db.engine import build_engine
from convoflow.demo import OWNER_EMAIL
from convoflow.settings import PasswordHashing, Settings

FAST_HASHING = PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)
PASSWORD = "correct horse battery"
HEAD = migrate.head_revision(build_engine("sqlite://"))


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


class Cli:
    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        self.data_dir = data_dir
        self.env = {
            "CONVOFLOW_DATA_DIR": str(data_dir),
            "CONVOFLOW_PASSWORD_HASHING__TIME_COST": "1",
            "CONVOFLOW_PASSWORD_HASHING__MEMORY_KIB": "8",
            "CONVOFLOW_PASSWORD_HASHING__PARALLELISM": "1",
        }
        if database_url is not None:
            self.env["CONVOFLOW_DATABASE_URL"] = database_url
        self.url = database_url or f"sqlite:///{(data_dir / 'convoflow.db').resolve()}"

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(app, list(args), env={**self.env, **(env or {})}, input=input)

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.url, password_hashing=FAST_HASHING)

    def query(self, statement: Any) -> Any:
        engine = create_engine(self.url)
        try:
            with Session(engine) as session:
                return session.execute(statement).all()
        finally:
            engine.dispose()

    def count(self, model: Any) -> int:
        return int(self.query(select(func.count()).select_from(model))[0][0])

    @contextmanager
    def container(self) -> Iterator[Container]:
        """The container the commands build from the same environment."""
        built = build_container(self.settings())
        try:
            yield built
        finally:
            built.close()

    def tables(self) -> set[str]:
        engine = create_engine(self.url)
        try:
            return set(inspect(engine).get_table_names())
        finally:
            engine.dispose()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data")


def _users_create(cli: Cli, **options: str) -> Result:
    values = {"email": "olga@example.com", "first_name": "Olga", "password": PASSWORD, **options}
    return cli("users", "create", *[p for k, v in values.items() for p in (f"--{k.replace('_', '-')}", v)])


def _create_owner(cli: Cli, email: str = "olga@example.com", workspace: str = "Acme") -> Result:
    result = _users_create(cli, email=email, workspace=workspace)
    assert result.exit_code == 0, result.output
    return result


# --- help ----------------------------------------------------------------------------------------------


def _all_command_paths(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from _all_command_paths(sub, (*path, name))


def test_every_command_has_help(cli: Cli) -> None:
    root = typer.main.get_command(app)
    paths = list(_all_command_paths(root))
    assert {" ".join(p) for p in paths} >= {
        "", "serve", "demo", "db", "db upgrade", "db downgrade", "db current", "users", "users create",
    }  # fmt: skip
    for path in paths:
        result = cli(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        command: Any = root
        for name in path:
            assert isinstance(command, TyperGroup)
            command = command.commands[name]
        assert command.help, f"`convoflow {' '.join(path)}` has no help text"
        assert command.help.splitlines()[0].strip() in " ".join(result.output.split())
    assert not cli.data_dir.exists()  # --help touches nothing


def test_bare_groups_show_their_help(cli: Cli) -> None:
    result = cli("db")
    assert "upgrade" in result.output and "downgrade" in result.output and "current" in result.output


# --- db ------------------------------------------------------------------------------------------------


def test_db_upgrade_current_and_downgrade(cli: Cli) -> None:
    current = cli("db", "current")
    assert current.exit_code == 0, current.output
    assert current.stdout.strip() == f"None (behind {HEAD})"
    assert cli.data_dir.is_dir()  # created on first start

    upgraded = cli("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"Schema at {HEAD}" in upgraded.stdout
    assert {"users", "workspaces", "contacts", "events"} <= cli.tables()
    assert cli("db", "current").stdout.strip() == f"{HEAD} (current)"

    downgraded = cli("db", "downgrade", "base")
    assert downgraded.exit_code == 0, downgraded.output
    assert "Schema at None" in downgraded.stdout
    assert cli.tables() == {"alembic_version"}
    assert cli("db", "current").stdout.strip() == f"None (behind {HEAD})"


def test_db_downgrade_needs_a_target(cli: Cli) -> None:
    result = cli("db", "downgrade")
    assert result.exit_code == 2
    assert "Missing argument" in result.output
    assert not cli.data_dir.exists()


def test_invalid_configuration_is_reported_without_a_traceback(cli: Cli) -> None:
    result = cli("db", "current", env={"CONVOFLOW_SQLITE_SYNCHRONOUS": "sometimes"})
    assert result.exit_code == 2
    assert "Invalid configuration" in result.stderr and "sqlite_synchronous" in result.stderr
    assert not cli.data_dir.exists()


# --- users create --------------------------------------------------------------------------------------


def test_users_create_with_a_new_workspace_makes_an_owner(cli: Cli) -> None:  # CRM-WS-03
    result = _create_owner(cli, email=" Olga@Example.COM ", workspace="  Acme Ibérica ")

    assert re.search(r"Created user olga@example\.com \(id \d+\) as owner of workspace \d+\.", result.stdout)
    ((user, workspace, role),) = cli.query(
        select(User, Workspace, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .join(Workspace, Workspace.id == Membership.workspace_id)
    )
    assert (user.email, user.first_name, user.last_name) == ("olga@example.com", "Olga", "")
    assert (workspace.name, workspace.timezone, role) == ("Acme Ibérica", "UTC", "owner")
    assert cli.count(LifecycleStage) == 5  # the new workspace's default stages (CRM-LIFE-01)
    with cli.container() as container:
        assert container.hasher.verify(user.password_hash, PASSWORD)
        assert not container.hasher.verify(user.password_hash, "wrong password")


def test_users_create_in_an_existing_workspace_with_a_role(cli: Cli) -> None:
    _create_owner(cli)
    (workspace_id,) = cli.query(select(Workspace.id))[0]

    manager = _users_create(
        cli,
        email="mario@example.com",
        first_name="Mario",
        last_name="Rossi",
        workspace_id=str(workspace_id),
        role="manager",
    )
    agent = _users_create(cli, email="aida@example.com", first_name="Aida", workspace_id=str(workspace_id))

    assert manager.exit_code == 0, manager.output
    assert f"as manager of workspace {workspace_id}." in manager.stdout
    assert agent.exit_code == 0, agent.output
    assert f"as agent of workspace {workspace_id}." in agent.stdout  # the default role
    rows = cli.query(
        select(User.email, User.last_name, Membership.role, Membership.workspace_id)
        .join(Membership, Membership.user_id == User.id)
        .order_by(User.id)
    )
    assert [tuple(r) for r in rows] == [
        ("olga@example.com", "", "owner", workspace_id),
        ("mario@example.com", "Rossi", "manager", workspace_id),
        ("aida@example.com", "", "agent", workspace_id),
    ]
    assert cli.count(Workspace) == 1


def test_users_create_asks_for_the_password_twice_when_not_given(cli: Cli) -> None:
    result = cli(
        "users", "create", "--email", "olga@example.com", "--first-name", "Olga", "--workspace", "Acme",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input
    ((password_hash,),) = cli.query(select(User.password_hash))
    with cli.container() as container:
        assert container.hasher.verify(password_hash, PASSWORD)


def test_duplicate_email_fails_with_exit_1_and_stores_nothing(cli: Cli) -> None:
    _create_owner(cli)
    result = _users_create(cli, email="OLGA@example.com", first_name="Other", workspace="Second")
    assert result.exit_code == 1
    assert "Error: A user with this email already exists" in result.stderr
    assert cli.count(User) == 1
    assert [name for (name,) in cli.query(select(Workspace.name))] == ["Acme"]


def test_unknown_workspace_id_fails_and_stores_no_user(cli: Cli) -> None:
    _create_owner(cli)
    result = _users_create(cli, email="x@example.com", workspace_id="999")
    assert result.exit_code == 1
    assert "Error: Workspace not found" in result.stderr
    assert [email for (email,) in cli.query(select(User.email))] == ["olga@example.com"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"email": "not-an-email"}, "not a valid email address"),
        ({"password": "short"}, "at least 8 characters"),
    ],
)
def test_invalid_email_or_password_fails_and_stores_nothing(
    cli: Cli, options: dict[str, str], message: str
) -> None:
    result = _users_create(cli, workspace="Acme", **options)
    assert result.exit_code == 1
    assert message in result.stderr
    assert cli.count(User) == 0 and cli.count(Workspace) == 0


@pytest.mark.parametrize("choice", [{}, {"workspace": "Acme", "workspace_id": "1"}], ids=["neither", "both"])
def test_workspace_and_workspace_id_exclusive_and_one_required(cli: Cli, choice: dict[str, str]) -> None:
    result = _users_create(cli, **choice)
    assert result.exit_code == 2
    assert "Give exactly one of --workspace or --workspace-id." in result.stderr
    assert not cli.data_dir.exists()  # refused before touching the database


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"role": "admin", "workspace_id": "1"}, "--role must be owner, manager or agent."),
        ({"workspace": "Acme", "first_name": "   "}, "first name must not be empty"),
        ({"workspace": "Acme", "first_name": "O" * 101}, "first name must be at most 100 characters"),
        ({"workspace": "Acme", "last_name": "Ow\x1bner"}, "last name must not contain control characters"),
        ({"workspace": " "}, "workspace name must not be empty"),
    ],
)
def test_invalid_options_are_usage_errors(cli: Cli, options: dict[str, str], message: str) -> None:
    result = _users_create(cli, **options)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert not cli.data_dir.exists()


# --- schema check at start -----------------------------------------------------------------------------


def test_sqlite_upgrades_itself_and_postgresql_refuses_an_old_schema(db_url: str, tmp_path: Path) -> None:
    engine = build_engine(db_url)
    migrate.downgrade(engine, "base")
    cli = Cli(tmp_path / "data", database_url=db_url)
    try:
        result = _users_create(cli, workspace="Acme")
        if make_url(db_url).get_backend_name() == "sqlite":
            assert result.exit_code == 0, result.output
            assert migrate.current_revision(engine) == HEAD
            assert cli.count(User) == 1
        else:
            assert result.exit_code == 1
            assert "The database schema is not current: run `convoflow db upgrade` first." in result.stderr
            assert migrate.current_revision(engine) is None
            assert cli("db", "upgrade").exit_code == 0
            assert _users_create(cli, workspace="Acme").exit_code == 0
            assert cli.count(User) == 1
    finally:
        migrate.upgrade(engine)
        engine.dispose()


# --- demo ----------------------------------------------------------------------------------------------

_LOGIN = re.compile(r"Owner login: (\S+) / (\S+)")


def _printed_login(result: Result) -> tuple[str, str]:
    assert result.exit_code == 0, result.output
    match = _LOGIN.search(result.stdout)
    assert match is not None, result.stdout
    return match.group(1), match.group(2)


def _signs_in(cli: Cli, email: str, password: str) -> bool:
    with cli.container() as container, TestClient(create_app(container)) as client:
        response = client.post("/api/auth/login", json={"email": email, "password": password})
        if response.status_code != 200:
            return False
        return bool(response.json()["workspace"]["name"] == "Demo")


def test_demo_no_serve_creates_the_demo_once_and_prints_a_fresh_working_login(cli: Cli) -> None:
    first = cli("demo", "--no-serve")
    email, password = _printed_login(first)
    assert "Created the demo workspace: 4 users, 2 teams, 50 contacts, 8 conversations" in first.stdout
    assert "Chat with the demo workflows: http://127.0.0.1:8000/demo" in first.stdout
    assert "convoflow demo at http://127.0.0.1:8000" in first.stdout
    assert email == OWNER_EMAIL
    assert _signs_in(cli, email, password)
    counts = {model.__name__: cli.count(model) for model in (Workspace, User, Membership, Contact)}
    assert counts == {"Workspace": 1, "User": 4, "Membership": 4, "Contact": 50}

    second = cli("demo", "--no-serve", "--port", "9001")
    email_again, new_password = _printed_login(second)
    assert "Created the demo workspace" not in second.stdout
    assert "http://127.0.0.1:9001" in second.stdout
    assert (email_again, new_password != password) == (OWNER_EMAIL, True)
    assert _signs_in(cli, email_again, new_password)
    assert not _signs_in(cli, email, password)
    assert {model.__name__: cli.count(model) for model in (Workspace, User, Membership, Contact)} == counts


def test_demo_does_not_mistake_a_users_own_demo_workspace_for_the_demo(cli: Cli) -> None:
    _create_owner(cli, workspace="Demo")  # takes the slug "demo"
    email, password = _printed_login(cli("demo", "--no-serve"))
    assert _signs_in(cli, email, password)
    assert cli.count(Workspace) == 2
