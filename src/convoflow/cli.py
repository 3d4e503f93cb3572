"""The `convoflow` command: serve, demo, db, users."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from convoflow.accounts import users, workspaces
from convoflow.accounts.principal import Role
from convoflow.api.app import create_app
from convoflow.bootstrap import Container, build_container
from convoflow.db import migrate
from convoflow.db.engine import is_sqlite
from convoflow.demo import OWNER_EMAIL, create_demo, ensure_webchat, find_demo, reset_owner_password
from convoflow.errors import ConvoflowError
from convoflow.observability import configure_logging
from convoflow.settings import Settings
from convoflow.validators import clean_name
from convoflow.worker.janitor import run_janitor
from convoflow.workflows import service as workflow_service
from convoflow.workflows import transfer
from convoflow.workflows.definition import limits

app = typer.Typer(
    help="convoflow: omnichannel customer messaging with durable workflows.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
AsMember = Annotated[str | None, typer.Option("--as", help="Act as this member's email (default: an Owner)")]
workflows_app = typer.Typer(help="Workflow files.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(workflows_app, name="workflows")


@contextmanager
def _container() -> Iterator[Container]:
    """The composition root for one command; its database connections are closed when it ends."""
    try:
        settings = Settings()
    except ValidationError as exc:
        typer.echo(f"Invalid configuration (CONVOFLOW_* environment variables):\n{exc}", err=True)
        raise typer.Exit(code=2) from None
    configure_logging(settings.log_level, settings.log_format)
    container = build_container(settings)
    try:
        yield container
    finally:
        container.close()


def _prepare_schema(container: Container) -> None:
    """SQLite upgrades itself on start; PostgreSQL deployments run `convoflow db upgrade` once per release."""
    engine = container.db.engine
    if is_sqlite(container.settings.resolved_database_url()):
        migrate.upgrade(engine)
    elif not migrate.is_current(engine):
        typer.echo("The database schema is not current: run `convoflow db upgrade` first.", err=True)
        raise typer.Exit(code=1)


async def _run_engine(container: Container) -> None:
    """The workflow engine's threads, for as long as the server runs."""
    engine = container.engine()
    engine.start()
    try:
        await asyncio.Event().wait()
    finally:
        await asyncio.to_thread(engine.stop)


def _serve(
    container: Container,
    host: str | None,
    port: int | None,
    *,
    worker: bool = True,
    demo_widget_key: str | None = None,
) -> None:
    loops = [lambda: run_janitor(container.db)] + ([lambda: _run_engine(container)] if worker else [])
    application = create_app(container, background=loops, demo_widget_key=demo_widget_key)
    uvicorn.run(
        application,
        host=host or container.settings.host,
        port=port or container.settings.port,
        log_config=None,
        proxy_headers=True,
    )


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address (default CONVOFLOW_HOST or 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default CONVOFLOW_PORT or 8000)")] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="API only; run `convoflow worker` processes for the engine")
    ] = False,
) -> None:
    """Serve the API with the workflow engine and background work in one process."""
    with _container() as container:
        _prepare_schema(container)
        _serve(container, host, port, worker=not no_worker)


