"""The demo workspace behind `convoflow demo`: people, teams, 50 contacts, conversations, and a Web Chat
channel whose published workflow greets every new visitor of the `/demo` page."""

from __future__ import annotations

import random
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from convoflow.accounts import users, workspaces
from convoflow.accounts.models import Membership, User, Workspace
from convoflow.accounts.passwords import PasswordHasher
from convoflow.accounts.principal import Principal, Restrictions, Role
from convoflow.accounts.workspace_settings import WorkspaceSettings
from convoflow.channels import service as channels
from convoflow.channels.models import Channel
from convoflow.contacts import fields, lifecycle, tags
from convoflow.contacts import service as contacts
from convoflow.contacts.assignment import apply_assignee
from convoflow.contacts.identities import ChannelProfile, link_identity
from convoflow.conversations import closing, comments, messages
from convoflow.conversations import service as conversations
from convoflow.conversations.content import TextContent
from convoflow.db.session import now
from convoflow.errors import NotFound
from convoflow.events.actor import Actor
from convoflow.events.models import Event
from convoflow.teams import service as teams
from convoflow.validators import fold
from convoflow.workflows import service as workflows
from convoflow.workflows.models import Workflow

DEMO_SLUG = "demo"
OWNER_EMAIL = "owner@demo.example.com"
WEBCHAT_NAME = "Web Chat"
WELCOME_WORKFLOW = "Bienvenida Web Chat"
WELCOME_DEFINITION: dict[str, Any] = {
    "trigger": {"type": "conversation_opened", "config": {"sources": ["contact"]}},
    "root": "s1",
    "steps": [
        {
            "key": "s1",
            "name": "Saludo",
            "type": "send_message",
            "config": {"text": "¡Hola! 👋 Soy el asistente de la tienda demo de convoflow."},
            "outputs": {"next": "s2"},
        },
        {
            "key": "s2",
            "name": "Motivo",
            "type": "ask_question",
            "config": {
                "question": "¿En qué podemos ayudarte?",
                "question_type": "multiple_choice",
                "options": ["Ventas", "Soporte", "Solo miro"],
                "save_variable": "motivo",
                "invalid_message": "Elige una de las opciones, por favor.",
                "timeout_seconds": 86400,
            },
            "outputs": {"next": "s3"},
        },
        {
            "key": "s3",
            "name": "Gracias",
            "type": "send_message",
            "config": {
                "text": "Gracias. Has elegido: $var.motivo. Un agente te escribirá por aquí en breve."
            },
            "outputs": {"next": None},
        },
    ],
}

_FIRST = [
    "Lucía",
    "Mateo",
    "Sofía",
    "Hugo",
    "Martina",
    "Leo",
    "Valeria",
    "Daniel",
    "Paula",
    "Pablo",
    "Emma",
    "Álvaro",
    "Julia",
    "Manuel",
    "Carla",
    "Diego",
    "Noa",
    "Adrián",
    "Sara",
    "Javier",
]
_LAST = [
    "García",
    "Fernández",
    "González",
    "Rodríguez",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Díaz",
]
_CITIES = ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Ciudad de México", "Bogotá", "Lima"]
_TAGS = ["vip", "lead", "prioridad-alta", "newsletter", "recurrente"]
_CHATS = [
    ("Hola, ¿tenéis envío a Canarias?", "¡Hola! Sí, enviamos a Canarias en 3-5 días laborables."),
    ("Quiero cambiar mi plan a Pro", "Claro, te envío el enlace para cambiar de plan ahora mismo."),
    ("No me llega el código de verificación", "Lo siento, ¿puedes confirmarme tu email para revisarlo?"),
    ("¿Cuál es el horario de atención?", "Atendemos de lunes a viernes de 9:00 a 18:00."),
    ("Me gustaría hablar con ventas", "Te paso con el equipo de ventas, un momento por favor."),
    ("Gracias por la ayuda 🙌", "¡A ti! Cualquier cosa, aquí estamos."),
    ("¿Hacéis factura con NIF?", "Sí, puedes añadir tu NIF en Ajustes ▸ Facturación."),
    ("El pedido 4411 llegó dañado", "Lamentamos lo ocurrido; te enviamos uno nuevo hoy mismo."),
]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    workspace: Workspace


