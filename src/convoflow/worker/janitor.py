"""Housekeeping: drops expired browser sessions and invitations, and gives SQLite's free pages back."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Result, delete
from sqlalchemy.orm import Session

from convoflow.accounts.models import Invitation, LoginSession
from convoflow.db.engine import reclaim_free_pages
from convoflow.db.session import Database, now

log = logging.getLogger("convoflow.janitor")
INVITATION_KEEP = timedelta(days=30)  # expired or used invitations stay visible this long


def purge_expired(session: Session) -> dict[str, int]:
    at = now(session)
    sessions = _deleted(session.execute(delete(LoginSession).where(LoginSession.expires_at <= at)))
    stale = Invitation.expires_at <= at - INVITATION_KEEP
    invitations = _deleted(session.execute(delete(Invitation).where(stale)))
    return {"login_sessions": sessions, "invitations": invitations}


def _deleted(result: Result[Any]) -> int:
    return cast(CursorResult[Any], result).rowcount


async def run_janitor(db: Database, *, every_seconds: float = 3600) -> None:
    """Runs purge_expired now and then every `every_seconds` until cancelled."""
    while True:
        try:
            purged = await asyncio.to_thread(_purge_once, db)
            log.info("janitor.purged", extra=purged)
        except Exception:
            log.exception("janitor.failed")
        await asyncio.sleep(every_seconds)


def _purge_once(db: Database) -> dict[str, int]:
    with db.session() as session:
        purged = purge_expired(session)
        session.commit()
    purged["free_pages_left"] = reclaim_free_pages(db.engine)
    return purged
