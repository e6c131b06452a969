"""Public operations of the identity domain: accounts, login, tokens, sign-up."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, security
from zhiyi.core.config import get_settings
from zhiyi.core.db import keep_after_rollback
from zhiyi.core.errors import FieldError, ValidationFailed
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.identity import repository as repo

# public operations kept in modules of their own, offered here as the domain's one entry
from zhiyi.domains.identity.codes import check_phone_code, send_phone_code  # noqa: F401
from zhiyi.domains.identity.errors import (
    AccountExists,
    AccountNotFound,
    PatientClaimRefused,
    TokenRejected,
)
from zhiyi.domains.identity.login import authenticate, send_login_code  # noqa: F401
from zhiyi.domains.identity.models import Account, AccountCampus, RefreshToken
from zhiyi.domains.identity.passwords import check_password_strength
from zhiyi.domains.patients import service as patients


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


def _secret() -> str:
    """The key of stored data (hashes of refresh tokens, codes, login keys)."""
    return get_settings().data_secret


@dataclass(frozen=True)
class AccessToken:
    """An access token whose signature checked out: its actor, and what ties it to its account (the
    account's token version) and to its sign-in (the refresh-token family), asked on every request."""

    actor: Actor
    expires: int
    version: int
    family: uuid.UUID

    @property
    def key(self) -> tuple[uuid.UUID, int, uuid.UUID]:
        return (self.actor.account_id, self.version, self.family)


async def create_account(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    display_name: str,
    roles: set[str],
    phone: str | None = None,
    patient_id: uuid.UUID | None = None,
    practitioner_id: uuid.UUID | None = None,
    campus_ids: list[uuid.UUID] | None = None,
    group_wide: bool = False,
    check_strength: bool = True,
    password_hash: str | None = None,
) -> Account:
    _check_roles(roles)
    username = username.strip().lower()
    if await repo.exists(session, username=username, phone=phone):
        raise AccountExists()
    if check_strength and password_hash is None:
        check_password_strength(password, personal=(username, phone, display_name))
    account = Account(
        username=username,
        phone=phone,
        phone_verified_at=clock.now() if phone else None,
        password_hash=password_hash or security.hash_password(password),
        display_name=display_name,
        roles=",".join(sorted(roles)),
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        group_wide=group_wide,
        created_at=clock.now(),
        elderly_mode=False,
        is_active=True,
    )
    session.add(account)
    await session.flush()
    for cid in campus_ids or []:
        session.add(AccountCampus(account_id=account.id, campus_id=cid))
    return account


async def get_account(session: AsyncSession, *, account_id: uuid.UUID) -> Account | None:
    return await repo.get(session, account_id)


async def actor_for(session: AsyncSession, account: Account) -> Actor:
    return Actor(
        account_id=account.id,
        roles=account.role_set,
        patient_id=account.patient_id,
        practitioner_id=account.practitioner_id,
        campus_ids=frozenset(await repo.campus_ids(session, account.id)),
        group_wide=account.group_wide,
        display_name=account.display_name,
    )


def actor_from_claims(claims: dict) -> Actor:
    return Actor(
        account_id=uuid.UUID(claims["sub"]),
        roles=frozenset(claims.get("roles", [])),
        patient_id=uuid.UUID(claims["pid"]) if claims.get("pid") else None,
        practitioner_id=uuid.UUID(claims["prid"]) if claims.get("prid") else None,
        campus_ids=frozenset(uuid.UUID(c) for c in claims.get("cids", [])),
        group_wide=bool(claims.get("gw")),
        display_name=claims.get("name", ""),
    )


# --- login ----------------------------------------------------------------------------------


def access_claims(*, actor: Actor, version: int, family: uuid.UUID) -> dict:
    return {
        "sub": str(actor.account_id),
        "typ": "access",
        "roles": sorted(actor.roles),
        "pid": str(actor.patient_id) if actor.patient_id else None,
        "prid": str(actor.practitioner_id) if actor.practitioner_id else None,
        "cids": sorted(str(c) for c in actor.campus_ids),
        "gw": actor.group_wide,
        "ver": version,
        "sid": str(family),
        "name": actor.display_name,
    }


async def issue_tokens(
    session: AsyncSession, *, account: Account, family: uuid.UUID | None = None
) -> TokenPair:
    """A new pair: a new sign-in's family, or the next of `family` (a rotation)."""
    s = get_settings()
    actor = await actor_for(session, account)
    family = family or uuid.uuid4()
    ttl = dt.timedelta(minutes=s.access_token_minutes)
    access = security.issue_jwt(
        s.secret_key, access_claims(actor=actor, version=account.token_version, family=family), ttl=ttl
    )
    refresh = security.random_token()
    session.add(
        RefreshToken(
            account_id=account.id,
            family_id=family,
            token_hash=security.keyed_hash(_secret(), "refresh", refresh),
            issued_at=clock.now(),
            expires_at=clock.now() + dt.timedelta(days=s.refresh_token_days),
        )
    )
    await session.flush()  # the token works at once, in whichever session reads it
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=int(ttl.total_seconds()))


