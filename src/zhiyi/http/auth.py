"""Who is calling: bearer tokens for the API, the session cookie for pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock
from zhiyi.core.errors import Forbidden, NotAuthenticated
from zhiyi.core.policy import Actor
from zhiyi.http.tx import session_of

WEB_SESSION_SECONDS = 12 * 3600  # an absolute limit: using the site does not extend it
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class WebSignIn:
    """A signed-in web session's account, as the pages need it."""

    actor: Actor
    locale: str | None
    elderly_mode: bool


class Accounts(Protocol):
    """Who is calling, asked of the identity domain (installed by domains/registry.py): the edge knows
    tokens and cookies, not accounts, so it depends on no domain."""

    async def actor_for_token(self, session: AsyncSession, *, token: str) -> Actor: ...

    async def web_sign_in(
        self, session: AsyncSession, *, account_id: uuid.UUID, version: str, family: uuid.UUID
    ) -> WebSignIn | None: ...


_accounts: Accounts | None = None


def install(accounts: Accounts) -> None:
    global _accounts
    _accounts = accounts


def accounts() -> Accounts:
    if _accounts is None:
        raise RuntimeError("no accounts backend installed (domains/registry.install_policies)")
    return _accounts


async def api_actor(request: Request, token: Annotated[str | None, Depends(oauth2)]) -> Actor:
    """The API authenticates by bearer token only (no cookies, so no CSRF surface), and asks the token's
    account and sign-in on every request (a revoked token stops at once)."""
    if not token:
        raise NotAuthenticated(headers={"WWW-Authenticate": "Bearer"})
    actor = await accounts().actor_for_token(session_of(request), token=token)  # asks the account every time
    request.state.actor = actor
    return actor


async def _standing_sign_in(request: Request, session: AsyncSession) -> WebSignIn | None:
    """The page's signed-in web session, if it still stands (the account active, not deleted, the
    session not signed out on this device, not ended by a log-out everywhere, a password change or its
    12-hour limit), else None."""
    try:
        account_id = uuid.UUID(request.session.get("aid") or "")
        family = uuid.UUID(request.session.get("sid") or "")
    except ValueError:
        return None
    if clock.now().timestamp() - int(request.session.get("iat", 0)) >= WEB_SESSION_SECONDS:
        return None
    return await accounts().web_sign_in(
        session, account_id=account_id, version=str(request.session.get("ver")), family=family
    )


async def web_session_stands(request: Request, session: AsyncSession) -> bool:
    """For long-lived answers (live queue streams): whether the page's signer-in still stands; an
    anonymous page (the waiting-room display) has nobody to lose."""
    if getattr(request.state, "actor", None) is None:
        return True
    return await _standing_sign_in(request, session) is not None


async def optional_web_actor(request: Request) -> Actor | None:
    if hasattr(request.state, "actor"):
        return request.state.actor
    raw = request.session.get("aid")
    actor = None
    if raw:
        signed_in = await _standing_sign_in(request, session_of(request))
        if signed_in is not None:
            actor = signed_in.actor
            # plain values outlive the session
            request.state.prefs = (signed_in.locale, signed_in.elderly_mode)
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
