"""/api/contacts: the contact record, its tags, stage, assignee, block flag, merge and activity."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from convoflow.api.deps import PrincipalDep, SessionDep
from convoflow.api.ids import Id
from convoflow.api.pagination import Page, PageDep, id_page
from convoflow.contacts import assignment, lifecycle, listing, merge, service
from convoflow.contacts.filters import ContactFilter
from convoflow.contacts.schemas import (
    ActivityRead,
    AssigneeChange,
    BlockChange,
    ContactQuery,
    ContactRead,
    ContactWrite,
    LifecycleChange,
    MergeRequest,
    TagChange,
)
from convoflow.contacts.tags import change_contact_tags
from convoflow.events.service import list_contact_events

router = APIRouter(tags=["contacts"])


def _read(session: SessionDep, contact: Any) -> ContactRead:
    return ContactRead.model_validate(service.snapshot(session, contact))


def _page(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    search: str | None,
    contact_filter: ContactFilter | None,
    timezone: str,
) -> Page[ContactRead]:
    contacts = listing.list_contacts(
        session,
        principal,
        search=search,
        contact_filter=contact_filter,
        timezone=timezone,
        before_id=page.before_id(),
        limit=page.limit,
    )
    items = [ContactRead.model_validate(s) for s in service.snapshots(session, contacts)]
    return id_page(items, [c.id for c in contacts], page.limit)


@router.get("/contacts", response_model=Page[ContactRead])
def list_contacts(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[ContactRead]:
    """Newest first; `search` matches name, email or phone."""
    return _page(session, principal, page, search, None, "UTC")


@router.post("/contacts/query", response_model=Page[ContactRead])
def query_contacts(
    body: ContactQuery, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> Page[ContactRead]:
    """Search plus the filter model of the developer API (fields, tags, lifecycle)."""
    return _page(session, principal, page, body.search, body.filter, body.timezone)


@router.post("/contacts", response_model=ContactRead, status_code=201)
def create_contact(body: ContactWrite, principal: PrincipalDep, session: SessionDep) -> ContactRead:
    contact = service.create_contact(
        session,
        workspace_id=principal.workspace_id,
        actor=principal.actor,
        values=body.standard_values(),
        custom_fields=body.custom_fields,
    )
    session.commit()
    return _read(session, contact)


@router.get("/contacts/{contact_id}", response_model=ContactRead)
def get_contact(contact_id: Id, principal: PrincipalDep, session: SessionDep) -> ContactRead:
    return _read(session, service.get_contact(session, principal, contact_id))


@router.patch("/contacts/{contact_id}", response_model=ContactRead)
def update_contact(
    contact_id: Id, body: ContactWrite, principal: PrincipalDep, session: SessionDep
) -> ContactRead:
    contact = service.get_contact(session, principal, contact_id, for_update=True)
    service.update_contact(
        session,
        contact=contact,
        actor=principal.actor,
        values=body.standard_values(),
        custom_fields=body.custom_fields,
    )
    session.commit()
    return _read(session, contact)


@router.delete("/contacts/{contact_id}", status_code=204)
def delete_contact(contact_id: Id, principal: PrincipalDep, session: SessionDep) -> None:
    contact = service.get_contact(session, principal, contact_id, for_update=True)
    service.delete_contact(session, principal, contact=contact)
    session.commit()


@router.patch("/contacts/{contact_id}/tags", response_model=ContactRead)
def change_tags(contact_id: Id, body: TagChange, principal: PrincipalDep, session: SessionDep) -> ContactRead:
    contact = service.get_contact(session, principal, contact_id, for_update=True)
    change_contact_tags(session, contact=contact, add=body.add, remove=body.remove, actor=principal.actor)
    session.commit()
    return _read(session, contact)


@router.put("/contacts/{contact_id}/lifecycle", response_model=ContactRead)
def set_lifecycle(
    contact_id: Id, body: LifecycleChange, principal: PrincipalDep, session: SessionDep
) -> ContactRead:
    contact = service.get_contact(session, principal, contact_id, for_update=True)
    lifecycle.set_contact_stage(session, contact=contact, stage_id=body.stage_id, actor=principal.actor)
    session.commit()
    return _read(session, contact)


@router.put("/contacts/{contact_id}/assignee", response_model=ContactRead)
def set_assignee(
    contact_id: Id, body: AssigneeChange, principal: PrincipalDep, session: SessionDep
) -> ContactRead:
    contact = service.get_contact(session, principal, contact_id, for_update=True)
    assignment.assign(session, principal, contact=contact, user_id=body.user_id)
    session.commit()
    return _read(session, contact)


@router.put("/contacts/{contact_id}/blocked", response_model=ContactRead)
def set_blocked(
    contact_id: Id, body: BlockChange, principal: PrincipalDep, session: SessionDep
) -> ContactRead:
    contact = service.get_contact(session, principal, contact_id, for_update=True)
    service.set_blocked(session, contact=contact, blocked=body.blocked, actor=principal.actor)
    session.commit()
    return _read(session, contact)


@router.post("/contacts/merge", response_model=ContactRead)
def merge_contacts(body: MergeRequest, principal: PrincipalDep, session: SessionDep) -> ContactRead:
    """The first id survives (CRM-CONT-05)."""
    values = body.values or ContactWrite()
    survivor = merge.merge_contacts(
        session,
        principal,
        survivor_id=body.contact_ids[0],
        other_id=body.contact_ids[1],
        values=values.standard_values(),
        custom_fields=values.custom_fields,
    )
    session.commit()
    return _read(session, survivor)


@router.get("/contacts/{contact_id}/activity", response_model=Page[ActivityRead])
def contact_activity(
    contact_id: Id, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> Page[ActivityRead]:
    """Field, tag, stage and assignee changes, conversations and messages, newest first (CRM-CONT-04)."""
    contact = service.get_contact(session, principal, contact_id)
    events = list_contact_events(
        session,
        workspace_id=principal.workspace_id,
        contact_id=contact.id,
        before_id=page.before_id(),
        limit=page.limit,
    )
    items = [
        ActivityRead(
            id=e.id,
            type=e.type,
            source=e.source,
            actor_id=e.actor_id,
            run_id=e.run_id,
            payload=e.payload,
            occurred_at=e.occurred_at,
        )
        for e in events
    ]
    return id_page(items, [e.id for e in events], page.limit)
