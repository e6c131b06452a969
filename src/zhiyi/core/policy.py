"""Access control in one place.

`decide(actor, action, resource)` is the only decision; `core.audit.guard` asks it and audits the
attempt, and the domains' gates (`patients.service.access_patient`, `scheduling.service.access_booking`)
are built on that.
Domains register the rules for their resource kinds in their own policy.py
(`register_rule("patient", rule)`); core stays ignorant of what a patient is.
A rule returns a `Decision`: allowed or not, and for whom the actor acts.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    patient = "patient"
    doctor = "doctor"
    nurse = "nurse"
    pharmacist = "pharmacist"
    registrar = "registrar"
    admin = "admin"
    executive = "executive"


STAFF_ROLES = frozenset(
    {Role.doctor, Role.nurse, Role.pharmacist, Role.registrar, Role.admin, Role.executive}
)
CLINICAL_ROLES = frozenset({Role.doctor, Role.nurse, Role.pharmacist, Role.registrar})


@dataclass(frozen=True)
class Actor:
    """Who is acting: built from a verified token or session, never from the request body."""

    account_id: uuid.UUID
    roles: frozenset[str]
    patient_id: uuid.UUID | None = None
    practitioner_id: uuid.UUID | None = None
    campus_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    group_wide: bool = False
    display_name: str = ""

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)


@dataclass(frozen=True)
class Resource:
    kind: str
    id: Any = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    on_behalf_of: uuid.UUID | None = None
    reason: str = ""


Rule = Callable[[Any, Actor, str, Resource], Awaitable[Decision]]
_rules: dict[str, Rule] = {}


def register_rule(kind: str, rule: Rule) -> None:
    _rules[kind] = rule


async def decide(session: Any, actor: Actor | None, action: str, resource: Resource) -> Decision:
    if actor is None:
        return Decision(False, reason="anonymous")
    rule = _rules.get(resource.kind)
    if rule is None:  # unknown kinds are denied, never allowed by default
        return Decision(False, reason="no rule")
    return await rule(session, actor, action, resource)
