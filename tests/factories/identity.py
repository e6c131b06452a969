"""Factories for accounts and API tokens (one Argon2 hash for all, to keep tests fast)."""

from __future__ import annotations

from functools import lru_cache

from zhiyi.core import security
from zhiyi.domains.identity import service as identity

PASSWORD = "Passw0rd-test"


@lru_cache
def password_hash() -> str:
    return security.hash_password(PASSWORD)


async def account(
    session,
    *,
    username: str,
    roles: set[str],
    patient=None,
    campuses=(),
    group_wide: bool = False,
    practitioner=None,
):
    return await identity.create_account(
        session,
        username=username,
        password=PASSWORD,
        password_hash=password_hash(),
        display_name=username,
        roles=roles,
        patient_id=patient.id if patient else None,
        campus_ids=[c.id for c in campuses],
        group_wide=group_wide,
        practitioner_id=practitioner.id if practitioner else None,
    )


async def bearer(session, acct) -> dict[str, str]:
    pair = await identity.issue_tokens(session, account=acct)
    return {"Authorization": f"Bearer {pair.access_token}"}
