"""One-time codes sent by SMS: sign-up, and signing in as a second factor."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, notify, security
from zhiyi.core.config import get_settings
from zhiyi.core.db import keep_after_rollback
from zhiyi.domains.identity import repository as repo
from zhiyi.domains.identity.errors import VerificationFailed, VerificationThrottled
from zhiyi.domains.identity.models import PhoneVerification

RESEND_SECONDS = 60
CODES_PER_DAY = 10
CODES_PER_HOUR_PER_ADDRESS = 30
MAX_CODE_ATTEMPTS = 5
# a purpose's quota per phone: (codes, window). Each purpose counts its own, so asking sign-in codes tells
# nothing about sign-up's answers; sign-in codes go by the hour, so nobody can use up a day of them
QUOTAS = {"login": (5, dt.timedelta(hours=1))}


def _secret() -> str:
    return get_settings().data_secret


def _hash(phone: str, purpose: str, code: str) -> str:
    return security.keyed_hash(_secret(), "otp", f"{phone}:{purpose}:{code}")


async def send_phone_code(
    session: AsyncSession, *, phone: str, purpose: str, client_addr: str, locale: str = "zh_CN"
) -> None:
    """Send a one-time code, at most once a minute and CODES_PER_DAY times a day (a purpose's QUOTAS) to a
    phone, and CODES_PER_HOUR_PER_ADDRESS times an hour from one address."""
    s = get_settings()
    now = clock.now()
    last = await repo.latest_verification(session, phone=phone, purpose=purpose)
    if last is not None and (now - last.created_at).total_seconds() < RESEND_SECONDS:
        raise VerificationThrottled(headers={"Retry-After": str(RESEND_SECONDS)})
    quota, window = QUOTAS.get(purpose, (CODES_PER_DAY, dt.timedelta(days=1)))
    per_phone, per_addr = await repo.codes_sent(
        session,
        phone=phone,
        purpose=purpose,
        client_addr=client_addr,
        phone_since=now - window,
        addr_since=now - dt.timedelta(hours=1),
    )
    if per_phone >= quota or per_addr >= CODES_PER_HOUR_PER_ADDRESS:
        raise VerificationThrottled(headers={"Retry-After": "3600"})
    code = security.numeric_code()
    session.add(
        PhoneVerification(
            phone=phone,
            purpose=purpose,
            code_hash=_hash(phone, purpose, code),
            created_at=now,
            expires_at=now + dt.timedelta(minutes=s.otp_minutes),
            attempts=0,
            client_addr=client_addr,
        )
    )
    await notify.enqueue(
        session,
        s.notification_channel,
        notify.Message(
            to=phone,
            template=f"otp.{purpose}",
            params={"code": code, "minutes": str(s.otp_minutes)},
            locale=locale,
        ),
    )


async def code_matches(session: AsyncSession, *, phone: str, purpose: str, code: str) -> bool:
    """Whether `code` is the live code of `phone` for `purpose`, without using it up or counting a miss
    (the caller counts misses elsewhere)."""
    row = await repo.latest_verification(session, phone=phone, purpose=purpose)
    if (
        row is None
        or row.consumed_at is not None
        or row.expires_at < clock.now()
        or row.attempts >= MAX_CODE_ATTEMPTS
    ):
        return False
    return security.constant_equals(_hash(phone, purpose, code), row.code_hash)


async def check_phone_code(session: AsyncSession, *, phone: str, purpose: str, code: str) -> None:
    """The latest code sent to `phone` for `purpose`, used once; a wrong guess is counted even though the
    request fails, and five end the code."""
    row = await repo.latest_verification(session, phone=phone, purpose=purpose)
    if (
        row is None
        or row.consumed_at is not None
        or row.expires_at < clock.now()
        or row.attempts >= MAX_CODE_ATTEMPTS
    ):
        raise VerificationFailed()
    if not security.constant_equals(_hash(phone, purpose, code), row.code_hash):
        keep_after_rollback(session, repo.count_wrong_code(row.id))  # the rollback would undo `+= 1`
        raise VerificationFailed()
    row.consumed_at = clock.now()
