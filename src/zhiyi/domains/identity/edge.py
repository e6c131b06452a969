"""What the edge (http/auth.py) asks of accounts, answered by the identity domain: the actor of a bearer
token, and a web session's account if it still stands. Installed by domains/registry.py, so that the
edge depends on no domain."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core.policy import Actor
from zhiyi.domains.identity import service
from zhiyi.http.auth import WebSignIn


class AccountsForTheEdge:
    async def actor_for_token(self, session: AsyncSession, *, token: str) -> Actor:
        return await service.current_actor(session, token=token)

    async def web_sign_in(
        self, session: AsyncSession, *, account_id: uuid.UUID, version: str, family: uuid.UUID
    ) -> WebSignIn | None:
        """The account of a signed web session, if it is active, not deleted, at the session's version (no
        password change or log-out everywhere since), and this device's sign-in is live."""
        account = await service.get_account(session, account_id=account_id)
        if account is None or not account.is_active or account.deleted_at is not None:
            return None
        if version != service.web_session_version(account):
            return None
        if not await service.web_sign_in_live(session, account_id=account.id, family=family):
            return None
        return WebSignIn(
            actor=await service.actor_for(session, account),
            locale=account.locale,
            elderly_mode=account.elderly_mode,
        )