def find_demo(session: Session) -> Workspace | None:
    """The workspace owned by the demo Owner account.

    Not found by slug alone: anyone may have named their own workspace "Demo" (slug `demo`), in
    which case the demo gets another slug.
    """
    return session.scalar(
        select(Workspace)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .join(User, User.id == Membership.user_id)
        .where(User.email == OWNER_EMAIL, Membership.role == "owner")
        .order_by(Workspace.slug != DEMO_SLUG, Workspace.id)
        .limit(1)
    )


def reset_owner_password(session: Session, hasher: PasswordHasher) -> str:
    """A fresh random password for the demo Owner, so every start can print a working login."""
    password = secrets.token_urlsafe(12)
    owner = users.find_user_by_email(session, OWNER_EMAIL)
    if owner is None:
        raise NotFound("The demo Owner account does not exist")
    owner.password_hash = hasher.hash(password)
    session.flush()
    return password


def _account(
    session: Session, hasher: PasswordHasher, email: str, first: str, last: str, password: str | None = None
) -> User:
    """The demo person's account: created, or kept from a demo workspace that was deleted since."""
    existing = users.find_user_by_email(session, email)
    if existing is None:
        return users.create_user(
            session,
            email=email,
            first_name=first,
            last_name=last,
            password=password or secrets.token_urlsafe(12),
            hasher=hasher,
        )
    if password is not None:
        existing.password_hash = hasher.hash(password)
    return existing


def create_demo(session: Session, hasher: PasswordHasher) -> DemoLogin:
    """Creates the demo workspace; call only when find_demo() is None."""
    rng = random.Random(2026)
    password = secrets.token_urlsafe(12)
    owner = _account(session, hasher, OWNER_EMAIL, "Olivia", "Owner", password)
    workspace = workspaces.create_workspace(  # slug "demo" unless someone else's workspace has it
        session,
        name="Demo",
        owner_user_id=owner.id,
        timezone="Europe/Madrid",
        settings=WorkspaceSettings(language="es", default_country="ES"),
    )
    boss = Principal(workspace_id=workspace.id, role="owner", restrictions=Restrictions(), user_id=owner.id)

    def member(email: str, first: str, last: str, role: Role) -> User:
        user = _account(session, hasher, email, first, last)
        users.add_member(session, workspace_id=workspace.id, user_id=user.id, role=role)
        return user

    manager = member("manager@demo.example.com", "Marta", "Manager", "manager")
    agent_one = member("agent1@demo.example.com", "Andrés", "Agente", "agent")
    agent_two = member("agent2@demo.example.com", "Alba", "Agente", "agent")
    sales = teams.create_team(session, boss, name="Ventas", description="Equipo comercial")
    support = teams.create_team(session, boss, name="Soporte", description="Atención al cliente")
    teams.add_member(session, boss, team_id=sales.id, user_id=agent_one.id, move=False)
    teams.add_member(session, boss, team_id=support.id, user_id=agent_two.id, move=False)
    teams.add_member(session, boss, team_id=support.id, user_id=manager.id, move=False)

    fields.create_field(session, boss, name="Ciudad", slug="city", type="text")
    fields.create_field(
        session, boss, name="Plan", slug="plan", type="list", options=["Free", "Pro", "Enterprise"]
    )
    fields.create_field(session, boss, name="Bot activo", slug="bot_activo", type="checkbox")
    fields.create_field(session, boss, name="Pedidos", slug="orders", type="number")
    fields.create_field(session, boss, name="Cumpleaños", slug="birthday", type="date")
    for name in _TAGS:
        tags.create_tag(session, boss, name=name)
    for name in ("Resuelto", "Venta cerrada", "Spam"):
        closing.create_category(session, boss, name=name)
    webchat = channels.create_channel(session, workspace_id=workspace.id, kind="webchat", name=WEBCHAT_NAME)
    stages = lifecycle.list_stages(session, workspace_id=workspace.id)
    actor = Actor.user(owner.id)

    people = []
    for index in range(50):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        contact = contacts.create_contact(
            session,
            workspace_id=workspace.id,
            actor=actor,
            values={
                "first_name": first,
                "last_name": last,
                "email": _ascii(f"{first}.{last}.{index}@correo.example.com"),
                "phone": f"+346{rng.randrange(10**7, 10**8)}",
                "language": "es",
            },
            custom_fields={
                "city": rng.choice(_CITIES),
                "plan": rng.choice(["Free", "Pro", "Enterprise"]),
                "bot_activo": rng.random() < 0.7,
                "orders": rng.randrange(0, 40),
                "birthday": _birthday(rng),
            },
        )
        tags.change_contact_tags(
            session, contact=contact, add=rng.sample(_TAGS, rng.randrange(0, 3)), remove=[], actor=actor
        )
        lifecycle.set_contact_stage(session, contact=contact, stage_id=rng.choice(stages).id, actor=actor)
        people.append(contact)

    agents = [agent_one, agent_two, manager]
    for index, (question, answer) in enumerate(_CHATS):
        contact = people[index]
        visitor = f"visitor-{index + 1:04d}"
        link_identity(session, contact=contact, channel=webchat, external_id=visitor)  # a returning visitor
        messages.record_inbound(
            session,
            channel=webchat,
            external_id=visitor,
            content=TextContent(text=question),
            provider_message_id=f"demo-{visitor}-1",
            profile=ChannelProfile(first_name=contact.first_name, last_name=contact.last_name),
        )
        helper = agents[index % len(agents)]
        apply_assignee(session, contact=contact, user_id=helper.id, actor=actor)
        reply = messages.create_outgoing(
            session,
            contact=contact,
            channel=webchat,
            content=TextContent(text=answer),
            actor=Actor.user(helper.id),
        )
        messages.update_status(session, message=reply, status="sent", provider_message_id=f"demo-out-{index}")
        messages.update_status(session, message=reply, status="delivered")
        if index % 3 == 0:
            comments.add_comment(
                session,
                contact=contact,
                text="Cliente habitual, tratar con prioridad.",
                mentions=[],
                actor=actor,
            )
        if index >= 5:
            category = closing.find_category(session, workspace_id=workspace.id, name="Resuelto")
            conversations.close_conversation(
                session,
                contact=contact,
                actor=Actor.user(helper.id),
                category_id=None if category is None else category.id,
                summary="Consulta resuelta",
            )
    session.flush()
    # The seeded history happened before the demo's workflows existed: they answer new chats only.
    session.execute(
        update(Event)
        .where(Event.workspace_id == workspace.id, Event.dispatched_at.is_(None))
        .values(dispatched_at=now(session))
    )
    ensure_webchat(session, workspace)
    return DemoLogin(OWNER_EMAIL, password, workspace)


