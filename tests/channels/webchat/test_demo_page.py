"""The widget script, the /demo page, and the demo's Web Chat channel with its welcome workflow."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.api.app import create_app
from convoflow.bootstrap import Container
from convoflow.channels.models import Channel
from convoflow.demo import WELCOME_WORKFLOW, create_demo, ensure_webchat
from convoflow.events.models import Event
from convoflow.workflows.models import Workflow


def test_the_widget_script_is_served_as_javascript(client: TestClient) -> None:
    response = client.get("/widget/webchat.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "data-channel" in response.text and "innerHTML" not in response.text


def test_demo_is_served_only_by_convoflow_demo_with_its_key_escaped(
    client: TestClient, container: Container
) -> None:
    missing = client.get("/demo")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    with TestClient(create_app(container, demo_widget_key='k"<x>')) as demo:
        page = demo.get("/demo")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'data-channel="k&quot;&lt;x&gt;"' in page.text and 'k"<x>' not in page.text


def test_the_demo_has_a_web_chat_and_a_published_welcome_workflow_for_new_chats_only(
    session: Session, container: Container
) -> None:
    login = create_demo(session, container.hasher)
    session.commit()
    workspace_id = login.workspace.id
    [channel] = session.scalars(select(Channel).where(Channel.workspace_id == workspace_id))
    assert (channel.kind, channel.state) == ("webchat", "connected")
    [workflow] = session.scalars(select(Workflow).where(Workflow.workspace_id == workspace_id))
    assert (workflow.name, workflow.state, workflow.trigger_type) == (
        WELCOME_WORKFLOW,
        "published",
        "conversation_opened",
    )
    pending = session.scalars(
        select(Event.type).where(Event.workspace_id == workspace_id, Event.dispatched_at.is_(None))
    ).all()
    assert "conversation.opened" not in pending  # the seeded history triggers nothing
    # A later start reconnects the channel and keeps the one workflow.
    channel.state = "disconnected"
    session.commit()
    again = ensure_webchat(session, login.workspace)
    session.commit()
    assert (again.id, again.state) == (channel.id, "connected")
    assert len(session.scalars(select(Workflow).where(Workflow.workspace_id == workspace_id)).all()) == 1
