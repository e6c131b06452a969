"""An admin's changes to accounts (disable, enable, roles, delete): allowed for accounts of the admin's
own campuses only (a group-wide admin: any), never one's own, and each written to the audit trail.

A staff account belongs to its campuses (all of them must be the admin's; a group-wide account only to
a group-wide admin); a patient's account to the patient's registered campus.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit
from zhiyi.core.errors import Conflict, Forbidden
from zhiyi.core.i18n import N_
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.identity import repository as repo
from zhiyi.domains.identity import service
from zhiyi.domains.identity.models import Account
from zhiyi.domains.patients import service as patients

KIND = "account"


class OwnAccount(Conflict):
    code, message = "own_account", "You cannot change or delete your own account here."


async def _campuses_of(session: AsyncSession, account: Account) -> frozenset[uuid.UUID]:
    if account.patient_id is not None and not account.role_set - {Role.patient}:
        found = await patients.patients_by_ids(session, ids={account.patient_id})
        return frozenset({found[account.patient_id].registered_campus_id}) if account.patient_id in found else frozenset()
    return frozenset(await repo.campus_ids(session, account.id))


async def _managed(session: AsyncSession, actor: Actor, account_id: uuid.UUID, action: str) -> Account:
    """The account, if this admin may change it; the attempt is audited either way."""
    if not actor.has(Role.admin):
        raise Forbidden()
    if actor.account_id == account_id:  # an admin cannot lock the last door behind themself
        raise OwnAccount()
    account = await service.existing_account(session, account_id=account_id)
    campuses = await _campuses_of(session, account)
    allowed = actor.group_wide or (not account.group_wide and campuses and campuses <= actor.campus_ids)
    if not allowed:
        audit.keep_denied(session, actor, action, KIND, account.id, patient_id=account.patient_id)
        raise Forbidden()
    audit.record(session, actor, action, KIND, account.id, patient_id=account.patient_id)
    return account


async def change_account(session: AsyncSession, *, actor: Actor, account_id: uuid.UUID, roles: set[str] | None = None,
                         active: bool | None = None) -> Account:
    account = await _managed(session, actor, account_id, "account.change")
    if roles is not None:
        account = await service.set_roles(session, account_id=account.id, roles=roles)
    if active is not None:
        account = await service.set_active(session, account_id=account.id, active=active)
    return account


async def delete_account(session: AsyncSession, *, actor: Actor, account_id: uuid.UUID) -> Account:
    account = await _managed(session, actor, account_id, "account.delete")
    return await service.delete_account(session, account_id=account.id)


AUDIT_ACTIONS = {"account.change": N_("Changed a sign-in account"), "account.delete": N_("Deleted a sign-in account")}
