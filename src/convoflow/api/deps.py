"""Request dependencies as Annotated aliases: the container, a session, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from convoflow.accounts import auth, tokens
from convoflow.accounts.principal import Principal
from convoflow.bootstrap import Container
from convoflow.errors import PermissionDenied, Unauthenticated

SESSION_COOKIE = "convoflow_session"
CSRF_COOKIE = "convoflow_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_session(request: Request, container: ContainerDep) -> Iterator[Session]:
    """Reads take a read-only session; routes that change data commit it themselves."""
    with container.db.session(readonly=request.method in SAFE_METHODS) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("Use 'Authorization: Bearer <token>'", error="invalid_token")
    return value.strip()


def get_signed_in(request: Request, container: ContainerDep) -> auth.SignedIn:
    """The browser session behind the cookie; unsafe methods must echo its CSRF token."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthenticated("Sign in first")
    with container.db.session(readonly=True) as session:
        signed_in = auth.resolve(session, cookie)
    if signed_in is None:
        raise Unauthenticated("Your session has expired; sign in again", error="session_expired")
    if request.method not in SAFE_METHODS and not auth.csrf_ok(signed_in, request.headers.get(CSRF_HEADER)):
        raise PermissionDenied(f"Missing or wrong {CSRF_HEADER} header", error="csrf_failed")
    if auth.needs_touch(signed_in, container.clock.now()):
        with container.db.session() as session:
            auth.touch(
                session,
                login_id=signed_in.login.id,
                user_id=signed_in.user.id,
                session_days=container.settings.session_days,
            )
            session.commit()
    return signed_in


SignedInDep = Annotated[auth.SignedIn, Depends(get_signed_in)]


def get_principal(request: Request, container: ContainerDep) -> Principal:
    """The caller: a Bearer API token or the signed-in user in their current workspace."""
    raw = _bearer(request)
    if raw is not None:
        with container.db.session(readonly=True) as session:
            token, principal = tokens.authenticate(session, raw)
            stale = tokens.needs_touch(token, session)
        if stale:
            with container.db.session() as session:
                tokens.touch(session, token_id=token.id)
                session.commit()
        return principal
    signed_in = get_signed_in(request, container)
    with container.db.session(readonly=True) as session:
        return auth.principal_for(session, signed_in)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
