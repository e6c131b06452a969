"""What one caller may reach in the repository.

- a group-wide admin: everything;
- everyone else signed in: the directory (resources in no patient's compartment: organisations,
  locations, practitioners, schedules, slots, questionnaires) and the compartments of the patients the
  patient gate allows: a patient their own, and a family member's where a proxy link allows; a doctor or
  a nurse a patient in their care; a registrar or a campus admin their campuses' patients (the patients
  domain's rules, core.policy, registered here by domains/registry.py; each decision is audited there).

A search reaches the compartments of the patients it names (`patient=`, `subject=Patient/..`, `Patient/x`
in the path, `_id` of a Patient search) that the gate allows; a read by id asks the gate for the patients
whose compartment the resource is in. Only a group-wide admin writes (the domains write their own rows)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core.policy import Actor, Role
from zhiyi.fhir.errors import forbidden
from zhiyi.fhir.store_repository import DIRECTORY_TYPES, Reach

# (session, actor, patient id) -> whether the actor may read that patient's record (audited by the gate)
PatientGate = Callable[[AsyncSession, Actor, uuid.UUID], Awaitable[bool]]
_gates: list[PatientGate] = []

# the search parameters whose values name a patient (a bare id counts for `patient` only)
_NAMING = {"patient", "subject", "beneficiary", "_compartment"}
_PATIENT_REF = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})$")
MAX_NAMED = 20  # a request naming more patients than this is refused (the gate runs for each)


def register_patient_gate(gate: PatientGate) -> None:
    _gates[:] = [gate]


@dataclass(slots=True)
class Access:
    actor: Actor | None
    # None: the whole repository; else the FHIR ids of the Patients whose compartments may be reached
    patients: frozenset[str] | None
    directory: bool = False  # resources in no patient's compartment
    asked: set[str] = field(default_factory=set)  # patients the gate refused in this request

    @property
    def whole(self) -> bool:
        return self.patients is None

    @property
    def reach(self) -> Reach | None:
        return None if self.patients is None else Reach(self.patients, self.directory)

    def may_write(self) -> bool:
        return self.patients is None

    def reaches(self, rtype: str, patients: Iterable[str]) -> bool:
        """Whether a resource of `rtype` in these patients' compartments is reachable without asking the
        gate."""
        if self.patients is None:
            return True
        patients = set(patients)
        if not patients:
            return self.directory and rtype in DIRECTORY_TYPES
        return bool(self.patients & patients)

    async def admits(self, session: AsyncSession, rtype: str, patients: Iterable[str]) -> bool:
        """`reaches`, or the gate allows one of these patients now (a doctor reading an observation of
        a patient in their care by its id)."""
        patients = set(patients)
        if self.reaches(rtype, patients):
            return True
        for pid in sorted(patients - self.asked):
            if await _allowed(session, self.actor, pid):
                assert self.patients is not None
                self.patients = self.patients | {pid}
                return True
            self.asked.add(pid)
        return False


async def _allowed(session: AsyncSession, actor: Actor | None, pid: str) -> bool:
    if actor is None or not _gates:
        return False
    try:
        patient_id = uuid.UUID(pid)
    except ValueError:  # not one of Zhiyi's patients (another system's): nobody is in their care here
        return False
    return await _gates[0](session, actor, patient_id)


def named_patients(path: str, query: list[tuple[str, str]], body: dict | None = None) -> set[str]:
    """The Patient ids a request names: in its path, in the values of the search parameters that name a
    patient, and so in each entry's request of a batch or transaction Bundle."""
    named = _named(path, query)
    if body and body.get("resourceType") == "Bundle":
        entries = body.get("entry")
        for entry in entries if isinstance(entries, list) else []:
            request = entry.get("request") if isinstance(entry, dict) else None
            url = request.get("url") if isinstance(request, dict) else None
            if isinstance(url, str):
                entry_path, _, entry_query = url.partition("?")
                named |= _named(entry_path, parse_qsl(entry_query))
    return named


def _named(path: str, query: list[tuple[str, str]]) -> set[str]:
    parts = [p for p in path.split("/") if p]
    named = set()
    if len(parts) >= 2 and parts[0] == "Patient" and not parts[1].startswith(("$", "_")):
        named.add(parts[1])
    rtype = parts[0] if parts else None
    for name, raw in query:
        # `_has:Observation:performer:patient=x` names x as `patient=x` would
        code = name.rsplit(":", 1)[-1] if name.startswith("_has:") else name.split(":", 1)[0]
        if code in _NAMING or (code == "_id" and rtype == "Patient"):
            for value in raw.split(","):
                found = _PATIENT_REF.search(value)
                if found:
                    named.add(found.group(1))
                elif code in ("patient", "_id") and re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", value):
                    named.add(value)
    return named


async def access_for(session: AsyncSession, actor: Actor, named: set[str] = frozenset()) -> Access:
    """The caller's reach for one request: `named` are the patients the request names (named_patients),
    each put to the gate."""
    if actor.has(Role.admin) and actor.group_wide:
        return Access(actor, None)
    own = {str(actor.patient_id)} if actor.patient_id is not None and actor.has(Role.patient) else set()
    access = Access(actor, frozenset(own), directory=True)
    others = named - own
    if len(others) > MAX_NAMED:  # each is put to the gate (and audited on that patient's trail)
        raise forbidden(f"A request may name at most {MAX_NAMED} patients.")
    for pid in sorted(others):
        await access.admits(session, "Patient", {pid})
    return access
