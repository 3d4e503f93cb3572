"""Workspace API tokens (CRM-TOKEN-01): shown once, stored as a digest, revocable, last use recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from convoflow.accounts import credentials
from convoflow.accounts.models import ApiToken
from convoflow.accounts.principal import Principal, Restrictions
from convoflow.db.session import now
from convoflow.errors import NotFound, Unauthenticated

TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class NewToken:
    token: ApiToken
    secret: str  # the full token string, returned once


def create_token(
    session: Session, principal: Principal, *, name: str, expires_in_days: int | None
) -> NewToken:
    principal.require_manager("restrict_space_integration")
    user_id = principal.require_user()
    secret = credentials.new_secret()
    at = now(session)
    token = ApiToken(
        workspace_id=principal.workspace_id,
        name=name,
        prefix=credentials.new_token_prefix(),
        secret_hash=credentials.digest(secret),
        created_by=user_id,
        created_at=at,
        expires_at=None if expires_in_days is None else at + timedelta(days=expires_in_days),
    )
    session.add(token)
    session.flush()
    return NewToken(token, credentials.format_api_token(token.prefix, secret))


def list_tokens(session: Session, principal: Principal) -> Sequence[ApiToken]:
    principal.require_manager("restrict_space_integration")
    principal.require_user()
    return session.scalars(
        select(ApiToken).where(ApiToken.workspace_id == principal.workspace_id).order_by(ApiToken.id.desc())
    ).all()


def revoke_token(session: Session, principal: Principal, *, token_id: int) -> ApiToken:
    principal.require_manager("restrict_space_integration")
    principal.require_user()
    token = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.workspace_id == principal.workspace_id)
    )
    if token is None:
        raise NotFound("API token not found")
    if token.revoked_at is None:
        token.revoked_at = now(session)
    session.flush()
    return token


def authenticate(session: Session, raw: str) -> tuple[ApiToken, Principal]:
    """The token's workspace principal; it acts with Manager rights and source `api` (decisions.md)."""
    parsed = credentials.parse_api_token(raw.strip())
    token = None if parsed is None else session.scalar(select(ApiToken).where(ApiToken.prefix == parsed[0]))
    if parsed is None or token is None or not credentials.matches(parsed[1], token.secret_hash):
        raise Unauthenticated("Invalid API token", error="invalid_token")
    at = now(session)
    if token.revoked_at is not None:
        raise Unauthenticated("This API token was revoked", error="token_revoked")
    if token.expires_at is not None and token.expires_at <= at:
        raise Unauthenticated("This API token has expired", error="token_expired")
    principal = Principal(
        workspace_id=token.workspace_id, role="manager", restrictions=Restrictions(), token_id=token.id
    )
    return token, principal


def needs_touch(token: ApiToken, session: Session) -> bool:
    return token.last_used_at is None or now(session) - token.last_used_at >= TOUCH_EVERY


def touch(session: Session, *, token_id: int) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now(session)))
