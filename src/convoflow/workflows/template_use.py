"""Creating a workflow from a gallery template (WF-TPL-01)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.accounts.workspaces import settings_of
from convoflow.contacts import fields
from convoflow.contacts.tags import ensure_tags
from convoflow.errors import NotFound
from convoflow.workflows import gallery, service
from convoflow.workflows.catalog_source import build_catalog
from convoflow.workflows.transfer import Imported


def use_template(
    session: Session, principal: Principal, *, key: str, name: str | None = None, create_missing: bool = False
) -> Imported:
    """A Draft from the template in the workspace's language. With `create_missing`, the custom fields
    and tags the template expects are created first (the dialog of WF-TPL-01); whatever is still
    missing, and every value to choose, is left empty and shown as a configuration error."""
    principal.require_manager()
    try:
        template = gallery.get_template(key)
    except gallery.UnknownTemplate:
        raise NotFound("Template not found", error="template_not_found") from None
    language = gallery.pick_language(settings_of(session, principal.workspace_id).language)
    service.reserve_slot(session, principal.workspace_id)
    if name is not None:
        service.check_name_free(session, principal.workspace_id, name)  # a chosen name is never renamed
    if create_missing:
        expects = template.expects_in(language)
        existing = fields.fields_by_slug(session, workspace_id=principal.workspace_id)
        for wanted in expects.fields:
            if wanted.slug.lower() not in existing:
                fields.create_field(
                    session,
                    principal,
                    name=wanted.name,
                    slug=wanted.slug,
                    type=wanted.type,
                    options=list(wanted.options) or None,
                )
        ensure_tags(session, workspace_id=principal.workspace_id, names=list(expects.tags))
    catalog = build_catalog(session, workspace_id=principal.workspace_id)
    definition, stripped = gallery.instantiate(template, language, catalog)
    workflow = service.new_workflow(
        session,
        principal,
        name=name or service.free_name(session, principal.workspace_id, template.name_in(language), ""),
        description=template.purpose_in(language),
        definition=definition,
        report=[s.as_json() for s in stripped],
        action="created_from_template",
        audit_data={"template": key},
    )
    return Imported(workflow, stripped)
