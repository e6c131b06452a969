"""An admin's changes to accounts (create a staff account, disable, enable, roles and campuses, a new
password, delete): allowed for accounts of the admin's own campuses only (a group-wide admin: any),
never one's own, and each written to the audit trail.

A staff account belongs to its campuses (all of them must be the admin's; a group-wide account only to
a group-wide admin); a patient's account to the patient's registered campus.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit, security
from zhiyi.core.errors import FieldError, Forbidden, ValidationFailed
from zhiyi.core.i18n import N_
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.identity import repository as repo
from zhiyi.domains.identity import service
from zhiyi.domains.identity.errors import NotYourCampus, OwnAccount
from zhiyi.domains.identity.models import Account
from zhiyi.domains.patients import service as patients

KIND = "account"


async def _campuses_of(session: AsyncSession, account: Account) -> frozenset[uuid.UUID]:
    if account.patient_id is not None and not account.role_set - {Role.patient}:
        found = await patients.patients_by_ids(session, ids={account.patient_id})
        return (
            frozenset({found[account.patient_id].registered_campus_id})
            if account.patient_id in found
            else frozenset()
        )
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


async def change_account(
    session: AsyncSession,
    *,
    actor: Actor,
    account_id: uuid.UUID,
    roles: set[str] | None = None,
    active: bool | None = None,
) -> Account:
    account = await _managed(session, actor, account_id, "account.change")
    if roles is not None:
        account = await service.set_roles(session, account_id=account.id, roles=roles)
    if active is not None:
        account = await service.set_active(session, account_id=account.id, active=active)
    return account


STAFF_ROLE_CHOICES = (Role.doctor, Role.nurse, Role.pharmacist, Role.registrar, Role.admin, Role.executive)


def _staff_roles(roles: set[str]) -> set[str]:
    chosen = {r for r in roles if r in {x.value for x in STAFF_ROLE_CHOICES}}
    if not chosen or chosen != set(roles):
        raise ValidationFailed(
            errors=[FieldError("roles", "Choose at least one staff role.", "roles.invalid")]
        )
    return chosen


def _campuses_for(actor: Actor, campus_ids: set[uuid.UUID], group_wide: bool) -> set[uuid.UUID]:
    """Campuses (and group-wide access) an admin may give: their own (group-wide only if they are)."""
    if group_wide and not actor.group_wide:
        raise NotYourCampus()
    if not actor.group_wide and not campus_ids <= actor.campus_ids:
        raise NotYourCampus()
    if not campus_ids and not group_wide:
        raise ValidationFailed(
            errors=[FieldError("campus", "Choose the campus the account works at.", "missing")]
        )
    return campus_ids


async def staff(session: AsyncSession, *, actor: Actor) -> list[tuple[Account, list[uuid.UUID]]]:
    """The staff accounts this admin manages: of their campuses (a group-wide admin: all)."""
    if not actor.has(Role.admin):
        raise Forbidden()
    return await repo.staff_accounts(session, campus_ids=None if actor.group_wide else actor.campus_ids)


async def create_staff(
    session: AsyncSession,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    roles: set[str],
    campus_ids: set[uuid.UUID],
    group_wide: bool = False,
) -> tuple[Account, str]:
    """A staff account with a random first password (shown once, to hand over); audited."""
    if not actor.has(Role.admin):
        raise Forbidden()
    chosen, campuses = _staff_roles(roles), _campuses_for(actor, campus_ids, group_wide)
    password = security.random_token(12)
    account = await service.create_account(
        session,
        username=username,
        password=password,
        display_name=display_name,
        roles=chosen,
        campus_ids=sorted(campuses),
        group_wide=group_wide,
        check_strength=False,
    )
    audit.record(session, actor, "account.create", KIND, account.id, patient_id=None)
    return account, password


async def change_access(
    session: AsyncSession, *, actor: Actor, account_id: uuid.UUID, roles: set[str], campus_ids: set[uuid.UUID]
) -> Account:
    """New roles and campuses for a staff account (both the admin's to give); at once, audited."""
    account = await _managed(session, actor, account_id, "account.change")
    chosen, campuses = _staff_roles(roles), _campuses_for(actor, campus_ids, account.group_wide)
    await service.set_roles(session, account_id=account.id, roles=chosen)
    return await service.set_campuses(session, account_id=account.id, campus_ids=campuses)


async def reset_password(
    session: AsyncSession, *, actor: Actor, account_id: uuid.UUID
) -> tuple[Account, str]:
    account = await _managed(session, actor, account_id, "account.reset_password")
    return await service.reset_password(session, account_id=account.id)


async def delete_account(session: AsyncSession, *, actor: Actor, account_id: uuid.UUID) -> Account:
    account = await _managed(session, actor, account_id, "account.delete")
    return await service.delete_account(session, account_id=account.id)


AUDIT_ACTIONS = {
    "account.change": N_("Changed a sign-in account"),
    "account.delete": N_("Deleted a sign-in account"),
    "account.create": N_("Made a staff account"),
    "account.reset_password": N_("Reset a password"),
}