def read_access_token(token: str) -> AccessToken:
    """A token whose signature checks out and that has not expired; whether its account and sign-in
    still stand is asked separately (`current_actor`, `tokens_current`). A patient's phone sends the
    same token with every request: a process checks its signature and builds its actor once (an LRU
    of tokens that checked out), and reads its expiry every time."""
    try:
        found = _access_token(get_settings().signing_secrets, token)
    except (security.TokenInvalid, KeyError, ValueError, TypeError):
        raise TokenRejected() from None
    if found.expires < clock.now().timestamp():
        raise TokenRejected()
    return found


@lru_cache(maxsize=4096)
def _access_token(secrets: tuple[str, ...], token: str) -> AccessToken:
    claims = security.read_jwt(secrets, token, typ="access")
    return AccessToken(
        actor_from_claims(claims), int(claims["exp"]), int(claims["ver"]), uuid.UUID(claims["sid"])
    )


async def tokens_current(executor, tokens: list[AccessToken]) -> list[bool]:
    """For each token, whether its account still stands as the token says (active, not deleted, the same
    token version) and its sign-in is not over (a live refresh token in its family): one indexed read
    for them all, on a session or a connection."""
    return await repo.current_tokens(executor, keys=[t.key for t in tokens], now=clock.now())


async def tokens_current_on_driver(driver, tokens: list[AccessToken]) -> list[bool]:
    """The same, asked in one round trip on a PostgreSQL driver connection (a batch of the rush lane's)."""
    return await repo.current_tokens_on_driver(driver, keys=[t.key for t in tokens], now=clock.now())


async def current_actor(session: AsyncSession, *, token: str) -> Actor:
    """The actor of a bearer token that still stands, or TokenRejected."""
    found = read_access_token(token)
    if not (await tokens_current(session, [found]))[0]:
        raise TokenRejected()
    return found.actor


async def refresh_tokens(session: AsyncSession, *, refresh_token: str) -> TokenPair:
    """Rotate: the used refresh token is revoked (atomically, so it works once however many
    requests race) and a new pair issued. A revoked token presented again means it leaked:
    every refresh token of the account is revoked."""
    token_hash = security.keyed_hash(_secret(), "refresh", refresh_token)
    used = await repo.use_refresh(session, token_hash=token_hash, now=clock.now())
    if used is None:
        row = await repo.refresh_by_hash(session, token_hash)
        if row is not None and row.revoked_at is not None:
            # every sign-in of the account ends, its access tokens with it (they need a live family)
            keep_after_rollback(session, repo.revoke_all_refresh(row.account_id, clock.now()))
        raise TokenRejected()
    account_id, family = used
    account = await repo.get(session, account_id)
    if account is None or not account.is_active or account.deleted_at is not None:
        raise TokenRejected()
    return await issue_tokens(session, account=account, family=family)


async def revoke_refresh(session: AsyncSession, *, refresh_token: str) -> None:
    """Sign out this device: its refresh token and, with its family, its access tokens stop working."""
    used = await repo.use_refresh(
        session, token_hash=security.keyed_hash(_secret(), "refresh", refresh_token), now=clock.now()
    )
    if used is not None:
        await repo.end_family(session, family_id=used[1], now=clock.now())


async def _end_everything(session: AsyncSession, account: Account) -> None:
    """Every token and web session of the account stops working at once, in every process."""
    account.token_version += 1
    account.session_epoch += 1
    await repo.end_all_sign_ins(session, account.id, clock.now())


async def set_roles(session: AsyncSession, *, account_id: uuid.UUID, roles: set[str]) -> Account:
    """New roles take effect at once: tokens that carry the old ones stop working (the app refreshes)."""
    account = await _account(session, account_id)
    _check_roles(roles)
    account.roles = ",".join(sorted(roles))
    account.token_version += 1
    return account


async def set_campuses(
    session: AsyncSession, *, account_id: uuid.UUID, campus_ids: set[uuid.UUID]
) -> Account:
    """The campuses whose patients a staff account sees; at once (tokens carrying the old ones stop)."""
    account = await _account(session, account_id)
    await repo.replace_campuses(session, account.id, campus_ids)
    account.token_version += 1
    return account


async def reset_password(session: AsyncSession, *, account_id: uuid.UUID) -> tuple[Account, str]:
    """A new random password (to be handed to its owner once, and changed); every session ends."""
    account = await _account(session, account_id)
    password = security.random_token(12)
    account.password_hash = security.hash_password(password)
    await _end_everything(session, account)
    return account, password


