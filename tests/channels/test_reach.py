"""The default channel of a contact (CRM-MSG-06) and derived identities (CRM-CONT-02)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.channels.reach import can_reach, default_channel
from convoflow.contacts.identities import link_identity
from convoflow.conversations.content import TextContent
from convoflow.conversations.messages import record_inbound
from convoflow.testing.factories import make_channel, make_contact
from tests.support import seed_world


def test_last_interacted_channel_is_the_default(session: Session, container: Container) -> None:  # CRM-MSG-06
    world = seed_world(session, container.hasher)
    webchat = make_channel(session, workspace_id=world.workspace.id, kind="webchat")
    telegram = make_channel(session, workspace_id=world.workspace.id, kind="telegram")
    contact = record_inbound(
        session, channel=webchat, external_id="v1", content=TextContent(text="hola")
    ).contact
    assert default_channel(session, contact=contact) == webchat
    link_identity(session, contact=contact, channel=telegram, external_id="42")
    record_inbound(session, channel=telegram, external_id="42", content=TextContent(text="hi"))
    assert contact.last_channel_id == telegram.id
    assert default_channel(session, contact=contact) == telegram
    telegram.state = "disconnected"  # a disconnected last channel falls back to the only other reach
    session.flush()
    assert default_channel(session, contact=contact) == webchat


def test_without_incoming_messages_only_a_single_reaching_channel_is_the_default(
    session: Session, container: Container
) -> None:  # CRM-MSG-06, CRM-CONT-02
    world = seed_world(session, container.hasher)
    whatsapp = make_channel(session, workspace_id=world.workspace.id, kind="whatsapp_cloud")
    webchat = make_channel(session, workspace_id=world.workspace.id, kind="webchat")
    with_phone = make_contact(session, workspace_id=world.workspace.id, phone="+34600111222")
    without = make_contact(session, workspace_id=world.workspace.id)
    assert can_reach(session, channel=whatsapp, contact=with_phone)  # identity derived from the phone
    assert not can_reach(session, channel=webchat, contact=with_phone)
    assert default_channel(session, contact=with_phone) == whatsapp
    assert default_channel(session, contact=without) is None
    email = make_channel(session, workspace_id=world.workspace.id, kind="other_email")
    both = make_contact(session, workspace_id=world.workspace.id, phone="+34600111333", email="b@example.com")
    assert can_reach(session, channel=email, contact=both)
    assert default_channel(session, contact=both) is None  # several reach it: no default
    link_identity(session, contact=without, channel=webchat, external_id="visitor-9")
    assert default_channel(session, contact=without) == webchat
