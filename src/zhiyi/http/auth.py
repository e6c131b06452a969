"""Who is calling: bearer tokens for the API, the session cookie for pages."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

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


async def _standing_account(request: Request, session: AsyncSession):
    """The account of the page's signed-in web session, if it still stands (active, not deleted, the
    session not signed out on this device, not ended by a log-out everywhere, a password change or its
    12-hour limit), else None."""
    try:
        account = await identity.get_account(session, account_id=uuid.UUID(request.session.get("aid") or ""))
    except ValueError:
        return None
    try:
        family = uuid.UUID(request.session.get("sid") or "")
    except ValueError:
        return None
    fresh = clock.now().timestamp() - int(request.session.get("iat", 0)) < WEB_SESSION_SECONDS
    if account is not None and account.is_active and account.deleted_at is None and fresh and \
            request.session.get("ver") == identity.web_session_version(account) and \
            await identity.web_sign_in_live(session, account_id=account.id, family=family):
        return account
    return None


async def web_session_stands(request: Request, session: AsyncSession) -> bool:
    """For long-lived answers (live queue streams): whether the page's signer-in still stands; an
    anonymous page (the waiting-room display) has nobody to lose."""
    if getattr(request.state, "actor", None) is None:
        return True
    return await _standing_account(request, session) is not None


async def optional_web_actor(request: Request) -> Actor | None:
    if hasattr(request.state, "actor"):
        return request.state.actor
    raw = request.session.get("aid")
    actor = None
    if raw:
        account = await _standing_account(request, session_of(request))
        if account is not None:
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