async def set_active(session: AsyncSession, *, account_id: uuid.UUID, active: bool) -> Account:
    account = await _account(session, account_id)
    if not active and account.is_active:
        await _end_everything(session, account)
    account.is_active = active
    return account


async def delete_account(session: AsyncSession, *, account_id: uuid.UUID) -> Account:
    """The account never signs in again; its row stays, as the bookings and audit rows that name it do."""
    account = await _account(session, account_id)
    await _end_everything(session, account)
    account.is_active = False
    account.deleted_at = clock.now()
    account.phone = None  # the number may sign up again, and claim the same patient record
    account.patient_id = None
    account.username = f"deleted-{account.id.hex}"
    return account


async def existing_account(session: AsyncSession, *, account_id: uuid.UUID) -> Account:
    """An account that has not been deleted, or AccountNotFound."""
    return await _account(session, account_id)


async def _account(session: AsyncSession, account_id: uuid.UUID) -> Account:
    account = await repo.get(session, account_id)
    if account is None or account.deleted_at is not None:
        raise AccountNotFound()
    return account


def _check_roles(roles: set[str]) -> None:
    unknown = set(roles) - {r.value for r in Role}
    if unknown or not roles:
        raise ValidationFailed(
            errors=[FieldError("roles", f"Unknown roles: {sorted(unknown)}", "roles.unknown")]
        )


async def start_web_sign_in(session: AsyncSession, *, account: Account, seconds: int) -> uuid.UUID:
    """One device's web sign-in: a refresh-token family of its own (its one row is never given out), so
    that signing out ends this device's session and no other, and a copy of its cookie stops with it."""
    family = uuid.uuid4()
    session.add(
        RefreshToken(
            account_id=account.id,
            family_id=family,
            token_hash=security.keyed_hash(_secret(), "refresh", security.random_token()),
            issued_at=clock.now(),
            expires_at=clock.now() + dt.timedelta(seconds=seconds),
        )
    )
    await session.flush()
    return family


async def web_sign_in_live(session: AsyncSession, *, account_id: uuid.UUID, family: uuid.UUID) -> bool:
    return await repo.family_live(session, account_id=account_id, family_id=family, now=clock.now())


async def end_web_sign_in(session: AsyncSession, *, account_id: uuid.UUID, family: uuid.UUID) -> None:
    """Sign this device out (its family ended); the account's other devices stay signed in."""
    await repo.end_family(session, family_id=family, now=clock.now(), account_id=account_id)


def web_session_version(account: Account) -> str:
    return f"{account.session_epoch}:{account.password_hash[-12:]}"


# --- phone verification and patient sign-up -------------------------------------------------


async def sign_up_patient(
    session: AsyncSession,
    *,
    phone: str,
    code: str,
    password: str,
    name: str,
    id_number: str,
    campus_id: uuid.UUID,
    insurance_type: str = "self_pay",
    insurance_number: str | None = None,
) -> Account:
    """Create a patient account after the phone is verified. A person already registered
    (at a desk) claims their record only with the phone on that record; anyone else is
    sent to a desk, so knowing a name and an ID number is never enough."""
    check_password_strength(password, personal=(phone, name, id_number))
    rid = patients.parse_resident_id(id_number)
    # the code first: only the phone's owner learns that it has an account here already
    await check_phone_code(session, phone=phone, purpose="signup", code=code)
    if await repo.exists(session, username=phone, phone=phone):
        raise AccountExists()
    existing = await patients.find_by_id_number(session, id_number=rid.number)
    if existing is not None:
        if (
            existing.name != name
            or existing.phone != phone
            or await repo.patient_has_account(session, existing.id)
        ):
            raise PatientClaimRefused()
        patient = await patients.mark_verified(session, patient_id=existing.id)
    else:
        patient = await patients.register_patient(
            session,
            name=name,
            id_number=rid.number,
            campus_id=campus_id,
            phone=phone,
            insurance_type=insurance_type,
            insurance_number=insurance_number,
            verified=True,
        )
    return await create_account(
        session,
        username=phone,
        password=password,
        display_name=name,
        roles={Role.patient},
        phone=phone,
        patient_id=patient.id,
    )


async def set_preferences(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    locale: str | None = None,
    elderly_mode: bool | None = None,
) -> Account:
    account = await repo.get(session, account_id)
    if account is None:
        raise TokenRejected()
    if locale is not None:
        account.locale = locale
    if elderly_mode is not None:
        account.elderly_mode = elderly_mode
    return account


async def list_accounts(session: AsyncSession) -> list[Account]:
    return await repo.list_accounts(session)
