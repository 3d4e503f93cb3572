"""The domain event names (CRM-EVT-01). Payload shapes are documented in docs/subsystems/events.md."""

from __future__ import annotations

from typing import Final

CONTACT_CREATED: Final = "contact.created"
CONTACT_DELETED: Final = "contact.deleted"
CONTACT_UPDATED: Final = "contact.updated"
CONTACT_TAG_UPDATED: Final = "contact.tag.updated"
CONTACT_LIFECYCLE_UPDATED: Final = "contact.lifecycle.updated"
CONTACT_ASSIGNEE_UPDATED: Final = "contact.assignee.updated"
CONVERSATION_OPENED: Final = "conversation.opened"
CONVERSATION_CLOSED: Final = "conversation.closed"
MESSAGE_RECEIVED: Final = "message.received"
MESSAGE_SENT: Final = "message.sent"
MESSAGE_STATUS_UPDATED: Final = "message.status.updated"
COMMENT_CREATED: Final = "comment.created"

ALL_EVENTS: Final = (
    CONTACT_CREATED,
    CONTACT_DELETED,
    CONTACT_UPDATED,
    CONTACT_TAG_UPDATED,
    CONTACT_LIFECYCLE_UPDATED,
    CONTACT_ASSIGNEE_UPDATED,
    CONVERSATION_OPENED,
    CONVERSATION_CLOSED,
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    MESSAGE_STATUS_UPDATED,
    COMMENT_CREATED,
)

# Activity records of the contact page (CRM-CONT-04, WF-RUN-18), outside the CRM-EVT table: stored
# as already dispatched, they never trigger workflows.
WORKFLOW_ENTERED: Final = "workflow.entered"
WORKFLOW_LEFT: Final = "workflow.left"
ACTIVITY_EVENTS: Final = (WORKFLOW_ENTERED, WORKFLOW_LEFT)