def ensure_webchat(session: Session, workspace: Workspace) -> Channel:
    """The demo's Web Chat channel (connected again, or created, when needed) and its published welcome
    workflow (created when missing; a workflow the user stopped or edited is left as it is)."""
    channel = session.scalar(
        select(Channel)
        .where(Channel.workspace_id == workspace.id, Channel.kind == "webchat")
        .order_by(Channel.state != "connected", Channel.id)
        .limit(1)
    )
    if channel is None:
        channel = channels.create_channel(
            session, workspace_id=workspace.id, kind="webchat", name=WEBCHAT_NAME
        )
    channel.state = "connected"
    owner = users.find_user_by_email(session, OWNER_EMAIL)
    if owner is None:
        raise NotFound("The demo Owner account does not exist")
    boss = Principal(workspace_id=workspace.id, role="owner", restrictions=Restrictions(), user_id=owner.id)
    existing = session.scalar(
        select(Workflow.id).where(
            Workflow.workspace_id == workspace.id, Workflow.name_norm == fold(WELCOME_WORKFLOW)
        )
    )
    if existing is None:
        workflow = workflows.create_workflow(session, boss, name=WELCOME_WORKFLOW)
        workflows.save_draft(
            session, boss, workflow_id=workflow.id, definition=WELCOME_DEFINITION, revision=workflow.revision
        )
        workflows.publish(session, boss, workflow_id=workflow.id)
    session.flush()
    return channel


def _birthday(rng: random.Random) -> str:
    return f"{rng.randrange(1960, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
