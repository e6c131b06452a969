"""Audit trail of every read or write of patient data.

Rows are append-only: the application has no update or delete path, and the
migration installs database triggers that refuse UPDATE and DELETE on both backends.
A denied attempt is audited too: the edge writes it after rolling the request back.
The table and every query of it are core.audit_repository's (AuditEvent, `trail` and `search` are
re-exported here).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit_repository, clock, ids, requestctx
from zhiyi.core.audit_repository import AuditEvent
from zhiyi.core.audit_repository import search as search
from zhiyi.core.audit_repository import trail as trail
from zhiyi.core.db import keep_after_rollback
from zhiyi.core.errors import Forbidden, NotFound
from zhiyi.core.policy import Actor, Decision, Resource, decide


def roles_of(actor: Actor) -> str:
    """An actor's roles as an audit row records them."""
    return ",".join(sorted(actor.roles))


def build_event(
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: object,
    *,
    patient_id: uuid.UUID | None,
    outcome: str,
    on_behalf_of: uuid.UUID | None = None,
    reason: str | None = None,
) -> AuditEvent:
    return AuditEvent(
        **event_values(
            actor,
            action,
            resource_type,
            resource_id,
            patient_id=patient_id,
            outcome=outcome,
            on_behalf_of=on_behalf_of,
            reason=reason,
        )
    )


def event_values(
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: object,
    *,
    patient_id: uuid.UUID | None,
    outcome: str,
    on_behalf_of: uuid.UUID | None = None,
    reason: str | None = None,
) -> dict:
    return dict(
        id=ids.new_id(),
        at=clock.now(),
        actor_account_id=actor.account_id if actor else None,
        actor_roles=roles_of(actor) if actor else "",
        on_behalf_of_patient_id=on_behalf_of,
        patient_id=patient_id,
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id) if resource_id is not None else None,
        outcome=outcome,
        request_id=requestctx.request_id.get(),
        client_addr=requestctx.client_addr.get(),
        reason=reason
        or None,  # no reason is NULL, as the one-statement booking writes it (a policy's "" too)
    )


def record(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: object,
    *,
    patient_id: uuid.UUID | None,
    on_behalf_of: uuid.UUID | None = None,
    outcome: str = "allowed",
    reason: str | None = None,
) -> None:
    event = build_event(
        actor,
        action,
        resource_type,
        resource_id,
        patient_id=patient_id,
        outcome=outcome,
        on_behalf_of=on_behalf_of,
        reason=reason,
    )
    session.add(event)


async def write(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: object,
    *,
    patient_id: uuid.UUID | None,
    on_behalf_of: uuid.UUID | None = None,
    reason: str | None = None,
) -> None:
    """Audit an action that was done (a booking made): one INSERT now, no unit-of-work bookkeeping."""
    await audit_repository.insert_event(
        session,
        event_values(
            actor,
            action,
            resource_type,
            resource_id,
            patient_id=patient_id,
            outcome="allowed",
            on_behalf_of=on_behalf_of,
            reason=reason,
        ),
    )


async def guard(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    resource: Resource,
    *,
    patient_id: uuid.UUID | None,
    reason: str | None = None,
) -> Decision:
    """Decide through core.policy and audit the attempt, allowed or not (with the actor's reason, if
    asked)."""
    decision = await decide(session, actor, action, resource)
    if decision.allowed:
        # one INSERT now (the hot paths all pass here): no unit-of-work bookkeeping
        await audit_repository.insert_event(
            session,
            event_values(
                actor,
                action,
                resource.kind,
                resource.id,
                patient_id=patient_id,
                outcome="allowed",
                on_behalf_of=decision.on_behalf_of,
                reason=reason or decision.reason,
            ),
        )  # why it was allowed
        return decision
    keep_after_rollback(
        session,
        build_event(
            actor, action, resource.kind, resource.id, patient_id=patient_id, outcome="denied", reason=reason
        ),
    )
    raise Forbidden()


def keep_denied(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: object,
    *,
    patient_id: uuid.UUID | None,
) -> None:
    """Audit a refused attempt; the row survives the request's rollback."""
    keep_after_rollback(
        session,
        build_event(actor, action, resource_type, resource_id, patient_id=patient_id, outcome="denied"),
    )


def missing(
    session: AsyncSession, actor: Actor | None, action: str, resource_type: str, resource_id: object
) -> NotFound:
    keep_after_rollback(
        session, build_event(actor, action, resource_type, resource_id, patient_id=None, outcome="not_found")
    )
    return NotFound()


# --- reading the trail as people do (the privacy officer's page; its queries, `trail` and `search`, are
# core.audit_repository's) ---------------------------------------------------------------------------

# action -> a message id saying what was done, in words (each domain registers its own)
_ACTIONS: dict[str, str] = {}
_REASONS: dict[str, str] = {}  # a policy's reason for allowing -> a message id


def register_labels(*, actions: dict[str, str], reasons: dict[str, str] | None = None) -> None:
    """A domain's words for its audit actions and its policy's reasons (translated where shown)."""
    _ACTIONS.update(actions)
    _REASONS.update(reasons or {})


def action_labels() -> dict[str, str]:
    return dict(_ACTIONS)


def action_label(action: str, resource_type: str) -> str | None:
    """What was done, as a message id ("read patient" before "read"); None: no domain named it."""
    return _ACTIONS.get(f"{action} {resource_type}") or _ACTIONS.get(action)


def reason_label(reason: str | None) -> str | None:
    """A policy's reason as a message id; a reason a person typed (a broken glass) as it was written."""
    return _REASONS.get(reason, reason) if reason else None
