"""Finding or creating the contact behind an inbound channel identity (CRM-CONT-02, CRM-CONT-03)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.contacts import identities
from convoflow.contacts.identities import ChannelProfile, resolve_sender
from convoflow.contacts.models import Contact, ContactIdentity
from convoflow.errors import Conflict
from convoflow.testing.factories import make_channel, make_contact
from tests.contacts.helpers import contact_count, read_events, set_workspace_settings
from tests.support import World


def _identities(session: Session, contact_id: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(ContactIdentity.channel_id, ContactIdentity.external_id).where(
            ContactIdentity.contact_id == contact_id
        )
    ).all()
    return sorted((channel_id, external_id) for channel_id, external_id in rows)


def test_unknown_identity_without_profile_name_creates_unknown(session: Session, world: World) -> None:
    # CRM-CONT-03: name from the channel profile, fallback "Unknown"
    channel = make_channel(session, workspace_id=world.workspace.id, kind="telegram")
    contact, created = resolve_sender(session, channel=channel, external_id="tg-1", profile=ChannelProfile())
    session.commit()
    assert created is True
    assert (contact.first_name, contact.last_name, contact.phone, contact.email) == (
        "Unknown",
        "",
        None,
        None,
    )
    assert _identities(session, contact.id) == [(channel.id, "tg-1")]
    created_events = read_events(session, workspace_id=world.workspace.id, type="contact.created")
    assert len(created_events) == 1 and created_events[0].source == "contact"
    # The same identity again finds the same contact and creates nothing.
    again, created_again = resolve_sender(
        session, channel=channel, external_id="tg-1", profile=ChannelProfile()
    )
    session.commit()
    assert again.id == contact.id and created_again is False
    assert contact_count(session, world.workspace.id) == 1


def test_profile_values_are_used_and_invalid_ones_dropped(session: Session, world: World) -> None:
    # CRM-CONT-03; decision: invalid or taken profile values are dropped, never fatal
    make_contact(session, workspace_id=world.workspace.id, email="taken@example.com")
    channel = make_channel(session, workspace_id=world.workspace.id, kind="telegram")
    profile = ChannelProfile(
        first_name="  Ana ",
        last_name="Pérez",
        email="taken@example.com",
        phone="not a phone",
        language="es-ES",
        profile_pic="https://t.me/ana.jpg",
    )
    contact, created = resolve_sender(session, channel=channel, external_id="tg-2", profile=profile)
    session.commit()
    assert created
    assert (contact.first_name, contact.last_name) == ("Ana", "Pérez")
    assert contact.email is None and contact.phone is None and contact.language is None
    assert contact.profile_pic == "https://t.me/ana.jpg"


def test_blank_or_overlong_profile_name_falls_back_to_unknown(session: Session, world: World) -> None:
    channel = make_channel(session, workspace_id=world.workspace.id, kind="telegram")
    blank, _ = resolve_sender(
        session, channel=channel, external_id="a", profile=ChannelProfile(first_name="  ")
    )
    long, _ = resolve_sender(
        session, channel=channel, external_id="b", profile=ChannelProfile(first_name="x" * 500)
    )
    session.commit()
    assert blank.first_name == "Unknown" and long.first_name == "Unknown"


def test_whatsapp_identity_joins_the_contact_holding_that_phone(session: Session, world: World) -> None:
    # CRM-CONT-02 decision: an unknown phone identity joins the contact that already has the phone
    existing = make_contact(session, workspace_id=world.workspace.id, first_name="Ana", phone="+34600111222")
    channel = make_channel(session, workspace_id=world.workspace.id, kind="whatsapp_cloud")
    session.commit()
    contact, created = resolve_sender(
        session, channel=channel, external_id="34600111222", profile=ChannelProfile(first_name="Ana WhatsApp")
    )
    session.commit()
    assert contact.id == existing.id and created is False
    assert contact.first_name == "Ana"  # the profile does not overwrite a known contact
    assert _identities(session, existing.id) == [(channel.id, "34600111222")]
    assert contact_count(session, world.workspace.id) == 1
    assert (
        read_events(session, workspace_id=world.workspace.id, type="contact.created")[-1].contact_id
        == existing.id
    )


def test_new_phone_identity_creates_a_contact_with_that_phone(session: Session, world: World) -> None:
    # CRM-CONT-03: phone from the identity where it is one; country derived from it (CRM-FIELD-01)
    channel = make_channel(session, workspace_id=world.workspace.id, kind="whatsapp_cloud")
    contact, created = resolve_sender(
        session, channel=channel, external_id="5491123456789", profile=ChannelProfile(first_name="Juan")
    )
    session.commit()
    assert created and contact.phone == "+5491123456789" and contact.country_code == "AR"
    assert contact.first_name == "Juan"


def test_email_identity_joins_the_contact_holding_that_address(session: Session, world: World) -> None:
    existing = make_contact(session, workspace_id=world.workspace.id, email="ana@example.com")
    channel = make_channel(session, workspace_id=world.workspace.id, kind="other_email")
    session.commit()
    contact, created = resolve_sender(
        session, channel=channel, external_id="Ana@Example.com", profile=ChannelProfile()
    )
    session.commit()
    assert contact.id == existing.id and not created


def test_phone_held_by_a_contact_already_on_the_channel_creates_a_contact_without_it(
    session: Session, world: World
) -> None:
    # CRM-CONT-02 (one identity per channel) and the decision that taken values are dropped, never fatal:
    # Ana's phone was edited to +34600111222 after she chatted on WhatsApp from another number; a message
    # from +34600111222 must still be stored, on a new contact that cannot take the phone.
    channel = make_channel(session, workspace_id=world.workspace.id, kind="whatsapp_cloud")
    ana, _ = resolve_sender(session, channel=channel, external_id="34699999999", profile=ChannelProfile())
    ana.phone = "+34600111222"
    session.commit()
    contact, created = resolve_sender(
        session, channel=channel, external_id="34600111222", profile=ChannelProfile(first_name="Stranger")
    )
    session.commit()
    assert created and contact.id != ana.id
    assert contact.first_name == "Stranger" and contact.phone is None
    assert _identities(session, contact.id) == [(channel.id, "34600111222")]
    assert session.get(Contact, ana.id) is not None and ana.phone == "+34600111222"


def test_identity_on_another_channel_kind_does_not_join_by_phone(session: Session, world: World) -> None:
    # Opaque ids (web chat, Telegram) are never read as phone numbers.
    make_contact(session, workspace_id=world.workspace.id, phone="+34600111222")
    channel = make_channel(session, workspace_id=world.workspace.id, kind="webchat")
    contact, created = resolve_sender(
        session, channel=channel, external_id="34600111222", profile=ChannelProfile()
    )
    session.commit()
    assert created and contact.phone is None
    assert contact_count(session, world.workspace.id) == 2


def test_default_stage_is_applied_when_stages_are_on(session: Session, world: World) -> None:
    # CRM-CONT-03, CRM-LIFE-02
    from convoflow.contacts import lifecycle

    stage = lifecycle.list_stages(session, workspace_id=world.workspace.id)[0]
    stage.is_default = True
    channel = make_channel(session, workspace_id=world.workspace.id, kind="telegram")
    session.commit()
    on, _ = resolve_sender(session, channel=channel, external_id="a", profile=ChannelProfile())
    session.commit()
    assert on.lifecycle_stage_id == stage.id
    set_workspace_settings(session, world.workspace, lifecycle_enabled=False)
    off, _ = resolve_sender(session, channel=channel, external_id="b", profile=ChannelProfile())
    session.commit()
    assert off.lifecycle_stage_id is None


def test_link_identity_enforces_one_per_channel(session: Session, world: World) -> None:
    # CRM-CONT-02: a contact has at most one identity per channel
    channel = make_channel(session, workspace_id=world.workspace.id, kind="telegram")
    ana = make_contact(session, workspace_id=world.workspace.id)
    bob = make_contact(session, workspace_id=world.workspace.id)
    identities.link_identity(session, contact=ana, channel=channel, external_id="tg-ana")
    with pytest.raises(Conflict) as twice:
        identities.link_identity(session, contact=ana, channel=channel, external_id="tg-other")
    assert twice.value.error == "identity_exists"
    with pytest.raises(Conflict) as taken:
        identities.link_identity(session, contact=bob, channel=channel, external_id="tg-ana")
    assert taken.value.error == "identity_taken"
    count = session.scalar(select(func.count()).select_from(ContactIdentity))
    assert count == 1
