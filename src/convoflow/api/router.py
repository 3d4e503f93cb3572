"""Mounts every feature router under /api."""

from __future__ import annotations

from fastapi import APIRouter

from convoflow.accounts import auth_routes
from convoflow.accounts import routes as accounts_routes
from convoflow.channels import routes as channels_routes
from convoflow.contacts import routes as contacts_routes
from convoflow.contacts import settings_routes
from convoflow.conversations import routes as conversations_routes
from convoflow.teams import routes as teams_routes

api_router = APIRouter(prefix="/api")
for feature in (
    auth_routes,
    accounts_routes,
    teams_routes,
    contacts_routes,
    settings_routes,
    conversations_routes,
    channels_routes,
):
    api_router.include_router(feature.router)
