"""Every query on the identity domain's tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from sqlalchemy import Update, func, or_, select, text, update
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


def count_wrong_code(verification_id: uuid.UUID) -> Update:
    """A statement (applied even if the request fails) counting a wrong one-time code."""
    return (update(PhoneVerification).where(PhoneVerification.id == verification_id)
            .values(attempts=PhoneVerification.attempts + 1))


async def serialise_on(session: AsyncSession, key: str) -> None:
    """Hold a per-key lock until the transaction ends (PostgreSQL advisory lock; SQLite
    transactions already hold the database's write lock)."""
    if session.bind.dialect.name == "postgresql":
        k = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": k})


async def use_refresh(session: AsyncSession, *, token_hash: str, now: dt.datetime) -> uuid.UUID | None:
    """Revoke a live refresh token and return its account, in one statement (one winner)."""
    stmt = (update(RefreshToken)
            .where(RefreshToken.token_hash == token_hash, RefreshToken.revoked_at.is_(None), RefreshToken.expires_at > now)
            .values(revoked_at=now).returning(RefreshToken.account_id))
    return (await session.execute(stmt)).scalar_one_or_none()


def revoke_all_refresh(account_id: uuid.UUID, now: dt.datetime) -> Update:
    return (update(RefreshToken).where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now))


async def codes_sent(session: AsyncSession, *, phone: str, client_addr: str, phone_since: dt.datetime,
                     addr_since: dt.datetime) -> tuple[int, int]:
    per_phone = await session.scalar(select(func.count()).where(PhoneVerification.phone == phone,
                                                                PhoneVerification.created_at >= phone_since))
    per_addr = await session.scalar(select(func.count()).where(PhoneVerification.client_addr == client_addr,
                                                               PhoneVerification.created_at >= addr_since))
    return int(per_phone or 0), int(per_addr or 0)


async def patient_has_account(session: AsyncSession, patient_id: uuid.UUID) -> bool:
    return await session.scalar(select(Account.id).where(Account.patient_id == patient_id)) is not None
