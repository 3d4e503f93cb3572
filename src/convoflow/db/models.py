"""Imports every table module so Base.metadata is complete (for Alembic and the drift test)."""

from convoflow.accounts import models as accounts_models
from convoflow.audit import models as audit_models
from convoflow.channels import models as channels_models
from convoflow.contacts import models as contacts_models
from convoflow.conversations import models as conversations_models
from convoflow.db.base import Base
from convoflow.events import models as events_models
from convoflow.teams import models as teams_models
from convoflow.workflows import models as workflows_models

__all__ = [
    "Base",
    "accounts_models",
    "audit_models",
    "channels_models",
    "contacts_models",
    "conversations_models",
    "events_models",
    "teams_models",
    "workflows_models",
]
