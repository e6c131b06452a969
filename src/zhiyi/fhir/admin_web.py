"""The admins' page of the FHIR repository (/admin/fhir): how many resources of each type it holds (and
the versions it keeps), and the files `zhiyi fhir import` loaded, with how each went.

For group-wide admins only, as the repository itself is (fhir/access.py): it holds every campus's
patients, and an import's errors may quote what a file held."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from zhiyi.core.errors import Forbidden
from zhiyi.core.i18n import N_
from zhiyi.core.policy import Actor, Role
from zhiyi.fhir import importing
from zhiyi.http.auth import web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web.templating import render

__all__ = ["router"]

router = APIRouter(route_class=TxRoute, include_in_schema=False)

HISTORY_ROWS = 50  # imports shown, newest first
ERRORS_SHOWN = 3  # of each import's failures
STATUS_LABELS = {"running": N_("Running or stopped"), "done": N_("Done"), "failed": N_("Failed")}


@router.get("/admin/fhir")
async def repository_page(request: Request, actor: Actor = Depends(web_actor)):
    """Counts by resource type and the import history."""
    if not (actor.has(Role.admin) and actor.group_wide):
        raise Forbidden()
    session = session_of(request)
    counts = await importing.counts_by_type(session)
    return render(
        request,
        "fhir/templates/fhir_admin.html",
        counts=counts,
        total_current=sum(c.current for c in counts),
        total_versions=sum(c.versions for c in counts),
        imports=await importing.import_history(session, limit=HISTORY_ROWS),
        statuses=STATUS_LABELS,
        errors_shown=ERRORS_SHOWN,
    )
