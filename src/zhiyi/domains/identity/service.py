"""Public operations of the identity domain: accounts, login, tokens, sign-up."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, notify, security
from zhiyi.core.config import get_settings
from zhiyi.core.db import commit_even_if_failed, keep_after_rollback
from zhiyi.core.errors import FieldError, ValidationFailed
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.identity import repository as repo
from zhiyi.domains.identity.errors import (
    AccountExists,
    LoginFailed,
    LoginThrottled,
    PatientClaimRefused,
    TokenRejected,
    VerificationFailed,
    VerificationThrottled,
)
from zhiyi.domains.identity.models import Account, AccountCampus, LoginFailure, PhoneVerification, RefreshToken
from zhiyi.domains.patients import service as patients

RESEND_SECONDS = 60
CODES_PER_DAY = 10
CODES_PER_HOUR_PER_ADDRESS = 30
MAX_CODE_ATTEMPTS = 5
MIN_PASSWORD = 8


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


def _secret() -> str:
    return get_settings().secret_key


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD or password.isdigit() or password.isalpha() or len(password) > 128:
        raise ValidationFailed(errors=[FieldError("password", "At least 8 characters, mixing letters and digits.", "password.weak")])


async def create_account(
    session: AsyncSession, *, username: str, password: str, display_name: str, roles: set[str],
    phone: str | None = None, patient_id: uuid.UUID | None = None, practitioner_id: uuid.UUID | None = None,
    campus_ids: list[uuid.UUID] | None = None, group_wide: bool = False, check_strength: bool = True,
    password_hash: str | None = None,
) -> Account:
    unknown = set(roles) - {r.value for r in Role}
    if unknown or not roles:
        raise ValidationFailed(errors=[FieldError("roles", f"Unknown roles: {sorted(unknown)}", "roles.unknown")])
    username = username.strip().lower()
    if await repo.exists(session, username=username, phone=phone):
        raise AccountExists()
    if check_strength and password_hash is None:
        check_password_strength(password)
    account = Account(
        username=username, phone=phone, phone_verified_at=clock.now() if phone else None,
        password_hash=password_hash or security.hash_password(password), display_name=display_name,
        roles=",".join(sorted(roles)), patient_id=patient_id, practitioner_id=practitioner_id,
        group_wide=group_wide, created_at=clock.now(), elderly_mode=False, is_active=True,
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
        account_id=account.id, roles=account.role_set, patient_id=account.patient_id,
        practitioner_id=account.practitioner_id, campus_ids=frozenset(await repo.campus_ids(session, account.id)),
        group_wide=account.group_wide, display_name=account.display_name,
    )


def actor_from_claims(claims: dict) -> Actor:
    return Actor(
        account_id=uuid.UUID(claims["sub"]), roles=frozenset(claims.get("roles", [])),
        patient_id=uuid.UUID(claims["pid"]) if claims.get("pid") else None,
        practitioner_id=uuid.UUID(claims["prid"]) if claims.get("prid") else None,
        campus_ids=frozenset(uuid.UUID(c) for c in claims.get("cids", [])),
        group_wide=bool(claims.get("gw")), display_name=claims.get("name", ""),
    )


# --- login ----------------------------------------------------------------------------------

async def authenticate(session: AsyncSession, *, login: str, password: str, client_addr: str) -> Account:
    """Check a password, refusing early when this account or address has failed too often.

    Attempts on one account are serialised (advisory lock on PostgreSQL, the write lock on
    SQLite), so parallel guesses cannot all slip under the limit."""
    s = get_settings()
    login = login.strip().lower()
    if not login or any(ord(c) < 32 for c in login) or len(login) > 60:
        login = ""  # never a valid name; still costs a verification and counts as a failure
    account = await repo.by_login(session, login) if login else None
    key = security.keyed_hash(_secret(), "login", f"account:{account.id}" if account else f"name:{login}")
    await repo.serialise_on(session, key)
    since = clock.now() - dt.timedelta(minutes=s.login_window_minutes)
    by_user, by_addr = await repo.failures_since(session, username_key=key, client_addr=client_addr, since=since)
    if by_user >= s.login_max_failures or by_addr >= s.ip_max_failures:
        raise LoginThrottled(headers={"Retry-After": str(s.login_window_minutes * 60)})
    ok = await asyncio.to_thread(security.verify_password, account.password_hash if account else None, password)
    if not ok or account is None or not account.is_active:
        session.add(LoginFailure(username_key=key, client_addr=client_addr, at=clock.now()))
        commit_even_if_failed(session)  # recorded while holding the lock, so the next guess counts it
        raise LoginFailed()
    account.last_login_at = clock.now()
    return account


async def issue_tokens(session: AsyncSession, *, account: Account) -> TokenPair:
    s = get_settings()
    actor = await actor_for(session, account)
    claims = {
        "sub": str(account.id), "typ": "access", "roles": sorted(actor.roles),
        "pid": str(actor.patient_id) if actor.patient_id else None,
        "prid": str(actor.practitioner_id) if actor.practitioner_id else None,
        "cids": sorted(str(c) for c in actor.campus_ids), "gw": actor.group_wide,
    }
    ttl = dt.timedelta(minutes=s.access_token_minutes)
    access = security.issue_jwt(_secret(), claims, ttl=ttl)
    refresh = security.random_token()
    session.add(RefreshToken(
        account_id=account.id, token_hash=security.keyed_hash(_secret(), "refresh", refresh),
        issued_at=clock.now(), expires_at=clock.now() + dt.timedelta(days=s.refresh_token_days),
    ))
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=int(ttl.total_seconds()))


def actor_from_access_token(token: str) -> Actor:
    """A patient's phone sends the same token with every request: a process checks its signature
    and builds its actor once (an LRU of tokens that checked out), and reads its expiry every time."""
    try:
        actor, expires = _access_token_actor(_secret(), token)
    except (security.TokenInvalid, KeyError, ValueError, TypeError):
        raise TokenRejected() from None
    if expires < clock.now().timestamp():
        raise TokenRejected()
    return actor


@lru_cache(maxsize=4096)
def _access_token_actor(secret: str, token: str) -> tuple[Actor, int]:
    claims = security.read_jwt(secret, token, typ="access")
    return actor_from_claims(claims), int(claims["exp"])


async def refresh_tokens(session: AsyncSession, *, refresh_token: str) -> TokenPair:
    """Rotate: the used refresh token is revoked (atomically, so it works once however many
    requests race) and a new pair issued. A revoked token presented again means it leaked:
    every refresh token of the account is revoked."""
    token_hash = security.keyed_hash(_secret(), "refresh", refresh_token)
    account_id = await repo.use_refresh(session, token_hash=token_hash, now=clock.now())
    if account_id is None:
        row = await repo.refresh_by_hash(session, token_hash)
        if row is not None and row.revoked_at is not None:
            keep_after_rollback(session, repo.revoke_all_refresh(row.account_id, clock.now()))
        raise TokenRejected()
    account = await repo.get(session, account_id)
    if account is None or not account.is_active:
        raise TokenRejected()
    return await issue_tokens(session, account=account)


async def revoke_refresh(session: AsyncSession, *, refresh_token: str) -> None:
    await repo.use_refresh(session, token_hash=security.keyed_hash(_secret(), "refresh", refresh_token), now=clock.now())


async def end_web_sessions(session: AsyncSession, *, account_id: uuid.UUID) -> None:
    """Log out everywhere: signed session cookies carry the epoch, so old ones stop working."""
    account = await repo.get(session, account_id)
    if account is not None:
        account.session_epoch += 1


def web_session_version(account: Account) -> str:
    return f"{account.session_epoch}:{account.password_hash[-12:]}"


# --- phone verification and patient sign-up -------------------------------------------------

async def send_phone_code(session: AsyncSession, *, phone: str, purpose: str, client_addr: str,
                          locale: str = "zh_CN") -> None:
    """Send a one-time code, at most once a minute and CODES_PER_DAY times a day to a phone,
    and CODES_PER_HOUR_PER_ADDRESS times an hour from one address."""
    s = get_settings()
    now = clock.now()
    last = await repo.latest_verification(session, phone=phone, purpose=purpose)
    if last is not None and (now - last.created_at).total_seconds() < RESEND_SECONDS:
        raise VerificationThrottled(headers={"Retry-After": str(RESEND_SECONDS)})
    per_phone, per_addr = await repo.codes_sent(session, phone=phone, client_addr=client_addr,
                                                phone_since=now - dt.timedelta(days=1), addr_since=now - dt.timedelta(hours=1))
    if per_phone >= CODES_PER_DAY or per_addr >= CODES_PER_HOUR_PER_ADDRESS:
        raise VerificationThrottled(headers={"Retry-After": "3600"})
    code = security.numeric_code()
    session.add(PhoneVerification(
        phone=phone, purpose=purpose, code_hash=security.keyed_hash(_secret(), "otp", f"{phone}:{purpose}:{code}"),
        created_at=now, expires_at=now + dt.timedelta(minutes=s.otp_minutes), attempts=0, client_addr=client_addr,
    ))
    await notify.enqueue(session, s.notification_channel, notify.Message(
        to=phone, template=f"otp.{purpose}", params={"code": code, "minutes": str(s.otp_minutes)}, locale=locale))


async def check_phone_code(session: AsyncSession, *, phone: str, purpose: str, code: str) -> None:
    row = await repo.latest_verification(session, phone=phone, purpose=purpose)
    if row is None or row.consumed_at is not None or row.expires_at < clock.now() or row.attempts >= MAX_CODE_ATTEMPTS:
        raise VerificationFailed()
    expected = security.keyed_hash(_secret(), "otp", f"{phone}:{purpose}:{code}")
    if not security.constant_equals(expected, row.code_hash):
        # a wrong guess counts even though the request fails (the rollback would undo `+= 1`)
        keep_after_rollback(session, repo.count_wrong_code(row.id))
        raise VerificationFailed()
    row.consumed_at = clock.now()


async def sign_up_patient(
    session: AsyncSession, *, phone: str, code: str, password: str, name: str, id_number: str,
    campus_id: uuid.UUID, insurance_type: str = "self_pay", insurance_number: str | None = None,
) -> Account:
    """Create a patient account after the phone is verified. A person already registered
    (at a desk) claims their record only with the phone on that record; anyone else is
    sent to a desk, so knowing a name and an ID number is never enough."""
    check_password_strength(password)
    rid = patients.parse_resident_id(id_number)
    if await repo.exists(session, username=phone, phone=phone):
        raise AccountExists()
    await check_phone_code(session, phone=phone, purpose="signup", code=code)
    existing = await patients.find_by_id_number(session, id_number=rid.number)
    if existing is not None:
        if existing.name != name or existing.phone != phone or await repo.patient_has_account(session, existing.id):
            raise PatientClaimRefused()
        patient = await patients.mark_verified(session, patient_id=existing.id)
    else:
        patient = await patients.register_patient(
            session, name=name, id_number=rid.number, campus_id=campus_id, phone=phone,
            insurance_type=insurance_type, insurance_number=insurance_number, verified=True)
    return await create_account(session, username=phone, password=password, display_name=name,
                                roles={Role.patient}, phone=phone, patient_id=patient.id)


async def set_preferences(session: AsyncSession, *, account_id: uuid.UUID, locale: str | None = None,
                          elderly_mode: bool | None = None) -> Account:
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
