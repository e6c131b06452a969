"""Zhiyi's audit trail (core.audit: every read of patient data, allowed or denied) seen as FHIR
AuditEvent resources, read from the trail itself and never copied into the repository (a copy would be
another write on every read, the booking rush's included).

`AuditEvent?_source=urn:zhiyi:audit` searches the trail (`patient`, `date` with ge/gt/le/lt/eq, `agent`:
an account id, `_count`), newest first; `AuditEvent/zhiyi-audit-<uuid>` reads one row. Other AuditEvent
searches and reads are the repository's (another system's events, stored as they came). The trail is the
privacy officers': group-wide admins only."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit_repository
from zhiyi.fhir import cursors
from zhiyi.fhir.access import Access
from zhiyi.fhir.errors import forbidden, invalid, not_found
from zhiyi.fhir.store import SearchResult, instant
from zhiyi.fhir.store_repository import Stored
from zhiyi.fhir.values import date_bounds, parse_reference

SOURCE = "urn:zhiyi:audit"
ID_PREFIX = "zhiyi-audit-"
MAX_COUNT = 200
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# the first word of a trail action -> AuditEvent.action (Create, Read, Update, Delete, Execute)
_ACTIONS = {
    "create": "C", "read": "R", "vread": "R", "search": "R", "list": "R", "update": "U", "delete": "D",
}  # fmt: skip
_RECORD = {
    "system": "http://dicom.nema.org/resources/ontology/DCM",
    "code": "110110",
    "display": "Patient Record",
}
_REST = {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"}
_PATIENT_ROLE = {
    "system": "http://terminology.hl7.org/CodeSystem/object-role",
    "code": "1",
    "display": "Patient",
}
_PREFIXES = ("eq", "ge", "gt", "le", "lt")
_OUTCOMES = {"allowed": "0", "denied": "4", "not_found": "4"}


def wanted(rtype: str, params: list[tuple[str, str]]) -> bool:
    return rtype == "AuditEvent" and (("_source", SOURCE) in params)


def is_trail_id(rtype: str, rid: str) -> bool:
    return rtype == "AuditEvent" and rid.startswith(ID_PREFIX)


def _guard(access: Access) -> None:
    if not access.whole:
        raise forbidden("The audit trail is for the privacy officers (group-wide admins).")


def to_resource(row) -> dict:
    """One trail row as an R4 AuditEvent."""
    verb = row.action.split(" ", 1)[0].removeprefix("fhir.").split(".", 1)[0]
    event: dict = {
        "resourceType": "AuditEvent",
        "id": f"{ID_PREFIX}{row.id}",
        "meta": {"versionId": "1", "lastUpdated": instant(row.at), "source": SOURCE},
        "type": dict(_RECORD if row.patient_id else _REST),
        "subtype": [{"system": "urn:zhiyi:audit-action", "code": row.action}],
        "action": _ACTIONS.get(verb, "E"),
        "recorded": instant(row.at),
        "outcome": _OUTCOMES.get(row.outcome, "8"),
        "outcomeDesc": row.outcome,
        "agent": [_agent(row)],
        "source": {
            "site": "Zhiyi",
            "observer": {"display": "Zhiyi"},
            "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4"}],
        },
    }
    if row.reason:
        event["purposeOfEvent"] = [{"text": row.reason}]
    entities = []
    if row.patient_id:
        entities.append({"what": {"reference": f"Patient/{row.patient_id}"}, "role": dict(_PATIENT_ROLE)})
    if row.resource_id:
        what = {"identifier": {"system": f"urn:zhiyi:{row.resource_type}", "value": row.resource_id}}
        entities.append({"what": what, "name": row.resource_type})
    if entities:
        event["entity"] = entities
    return event


def _agent(row) -> dict:
    agent: dict = {"requestor": True}
    if row.actor_account_id:
        agent["who"] = {"identifier": {"system": "urn:zhiyi:account", "value": str(row.actor_account_id)}}
    else:
        agent["who"] = {"display": "anonymous"}
    if row.actor_roles:
        agent["role"] = [{"text": row.actor_roles}]
    if row.on_behalf_of_patient_id:
        agent["altId"] = f"on behalf of Patient/{row.on_behalf_of_patient_id}"
    if row.client_addr:
        agent["network"] = {"address": row.client_addr, "type": "2"}
    return agent


def _stored(row) -> Stored:
    return Stored("AuditEvent", f"{ID_PREFIX}{row.id}", 1, row.at, False, to_resource(row), "POST")


async def read(session: AsyncSession, access: Access, rid: str) -> Stored:
    _guard(access)
    try:
        row = await audit_repository.get(session, uuid.UUID(rid.removeprefix(ID_PREFIX)))
    except ValueError:
        row = None
    if row is None:
        raise not_found("AuditEvent", rid)
    return _stored(row)


def _uuid(value: str, name: str) -> uuid.UUID:
    ref = parse_reference(value)
    raw = ref[1] if ref and ref[1] else value
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise invalid(f"{name}={value!r} is not one of Zhiyi's ids.") from None


def _at(us: int) -> dt.datetime:
    try:
        return _EPOCH + dt.timedelta(microseconds=us)
    except OverflowError:  # past 9999-12-31: no row is as late
        return dt.datetime.max.replace(tzinfo=dt.UTC)


async def search(
    session: AsyncSession, access: Access, params: list[tuple[str, str]], *, cursor: str | None
) -> SearchResult:
    _guard(access)
    patients: list[uuid.UUID] | None = None
    agents: list[uuid.UUID] | None = None
    since = until = None
    count, warnings = 50, []
    for name, value in params:
        if name == "_source":
            continue
        if name == "patient":
            patients = [_uuid(v, name) for v in value.split(",")]
        elif name == "agent":
            agents = [_uuid(v, name) for v in value.split(",")]
        elif name == "date":
            prefix, text = (value[:2], value[2:]) if value[:2] in _PREFIXES else ("eq", value)
            try:
                low, high = date_bounds(text)
            except ValueError:
                raise invalid(f"date={value!r} is not a FHIR date.") from None
            if prefix in ("eq", "ge", "gt"):  # the latest lower bound and the earliest upper bound hold
                start = _at(high + 1 if prefix == "gt" else low)
                since = start if since is None else max(since, start)
            if prefix in ("eq", "le", "lt"):
                end = _at(low if prefix == "lt" else high + 1)
                until = end if until is None else min(until, end)
        elif name == "_count":
            if not (value.isascii() and value.isdigit()):
                raise invalid(f"_count={value!r} is not a count.")
            count = min(int(value), MAX_COUNT)
        else:
            warnings.append(f"The audit trail is not searched by {name!r}; ignored.")
    before = None
    if cursor:
        at, row_id = cursors.read(cursor, 2)
        try:
            before = (dt.datetime.fromisoformat(str(at)), uuid.UUID(str(row_id)))
        except ValueError:
            raise invalid("The page link is not one this server made; search again.") from None
    rows = await audit_repository.search(
        session, patient_ids=patients, actor_account_ids=agents, since=since, until=until, before=before,
        with_no_patient=patients is None, limit=count + 1,
    )  # fmt: skip
    page = rows[:count]
    following = None
    if len(rows) > count and page:
        following = cursors.write([page[-1].at.isoformat(), str(page[-1].id)])
    self_params = [("_source", SOURCE)] + [(n, v) for n, v in params if n != "_source"]
    total = len(page) if cursor is None and following is None else None
    return SearchResult([_stored(r) for r in page], [], total, following, warnings, self_params)