@app.command()
def worker(
    poll: Annotated[float, typer.Option(help="Seconds between polls when idle")] = 1.0,
    lease: Annotated[
        float, typer.Option(help="Seconds a claim lasts; a crashed worker's work is taken over after it")
    ] = 30.0,
) -> None:
    """Run the workflow engine only (contact worker, timers, outbox relay); stop with Ctrl-C or SIGTERM."""
    with _container() as container:
        _prepare_schema(container)
        engine = container.engine(poll_seconds=poll, lease_seconds=lease)
        stopped = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopped.set())
        engine.start()
        typer.echo(f"convoflow worker {engine.name} running")
        stopped.wait()
        engine.stop()


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Create the demo data and exit")] = False,
) -> None:
    """Create the demo workspace (once), print a fresh Owner login, then serve."""
    with _container() as container:
        _prepare_schema(container)
        with container.db.session() as session:
            try:
                workspace = find_demo(session)
                if workspace is None:
                    login = create_demo(session, container.hasher)
                    email, password, workspace = login.email, login.password, login.workspace
                    typer.echo(
                        "Created the demo workspace: 4 users, 2 teams, 50 contacts, 8 conversations, "
                        "a Web Chat channel and its welcome workflow."
                    )
                else:
                    email, password = OWNER_EMAIL, reset_owner_password(session, container.hasher)
                widget_key = ensure_webchat(session, workspace).token
                session.commit()
            except ConvoflowError as exc:
                typer.echo(f"Error: {exc.message}", err=True)
                raise typer.Exit(code=1) from None
        url = f"http://{host or container.settings.host}:{port or container.settings.port}"
        typer.echo(f"\n  convoflow demo at {url}  (API docs: {url}/docs)")
        typer.echo(f"  Chat with the demo workflows: {url}/demo")
        typer.echo(f"  Owner login: {email} / {password}\n")
        if not no_serve:
            _serve(container, host, port, demo_widget_key=widget_key)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    with _container() as container:
        migrate.upgrade(container.db.engine, revision)
        typer.echo(f"Schema at {migrate.current_revision(container.db.engine)}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base")]) -> None:
    """Revert migrations down to REVISION."""
    with _container() as container:
        migrate.downgrade(container.db.engine, revision)
        typer.echo(f"Schema at {migrate.current_revision(container.db.engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision and whether it is the newest."""
    with _container() as container:
        engine = container.db.engine
        current = migrate.current_revision(engine)
        state = "current" if migrate.is_current(engine) else f"behind {migrate.head_revision(engine)}"
        typer.echo(f"{current} ({state})")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Sign-in email")],
    first_name: Annotated[str, typer.Option(help="First name")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    last_name: Annotated[str, typer.Option(help="Last name")] = "",
    workspace: Annotated[
        str | None, typer.Option(help="Create a new workspace with this name, owned by the user")
    ] = None,
    workspace_id: Annotated[int | None, typer.Option(help="Add the user to this existing workspace")] = None,
    role: Annotated[str, typer.Option(help="Role in --workspace-id: owner, manager or agent")] = "agent",
) -> None:
    """Create a user, with a new workspace (as Owner) or in an existing one."""
    if (workspace is None) == (workspace_id is None):
        typer.echo("Give exactly one of --workspace or --workspace-id.", err=True)
        raise typer.Exit(code=2)
    if role not in ("owner", "manager", "agent"):
        typer.echo("--role must be owner, manager or agent.", err=True)
        raise typer.Exit(code=2)
    # The same rules as the API's PersonName, OptionalPersonName and Name100.
    first_name = _checked("--first-name", first_name, field="first name", min_length=1)
    last_name = _checked("--last-name", last_name, field="last name", min_length=0)
    if workspace is not None:
        workspace = _checked("--workspace", workspace, field="workspace name", min_length=1)
    with _container() as container:
        _prepare_schema(container)
        with container.db.session() as session:
            try:
                user = users.create_user(
                    session,
                    email=email,
                    first_name=first_name,
                    last_name=last_name,
                    password=password,
                    hasher=container.hasher,
                )
                if workspace is not None:
                    created = workspaces.create_workspace(session, name=workspace, owner_user_id=user.id)
                    target, target_role = created.id, "owner"
                else:
                    assert workspace_id is not None
                    workspaces.get_workspace(session, workspace_id)
                    users.add_member(session, workspace_id=workspace_id, user_id=user.id, role=_role(role))
                    target, target_role = workspace_id, role
                session.commit()
            except ConvoflowError as exc:
                typer.echo(f"Error: {exc.message}", err=True)
                raise typer.Exit(code=1) from None
    typer.echo(f"Created user {user.email} (id {user.id}) as {target_role} of workspace {target}.")


def _checked(option: str, value: str, *, field: str, min_length: int) -> str:
    try:
        return clean_name(value, field=field, max_length=100, min_length=min_length)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _role(value: str) -> Role:
    if value == "owner":
        return "owner"
    return "manager" if value == "manager" else "agent"


@workflows_app.command("export")
def workflows_export(
    workflow_id: Annotated[int, typer.Argument(help="Id of the workflow")],
    output: Annotated[
        Path | None, typer.Option(help="File to write; '-' for standard output; default <name>.json")
    ] = None,
    as_email: Annotated[
        str | None, typer.Option("--as", help="Act as this member (default: an Owner)")
    ] = None,
) -> None:
    """Export a workflow as a JSON file (WF-IO-01), secrets left out."""
    with _container() as container:
        _prepare_schema(container)
        with container.db.session(readonly=True) as session:
            try:
                workspace_id = workflow_service.workspace_of(session, workflow_id)
                principal = users.acting_member(session, workspace_id=workspace_id, email=as_email)
                filename, document = transfer.export_document(session, principal, workflow_id=workflow_id)
            except ConvoflowError as exc:
                typer.echo(f"Error: {exc.message}", err=True)
                raise typer.Exit(code=1) from None
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if output is not None and str(output) == "-":
        typer.echo(text, nl=False)
        return
    target = output or Path(filename)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"Error: cannot write {target}: {exc.strerror or exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Wrote {target}")


@workflows_app.command("import")
def workflows_import(
    file: Annotated[Path, typer.Argument(help="An exported workflow file", exists=True, dir_okay=False)],
    workspace_id: Annotated[int, typer.Option(help="Workspace to import into")],
    as_email: Annotated[
        str | None, typer.Option("--as", help="Act as this member (default: an Owner)")
    ] = None,
) -> None:
    """Import a workflow file as a new Draft; references the workspace lacks are stripped and listed."""
    try:
        with file.open("rb") as handle:
            raw = handle.read(limits.IMPORT_MAX_BYTES + 1)  # enough to tell a file that is too large
    except OSError as exc:
        typer.echo(f"Error: cannot read {file}: {exc.strerror or exc}", err=True)
        raise typer.Exit(code=1) from None
    with _container() as container:
        _prepare_schema(container)
        with container.db.session() as session:
            try:
                principal = users.acting_member(session, workspace_id=workspace_id, email=as_email)
                imported = transfer.import_file(session, principal, raw=raw)
                session.commit()
            except ConvoflowError as exc:
                typer.echo(f"Error: {exc.message}", err=True)
                for detail in exc.details if isinstance(exc.details, list) else []:
                    typer.echo(f"  {detail}", err=True)
                raise typer.Exit(code=1) from None
    workflow = imported.workflow
    typer.echo(f"Imported {workflow.name!r} as draft workflow {workflow.id}.")
    for stripped in imported.stripped:
        typer.echo(f"  stripped: step {stripped.step_name!r} {stripped.setting} ({stripped.label})")
