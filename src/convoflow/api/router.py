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
from convoflow.workflows import hook_routes, run_routes, shortcut_routes
from convoflow.workflows import routes as workflows_routes

# Each feature's own router, in mounting order (its routes' paths are relative to /api).
FEATURE_ROUTERS: tuple[APIRouter, ...] = (
    auth_routes.router,
    accounts_routes.router,
    teams_routes.router,
    contacts_routes.router,
    settings_routes.router,
    conversations_routes.router,
    channels_routes.router,
    workflows_routes.router,
    run_routes.router,
    shortcut_routes.router,
    hook_routes.router,
)

api_router = APIRouter(prefix="/api")
for feature_router in FEATURE_ROUTERS:
    api_router.include_router(feature_router)
