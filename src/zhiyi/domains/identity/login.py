"""Signing in with a password: back-off, never lock-out, and a second factor by SMS.

A stranger who knows a username must not be able to keep its owner out. So failures slow down only
the address they come from: after `login_max_failures` failures on one account from one address in
the window, each further attempt from there waits (1, 2, 4 ... minutes, at most the window); other
addresses are not slowed. When an account has failed that often from anywhere it is under attack:
the right password then also needs a code sent to the account's phone (no CAPTCHA). A password with
a valid code signs in even from an address that is waiting, so the owner is never locked out; a
wrong code is counted against the code only after the right password (a stranger cannot burn the
owner's codes), and sign-in codes have a quota of their own, by the hour. An account without a phone
(staff made with `zhiyi users create`) has no second factor, so its failures from anywhere make
every address wait: give staff accounts a phone.

Attempts on one account are serialised (advisory lock on PostgreSQL, the write lock on SQLite), so
parallel guesses cannot all slip under the limit.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, security
from zhiyi.core.config import get_settings
from zhiyi.core.db import commit_even_if_failed
from zhiyi.domains.identity import codes
from zhiyi.domains.identity import repository as repo
from zhiyi.domains.identity.errors import (
    LoginFailed,
    LoginThrottled,
    SecondFactorRequired,
    VerificationThrottled,
)
from zhiyi.domains.identity.models import Account, LoginFailure

PURPOSE = "login"
FIRST_WAIT = dt.timedelta(minutes=1)


def _wait(failures: int, free: int, window: dt.timedelta) -> dt.timedelta:
    """How long an address waits after `failures` failures, `free` of which cost nothing."""
    return min(FIRST_WAIT * 2 ** max(0, failures - free), window)


def masked_phone(phone: str | None) -> str:
    return f"*******{phone[-4:]}" if phone else ""


async def authenticate(
    session: AsyncSession,
    *,
    login: str,
    password: str,
    client_addr: str,
    code: str | None = None,
    locale: str = "zh_CN",
) -> Account:
    s = get_settings()
    login = login.strip().lower()
    if not login or any(ord(c) < 32 for c in login) or len(login) > 60:
        login = ""  # never a valid name; still costs a verification and counts as a failure
    account = await repo.by_login(session, login) if login else None
    key = security.keyed_hash(
        get_settings().data_secret, "login", f"account:{account.id}" if account else f"name:{login}"
    )
    await repo.serialise_on(session, key)
    now, window = clock.now(), dt.timedelta(minutes=s.login_window_minutes)
    seen = await repo.failures_since(session, username_key=key, client_addr=client_addr, since=now - window)
    phone = account.phone if account is not None else None

    def failed(error: Exception):
        session.add(LoginFailure(username_key=key, client_addr=client_addr, at=now))
        commit_even_if_failed(session)  # recorded while holding the lock, so the next guess counts it
        return error

    until = _waiting_until(seen, now, window, phoneless=account is not None and phone is None)
    if until is not None:
        # only the phone's owner passes a wait: a valid sign-in code (looked at, not used up). A wrong code
        # counts against this address, never against the code, so nobody can burn the owner's codes
        if not (
            code and phone and await codes.code_matches(session, phone=phone, purpose=PURPOSE, code=code)
        ):
            seconds = (until - now).total_seconds()
            refused = LoginThrottled(
                headers={"Retry-After": str(max(1, int(seconds)))},
                params={"minutes": str(max(1, round(seconds / 60)))},
            )
            # a wrong code is a guess: it makes this address wait longer
            raise failed(refused) if code else refused
    ok = await asyncio.to_thread(
        security.verify_password, account.password_hash if account else None, password
    )
    if not ok or account is None or not account.is_active or account.deleted_at is not None:
        raise failed(LoginFailed())
    if phone is not None and (until is not None or seen.by_user >= s.login_max_failures):
        # under attack from somewhere (or passing a wait): the right password also needs the phone
        if not code:
            await codes.send_phone_code(
                session, phone=phone, purpose=PURPOSE, client_addr=client_addr, locale=locale
            )
            commit_even_if_failed(session)  # the code is sent although this answer is an error
            raise SecondFactorRequired(params={"phone": masked_phone(phone)})
        # used once; or refused
        await codes.check_phone_code(session, phone=phone, purpose=PURPOSE, code=code)
    account.last_login_at = now
    return account


def _waiting_until(
    seen: repo.Failures, now: dt.datetime, window: dt.timedelta, *, phoneless: bool
) -> dt.datetime | None:
    """Until when this address must wait: after its free failures on the account, or on any account; for an
    account without a phone (no second factor to fall back on) also after its free failures from anywhere."""
    s = get_settings()
    waits = []
    if seen.by_pair >= s.login_max_failures and seen.last_pair_at:
        waits.append(seen.last_pair_at + _wait(seen.by_pair, s.login_max_failures, window))
    if seen.by_addr >= s.ip_max_failures and seen.last_addr_at:
        waits.append(seen.last_addr_at + _wait(seen.by_addr, s.ip_max_failures, window))
    if phoneless and seen.by_user >= s.login_max_failures and seen.last_user_at:
        waits.append(seen.last_user_at + _wait(seen.by_user, s.login_max_failures, window))
    return max((w for w in waits if w > now), default=None)


async def send_login_code(
    session: AsyncSession, *, login: str, client_addr: str, locale: str = "zh_CN"
) -> None:
    """A sign-in code to the phone of the account named, if it has one: the answer is the same either
    way (whether an account exists is nobody's business)."""
    login = login.strip().lower()[:60]
    account = await repo.by_login(session, login) if login else None
    if account is not None and account.phone and account.is_active:
        try:
            await codes.send_phone_code(
                session, phone=account.phone, purpose=PURPOSE, client_addr=client_addr, locale=locale
            )
        except VerificationThrottled:
            # a code went out lately: no other, and no different answer (a 429 would say the account
            # exists)
            pass
