"""JSON routes of the organisation domain (public: what a patient needs to choose a clinic)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from zhiyi.domains.org import service
from zhiyi.domains.org.models import Title
from zhiyi.domains.org.schemas import CampusRead, DepartmentNode, PractitionerRead
from zhiyi.http.tx import TxRoute, session_of

router = APIRouter(prefix="/api/v1/org", tags=["organisation"], route_class=TxRoute)


@router.get("/campuses", response_model=list[CampusRead])
async def campuses(request: Request):
    return await service.list_campuses(session_of(request))


@router.get("/departments", response_model=list[DepartmentNode], summary="The department catalogue as a tree")
async def departments(request: Request):
    return await service.department_tree(session_of(request))


@router.get("/practitioners", response_model=list[PractitionerRead])
async def practitioners(
    request: Request,
    department_id: uuid.UUID | None = None,
    campus_id: uuid.UUID | None = None,
    title: Title | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
):
    return await service.list_practitioners(
        session_of(request), department_id=department_id, campus_id=campus_id, title=title, limit=limit
    )
