"""Who is calling: bearer tokens for the API, the session cookie for pages."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from zhiyi.core import clock
from zhiyi.core.errors import Forbidden, NotAuthenticated
from zhiyi.core.policy import Actor
from zhiyi.domains.identity import service as identity
from zhiyi.http.tx import session_of

WEB_SESSION_SECONDS = 12 * 3600  # an absolute limit: using the site does not extend it
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def api_actor(request: Request, token: Annotated[str | None, Depends(oauth2)]) -> Actor:
    """The API authenticates by bearer token only (no cookies, so no CSRF surface), and asks the token's
    account and sign-in on every request (a revoked token stops at once)."""
    if not token:
        raise NotAuthenticated(headers={"WWW-Authenticate": "Bearer"})
    actor = await identity.current_actor(session_of(request), token=token)  # asks the account every time
    request.state.actor = actor
    return actor


async def optional_web_actor(request: Request) -> Actor | None:
    if hasattr(request.state, "actor"):
        return request.state.actor
    raw = request.session.get("aid")
    actor = None
    if raw:
        try:
            account = await identity.get_account(session_of(request), account_id=uuid.UUID(raw))
        except ValueError:
            account = None
        fresh = clock.now().timestamp() - int(request.session.get("iat", 0)) < WEB_SESSION_SECONDS
        if account is not None and account.is_active and account.deleted_at is None and fresh and \
                request.session.get("ver") == identity.web_session_version(account):
            actor = await identity.actor_for(session_of(request), account)
            request.state.prefs = (account.locale, account.elderly_mode)  # plain values outlive the session
        else:
            request.session.clear()
    request.state.actor = actor
    return actor


async def web_actor(request: Request) -> Actor:
    actor = await optional_web_actor(request)
    if actor is None:
        raise NotAuthenticated()
    return actor


def require_role(actor: Actor, *roles: str) -> None:
    if not (actor.roles & set(roles)):
        raise Forbidden()
