"""Every query on the identity domain's tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import (
    BindParameter,
    DateTime,
    Integer,
    Select,
    Update,
    Uuid,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core.db import UTCDateTime
from zhiyi.domains.identity.models import (
    Account,
    AccountCampus,
    LoginFailure,
    PhoneVerification,
    RefreshToken,
)


async def by_login(session: AsyncSession, login: str) -> Account | None:
    return await session.scalar(
        select(Account).where(
            or_(Account.username == login, Account.phone == login), Account.deleted_at.is_(None)
        )
    )


TokenKey = tuple[uuid.UUID, int, uuid.UUID]  # (account, token version, sign-in's refresh-token family)


def _standing(keys, now) -> Select:
    """The rule, once: of the `keys` rows (account, version, family, n), the n of those whose account is
    active, not deleted and at that version, with a live refresh token in that family."""
    return (
        select(keys.c.n)
        .select_from(keys)
        .join(Account, and_(Account.id == keys.c.account, Account.token_version == keys.c.version))
        .where(
            Account.is_active.is_(True),
            Account.deleted_at.is_(None),
            select(RefreshToken.id)
            .where(
                RefreshToken.family_id == keys.c.family,
                RefreshToken.account_id == Account.id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .exists(),
        )
    )


def _array(name: str, item) -> BindParameter:
    return bindparam(name, type_=ARRAY(item))


# the same rule over arrays, for a batch asked straight on a PostgreSQL driver connection (the rush lane):
# compiled once; $1-$3 the keys' columns, $4 the time
STANDING_MANY = str(
    _standing(
        func.unnest(_array("accounts", Uuid), _array("versions", Integer), _array("families", Uuid))
        .table_valued("account", "version", "family", with_ordinality="n")
        .render_derived(),
        bindparam("now", type_=DateTime(timezone=True)),
    ).compile(dialect=postgresql_asyncpg.dialect())
)


async def current_tokens(executor, *, keys: list[TokenKey], now: dt.datetime) -> list[bool]:
    """For each key, whether it stands (`_standing`). `executor`: a session or a connection, either
    database."""
    if not keys:
        return []
    rows = union_all(
        *(
            select(
                literal(a, Uuid).label("account"),
                literal(v, Integer).label("version"),
                literal(f, Uuid).label("family"),
                literal(n, Integer).label("n"),
            )
            for n, (a, v, f) in enumerate(keys, 1)
        )
    ).subquery("token_key")  # VALUES: no column names in SQLite
    stands = set((await executor.scalars(_standing(rows, bindparam("now", now, type_=UTCDateTime)))).all())
    return [n in stands for n in range(1, len(keys) + 1)]


async def current_tokens_on_driver(driver, *, keys: list[TokenKey], now: dt.datetime) -> list[bool]:
    """The same, in one round trip on an asyncpg connection (no ORM session, for a batch of requests)."""
    if not keys:
        return []
    accounts, versions, families = (list(column) for column in zip(*keys, strict=True))
    stands = {row[0] for row in await driver.fetch(STANDING_MANY, accounts, versions, families, now)}
    return [n in stands for n in range(1, len(keys) + 1)]


async def get(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def exists(session: AsyncSession, *, username: str, phone: str | None) -> bool:
    cond = Account.username == username
    if phone:
        cond = or_(cond, Account.phone == phone, Account.username == phone)
    return await session.scalar(select(Account.id).where(cond).limit(1)) is not None


async def campus_ids(session: AsyncSession, account_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        (
            await session.scalars(
                select(AccountCampus.campus_id).where(AccountCampus.account_id == account_id)
            )
        ).all()
    )


@dataclass(frozen=True)
class Failures:
    by_user: int  # on this account (or unknown name), from anywhere
    by_pair: int  # on this account, from this address
    by_addr: int  # from this address, on any account
    last_pair_at: dt.datetime | None
    last_addr_at: dt.datetime | None
    last_user_at: dt.datetime | None = None


async def failures_since(
    session: AsyncSession, *, username_key: str, client_addr: str, since: dt.datetime
) -> Failures:
    from_here = LoginFailure.client_addr == client_addr
    by_user, by_pair, last_pair, last_user = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(from_here),
                func.max(LoginFailure.at).filter(from_here),
                func.max(LoginFailure.at),
            ).where(LoginFailure.username_key == username_key, LoginFailure.at >= since)
        )
    ).one()
    by_addr, last_addr = (
        await session.execute(
            select(func.count(), func.max(LoginFailure.at)).where(from_here, LoginFailure.at >= since)
        )
    ).one()
    return Failures(
        int(by_user or 0),
        int(by_pair or 0),
        int(by_addr or 0),
        _utc(last_pair),
        _utc(last_addr),
        _utc(last_user),
    )


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    """An aggregate's time comes back without the column's type on SQLite: naive text."""
    if at is None:
        return None
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


async def refresh_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    return await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))


async def latest_verification(session: AsyncSession, *, phone: str, purpose: str) -> PhoneVerification | None:
    return await session.scalar(
        select(PhoneVerification)
        .where(PhoneVerification.phone == phone, PhoneVerification.purpose == purpose)
        .order_by(PhoneVerification.created_at.desc())
        .limit(1)
    )


async def accounts_by_ids(session: AsyncSession, ids: set[uuid.UUID]) -> list[Account]:
    return list((await session.scalars(select(Account).where(Account.id.in_(ids)))).all()) if ids else []


async def find_accounts(session: AsyncSession, *, text: str, limit: int) -> list[Account]:
    """Accounts whose username is `text` or whose name starts with it."""
    q = select(Account).where(
        or_(Account.username == text, Account.display_name.startswith(text, autoescape=True))
    )
    return list((await session.scalars(q.order_by(Account.username).limit(limit))).all())


async def replace_campuses(session: AsyncSession, account_id: uuid.UUID, campus_ids: set[uuid.UUID]) -> None:
    await session.execute(delete(AccountCampus).where(AccountCampus.account_id == account_id))
    if campus_ids:
        await session.execute(
            insert(AccountCampus), [{"account_id": account_id, "campus_id": c} for c in campus_ids]
        )


async def staff_accounts(
    session: AsyncSession, *, campus_ids: frozenset[uuid.UUID] | None, limit: int = 500
) -> list[tuple[Account, list[uuid.UUID]]]:
    """Staff accounts (any role but only "patient"), not deleted, with their campuses; with `campus_ids`,
    those holding one of them and not group-wide."""
    q = select(Account).where(Account.deleted_at.is_(None), Account.roles != "patient")
    if campus_ids is not None:
        q = q.where(
            Account.group_wide.is_(False),
            Account.id.in_(select(AccountCampus.account_id).where(AccountCampus.campus_id.in_(campus_ids))),
        )
    accounts = list((await session.scalars(q.order_by(Account.username).limit(limit))).all())
    links: dict[uuid.UUID, list[uuid.UUID]] = {a.id: [] for a in accounts}
    if accounts:
        rows = await session.execute(
            select(AccountCampus.account_id, AccountCampus.campus_id).where(
                AccountCampus.account_id.in_(list(links))
            )
        )
        for aid, cid in rows.all():
            links[aid].append(cid)
    return [(a, links[a.id]) for a in accounts]


async def list_accounts(session: AsyncSession, *, limit: int = 200) -> list[Account]:
    return list(
        (
            await session.scalars(
                select(Account).where(Account.deleted_at.is_(None)).order_by(Account.created_at).limit(limit)
            )
        ).all()
    )


def count_wrong_code(verification_id: uuid.UUID) -> Update:
    """A statement (applied even if the request fails) counting a wrong one-time code."""
    return (
        update(PhoneVerification)
        .where(PhoneVerification.id == verification_id)
        .values(attempts=PhoneVerification.attempts + 1)
    )


async def serialise_on(session: AsyncSession, key: str) -> None:
    """Hold a per-key lock until the transaction ends (PostgreSQL advisory lock; SQLite
    transactions already hold the database's write lock)."""
    if session.bind.dialect.name == "postgresql":
        k = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": k})


async def use_refresh(
    session: AsyncSession, *, token_hash: str, now: dt.datetime
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """Revoke a live refresh token and return its account and family, in one statement (one winner)."""
    stmt = (
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == token_hash,
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(revoked_at=now)
        .returning(RefreshToken.account_id, RefreshToken.family_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def end_family(
    session: AsyncSession, *, family_id: uuid.UUID, now: dt.datetime, account_id: uuid.UUID | None = None
) -> None:
    q = update(RefreshToken).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
    if account_id is not None:  # a family named by a client: only ever its own account's
        q = q.where(RefreshToken.account_id == account_id)
    await session.execute(q.values(revoked_at=now))


async def family_live(
    session: AsyncSession, *, account_id: uuid.UUID, family_id: uuid.UUID, now: dt.datetime
) -> bool:
    return (
        await session.scalar(
            select(RefreshToken.id)
            .where(
                RefreshToken.family_id == family_id,
                RefreshToken.account_id == account_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .limit(1)
        )
        is not None
    )


async def end_all_sign_ins(session: AsyncSession, account_id: uuid.UUID, now: dt.datetime) -> None:
    await session.execute(revoke_all_refresh(account_id, now))


def revoke_all_refresh(account_id: uuid.UUID, now: dt.datetime) -> Update:
    return (
        update(RefreshToken)
        .where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def codes_sent(
    session: AsyncSession,
    *,
    phone: str,
    purpose: str,
    client_addr: str,
    phone_since: dt.datetime,
    addr_since: dt.datetime,
) -> tuple[int, int]:
    """Codes of this purpose sent to the phone since `phone_since`, and of any purpose from the address."""
    per_phone = await session.scalar(
        select(func.count()).where(
            PhoneVerification.phone == phone,
            PhoneVerification.purpose == purpose,
            PhoneVerification.created_at >= phone_since,
        )
    )
    per_addr = await session.scalar(
        select(func.count()).where(
            PhoneVerification.client_addr == client_addr, PhoneVerification.created_at >= addr_since
        )
    )
    return int(per_phone or 0), int(per_addr or 0)


async def patient_has_account(session: AsyncSession, patient_id: uuid.UUID) -> bool:
    return await session.scalar(select(Account.id).where(Account.patient_id == patient_id)) is not None
