"""The list of installed domains: their models, policies, routers, handlers and periodic jobs.

app.py, migrations and tests read this one list instead of naming domains themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit
from zhiyi.domains.identity import admin as identity_admin
from zhiyi.domains.identity import api as identity_api
from zhiyi.domains.identity import edge as identity_edge
from zhiyi.domains.identity import models as identity_models  # noqa: F401  (tables)
from zhiyi.domains.identity import sign_in_web as identity_sign_in_web
from zhiyi.domains.identity import web as identity_web
from zhiyi.domains.org import api as org_api
from zhiyi.domains.org import fhir as org_fhir
from zhiyi.domains.org import models as org_models  # noqa: F401
from zhiyi.domains.patients import api as patients_api
from zhiyi.domains.patients import fhir as patients_fhir
from zhiyi.domains.patients import handlers as patients_handlers  # noqa: F401  (outbox handlers)
from zhiyi.domains.patients import models as patients_models  # noqa: F401
from zhiyi.domains.patients import policy as patients_policy
from zhiyi.domains.patients import service as patients_service
from zhiyi.domains.patients import web as patients_web
from zhiyi.domains.preconsult import api as preconsult_api
from zhiyi.domains.preconsult import fhir as preconsult_fhir
from zhiyi.domains.preconsult import handlers as preconsult_handlers  # noqa: F401  (outbox handlers)
from zhiyi.domains.preconsult import models as preconsult_models  # noqa: F401
from zhiyi.domains.preconsult import policy as preconsult_policy
from zhiyi.domains.preconsult import web as preconsult_web
from zhiyi.domains.queueing import api as queueing_api
from zhiyi.domains.queueing import fhir as queueing_fhir
from zhiyi.domains.queueing import handlers as queueing_handlers  # noqa: F401  (outbox handlers)
from zhiyi.domains.queueing import models as queueing_models  # noqa: F401
from zhiyi.domains.queueing import policy as queueing_policy
from zhiyi.domains.queueing import web as queueing_web
from zhiyi.domains.scheduling import api as scheduling_api
from zhiyi.domains.scheduling import appointments_web as scheduling_appointments_web
from zhiyi.domains.scheduling import care as scheduling_care
from zhiyi.domains.scheduling import fhir as scheduling_fhir
from zhiyi.domains.scheduling import handlers as scheduling_handlers  # noqa: F401  (outbox handlers)
from zhiyi.domains.scheduling import jobs as scheduling_jobs  # noqa: F401  (periodic jobs, run by workers)
from zhiyi.domains.scheduling import models as scheduling_models  # noqa: F401
from zhiyi.domains.scheduling import policy as scheduling_policy
from zhiyi.domains.scheduling import rush as scheduling_rush
from zhiyi.domains.scheduling import waitlist_web as scheduling_waitlist_web
from zhiyi.domains.scheduling import web as scheduling_web
from zhiyi.domains.scheduling.rush import lane as scheduling_rush_lane
from zhiyi.domains.scheduling.rush import pool as scheduling_rush_pool
from zhiyi.domains.triage import api as triage_api
from zhiyi.domains.triage import engine as triage_engine
from zhiyi.domains.triage import fhir as triage_fhir
from zhiyi.domains.triage import handlers as triage_handlers  # noqa: F401  (outbox handlers)
from zhiyi.domains.triage import models as triage_models  # noqa: F401
from zhiyi.domains.triage import policy as triage_policy
from zhiyi.domains.triage import web as triage_web
from zhiyi.fhir import access as fhir_access
from zhiyi.fhir import admin_web as fhir_admin_web
from zhiyi.fhir import audit_labels as fhir_audit_labels
from zhiyi.http import auth as http_auth
from zhiyi.web import shortcuts

# matched in this order (FastAPI tries routes in turn): bookings first, since a release rush is nearly all
# bookings
API_ROUTERS = [
    scheduling_api.router,
    identity_api.router,
    org_api.router,
    patients_api.router,
    queueing_api.router,
    preconsult_api.router,
    triage_api.router,
]
WEB_ROUTERS = [
    identity_sign_in_web.router,
    identity_web.router,
    patients_web.router,
    scheduling_web.router,
    scheduling_appointments_web.router,
    scheduling_waitlist_web.router,
    queueing_web.router,
    preconsult_web.router,
    triage_web.router,
    fhir_admin_web.router,
]
POLICIES = [
    patients_policy.install,
    scheduling_policy.install,
    queueing_policy.install,
    preconsult_policy.install,
    triage_policy.install,
]
# offered on the home pages (web/shortcuts.py)
SHORTCUTS = [queueing_web.arrival_shortcuts, scheduling_web.book_again_shortcuts, triage_web.triage_shortcuts]


# whether a patient is in a clinician's care (patients/policy.py asks; the domains that know answer)
CARE_PROVIDERS = [scheduling_care.in_care]


# what the first requests would otherwise load (the triage model, its lexicon and the segmenter: ~1 s), loaded
# as the process starts, in a thread (app.py)
WARM_UP = [triage_engine.warm]

# the audit trail's words for each domain's actions and its policy's reasons (core/audit.py)
AUDIT_LABELS = [
    (patients_policy.AUDIT_ACTIONS, patients_policy.AUDIT_REASONS),
    (scheduling_policy.AUDIT_ACTIONS, scheduling_policy.AUDIT_REASONS),
    (queueing_policy.AUDIT_ACTIONS, queueing_policy.AUDIT_REASONS),
    (preconsult_policy.AUDIT_ACTIONS, preconsult_policy.AUDIT_REASONS),
    (triage_policy.AUDIT_ACTIONS, triage_policy.AUDIT_REASONS),
    (identity_admin.AUDIT_ACTIONS, {}),
    (fhir_audit_labels.AUDIT_ACTIONS, {}),
]


# Zhiyi's own rows as FHIR resources (each domain's fhir.py): `zhiyi fhir sync` and the end of seeding
# write them all (unchanged ones make no new version); outbox handlers keep them current afterwards
FHIR_PROJECTIONS: list[tuple[str, Callable[[AsyncSession], Awaitable[int]]]] = [
    ("org", org_fhir.project_all),
    ("patients", patients_fhir.project_all),
    ("scheduling", scheduling_fhir.project_all),
    ("queueing", queueing_fhir.project_all),
    ("preconsult", preconsult_fhir.project_all),
    ("triage", triage_fhir.project_all),
]


async def project_fhir(session: AsyncSession, progress: Callable[[str, int], None] | None = None) -> int:
    """Every installed domain's rows into the FHIR repository; `progress(domain, changed)` after each.
    Returns the resources written anew (the caller commits)."""
    total = 0
    for domain, project_all in FHIR_PROJECTIONS:
        changed = await project_all(session)
        total += changed
        if progress is not None:
            progress(domain, changed)
    return total


def install_policies() -> None:
    http_auth.install(identity_edge.AccountsForTheEdge())  # who is calling: the edge asks identity
    for install in POLICIES:
        install()
    for actions, reasons in AUDIT_LABELS:
        audit.register_labels(actions=actions, reasons=reasons)
    for provider in CARE_PROVIDERS:
        patients_policy.register_care_provider(provider)
    fhir_access.register_patient_gate(patients_service.may_read)  # the FHIR repository's reads


# The registration rush's fast path (scheduling/rush/, ZHIYI_RUSH_LANE): a pure-ASGI layer just inside
# the edge middleware, answering one hot request before the framework, and its start and stop


def lanes(settings) -> list:
    return [scheduling_rush_lane.RushLane] if scheduling_rush.enabled(settings) else []


async def start(settings, db) -> None:
    if scheduling_rush.enabled(settings):
        await scheduling_rush_pool.start(db, open_at_start=settings.db_pool_open_at_start)


async def stop(settings, db) -> None:
    if scheduling_rush.enabled(settings):
        await scheduling_rush_pool.stop(db)


def install_shortcuts() -> None:
    for provider in SHORTCUTS:
        shortcuts.install(provider)
