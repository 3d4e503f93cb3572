"""Custom contact field definitions (CRM-FIELD-02): slug derived once, type fixed, at most 200."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from convoflow.accounts.models import Workspace
from convoflow.accounts.principal import Principal
from convoflow.contacts import field_values
from convoflow.contacts.filters import STANDARD_FIELD_NAMES
from convoflow.contacts.models import Contact, ContactField
from convoflow.db.json_ops import remove_json_key
from convoflow.db.session import now
from convoflow.errors import Conflict, InvalidInput, NotFound, field_error
from convoflow.workflows import references

MAX_FIELDS = 200
SLUG_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,50}$")
# Names of standard fields and variables ($contact.name ...) a custom slug must not shadow, and every
# standard name of the filter model (a custom field named like one could never be filtered on).
RESERVED_SLUGS = frozenset(
    {
        "id", "name", "firstname", "lastname", "first_name", "last_name", "email", "phone", "language",
        "country", "country_code", "countrycode", "profile_pic", "profilepic", "lifecycle", "tags",
        "assignee", "status", "blocked", "created_at", "updated_at", "channel", "custom_fields",
    }
) | STANDARD_FIELD_NAMES  # fmt: skip


def slug_from_name(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:50]


def _free_slug(session: Session, workspace_id: int, base: str) -> str:
    base = base or "field"
    if base in RESERVED_SLUGS:
        base = f"{base}_custom"[:50]
    taken = set(
        session.scalars(
            select(ContactField.slug).where(
                ContactField.workspace_id == workspace_id, ContactField.slug.startswith(base[:40])
            )
        )
    )
    slug, n = base, 2
    while slug in taken:
        suffix = f"_{n}"
        slug, n = base[: 50 - len(suffix)] + suffix, n + 1
    return slug


def list_fields(session: Session, *, workspace_id: int) -> Sequence[ContactField]:
    return session.scalars(
        select(ContactField).where(ContactField.workspace_id == workspace_id).order_by(ContactField.id)
    ).all()


def fields_by_slug(session: Session, *, workspace_id: int) -> dict[str, ContactField]:
    return {field.slug: field for field in list_fields(session, workspace_id=workspace_id)}


def get_field(session: Session, *, workspace_id: int, field_id: int) -> ContactField:
    field = session.scalar(
        select(ContactField).where(ContactField.id == field_id, ContactField.workspace_id == workspace_id)
    )
    if field is None:
        raise NotFound("Contact field not found")
    return field


def find_field(session: Session, *, workspace_id: int, name_or_slug: str) -> ContactField | None:
    """By slug, else by name, both ignoring case (the v2 API accepts either)."""
    key = name_or_slug.strip().lower()
    fields = list_fields(session, workspace_id=workspace_id)
    return next((f for f in fields if f.slug == key), None) or next(
        (f for f in fields if f.name.casefold() == key.casefold()), None
    )


def check_options(field_type: str, options: list[str] | None) -> list[str]:
    """List fields need 1-100 distinct values of 1-100 characters; other types take none."""
    if field_type != "list":
        if options:
            raise field_error("options", "Only list fields take allowed values")
        return []
    if not options:
        raise field_error("options", "A list field needs at least one allowed value")
    if len(options) > 100:
        raise field_error("options", "A list field has at most 100 allowed values")
    cleaned, seen = [], set()
    for option in options:
        value = option.strip()
        if not 1 <= len(value) <= 100:
            raise field_error("options", "Each allowed value has 1 to 100 characters")
        if value.casefold() in seen:
            raise field_error("options", f"Duplicate allowed value {value!r}")
        seen.add(value.casefold())
        cleaned.append(value)
    return cleaned


def create_field(
    session: Session,
    principal: Principal,
    *,
    name: str,
    type: str,
    description: str = "",
    options: list[str] | None = None,
    slug: str | None = None,
) -> ContactField:
    principal.require_manager("restrict_space_setting")
    if type not in field_values.FIELD_TYPES:
        raise field_error("type", f"type must be one of {', '.join(field_values.FIELD_TYPES)}")
    cleaned_options = check_options(type, options)
    session.scalar(select(Workspace.id).where(Workspace.id == principal.workspace_id).with_for_update())
    count = session.scalar(
        select(func.count())
        .select_from(ContactField)
        .where(ContactField.workspace_id == principal.workspace_id)
    )
    if (count or 0) >= MAX_FIELDS:
        raise Conflict(f"Custom field limit reached ({MAX_FIELDS})", error="field_limit_reached")
    if slug is not None:
        if not SLUG_PATTERN.match(slug):
            raise field_error("slug", "slug has 1 to 50 characters among A-Z a-z 0-9 _")
        slug = slug.lower()
        if slug in RESERVED_SLUGS:
            raise field_error("slug", f"{slug!r} is reserved for a standard field")
        if session.scalar(
            select(ContactField.id).where(
                ContactField.workspace_id == principal.workspace_id, ContactField.slug == slug
            )
        ):
            raise Conflict(f"A field with slug {slug!r} already exists", error="field_slug_taken")
    else:
        slug = _free_slug(session, principal.workspace_id, slug_from_name(name))
    field = ContactField(
        workspace_id=principal.workspace_id,
        name=name,
        slug=slug,
        description=description,
        type=type,
        options=cleaned_options,
        created_at=now(session),
    )
    session.add(field)
    session.flush()
    return field


def update_field(
    session: Session,
    principal: Principal,
    *,
    field_id: int,
    name: str | None,
    description: str | None,
    options: list[str] | None,
) -> ContactField:
    """Name, description and allowed values change; slug and type never do (CRM-FIELD-02).

    Contacts holding a list value that is no longer allowed lose it, without per-contact events.
    """
    principal.require_manager("restrict_space_setting")
    field = get_field(session, workspace_id=principal.workspace_id, field_id=field_id)
    if name is not None:
        field.name = name
    if description is not None:
        field.description = description
    if options is not None:
        field.options = check_options(field.type, options)
        if field.type == "list":  # other types hold no options, and NOT IN () would clear every value
            _drop_disallowed_values(session, field)
    session.flush()
    return field


def _drop_disallowed_values(session: Session, field: ContactField) -> None:
    value = Contact.attributes[field.slug].as_string()
    session.execute(
        update(Contact)
        .where(
            Contact.workspace_id == field.workspace_id,
            value.is_not(None),
            value.not_in(field.options),
        )
        .values(attributes=remove_json_key(session, Contact.attributes, field.slug))
        .execution_options(synchronize_session=False)
    )


def delete_field(session: Session, principal: Principal, *, field_id: int) -> None:
    """Removes the definition and every contact's value for it; refused while a published workflow
    uses the field (CRM-FIELD-04)."""
    principal.require_manager("restrict_space_setting")
    field = get_field(session, workspace_id=principal.workspace_id, field_id=field_id)
    references.refuse_if_used(
        references.published_users_of_field(session, workspace_id=field.workspace_id, slug=field.slug),
        f"Field {field.name!r}",
    )
    session.execute(
        update(Contact)
        .where(Contact.workspace_id == field.workspace_id, Contact.attributes[field.slug].is_not(None))
        .values(attributes=remove_json_key(session, Contact.attributes, field.slug))
        .execution_options(synchronize_session=False)
    )
    session.delete(field)
    session.flush()


def coerce_values(fields: dict[str, ContactField], values: dict[str, Any]) -> dict[str, Any]:
    """Validates a {slug: raw} map; raises InvalidInput listing every bad field at once."""
    stored: dict[str, Any] = {}
    problems = []
    for slug, raw in values.items():
        field = fields.get(slug.lower())
        if field is None:
            problems.append({"field": f"custom_fields.{slug}", "message": f"unknown custom field {slug!r}"})
            continue
        try:
            stored[field.slug] = field_values.coerce(field.type, raw, options=field.options)
        except ValueError as exc:
            problems.append({"field": f"custom_fields.{slug}", "message": str(exc)})
    if problems:
        raise InvalidInput(problems[0]["message"], details=problems)
    return stored
