"""Every query on the identity domain's tables."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.identity.models import Account, AccountCampus, LoginFailure, PhoneVerification, RefreshToken


async def by_login(session: AsyncSession, login: str) -> Account | None:
    return await session.scalar(select(Account).where(or_(Account.username == login, Account.phone == login)))


async def get(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def exists(session: AsyncSession, *, username: str, phone: str | None) -> bool:
    cond = Account.username == username
    if phone:
        cond = or_(cond, Account.phone == phone, Account.username == phone)
    return await session.scalar(select(Account.id).where(cond).limit(1)) is not None


async def campus_ids(session: AsyncSession, account_id: uuid.UUID) -> list[uuid.UUID]:
    return list((await session.scalars(select(AccountCampus.campus_id).where(AccountCampus.account_id == account_id))).all())


async def failures_since(session: AsyncSession, *, username_key: str, client_addr: str, since: dt.datetime) -> tuple[int, int]:
    by_user = await session.scalar(
        select(func.count()).where(LoginFailure.username_key == username_key, LoginFailure.at >= since))
    by_addr = await session.scalar(
        select(func.count()).where(LoginFailure.client_addr == client_addr, LoginFailure.at >= since))
    return int(by_user or 0), int(by_addr or 0)


async def refresh_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    return await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))


async def latest_verification(session: AsyncSession, *, phone: str, purpose: str) -> PhoneVerification | None:
    return await session.scalar(
        select(PhoneVerification)
        .where(PhoneVerification.phone == phone, PhoneVerification.purpose == purpose)
        .order_by(PhoneVerification.created_at.desc())
        .limit(1)
    )


async def list_accounts(session: AsyncSession, *, limit: int = 200) -> list[Account]:
    return list((await session.scalars(select(Account).order_by(Account.created_at).limit(limit))).all())
