"""Builds the ASGI app: mounts the API, the pages and the operations endpoints."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from zhiyi import __version__
from zhiyi.core import audit, i18n, idempotency, logs, outbox  # noqa: F401  (core tables)
from zhiyi.core.config import Settings, check_secrets, get_settings, use
from zhiyi.core.db import Database
from zhiyi.domains import registry
from zhiyi.fhir import api as fhir_api
from zhiyi.http import docs, errors, openapi, ops
from zhiyi.http.middleware import EdgeMiddleware
from zhiyi.integrations import notifications
from zhiyi.web import pages
from zhiyi.web.templating import error_page

log = logging.getLogger("zhiyi")

_WARM_UP = {"type": "http", "path": "/", "method": "GET", "root_path": "", "headers": [], "query_string": b""}


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = use(settings or get_settings())
    check_secrets(settings)  # a public or weak secret would let anyone sign an admin's token
    db = database or Database(settings)
    registry.install_policies()
    registry.install_shortcuts()
    notifications.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        worker = None
        # what would otherwise be made in the first requests' time (at a release instant, ~0.2 s of a worker):
        for locale in i18n.LOCALES:  # the message catalogues
            i18n.translator(locale)
        for route in app.router.routes:  # FastAPI's route tables, built at the first match
            route.matches(dict(_WARM_UP))  # a scope of its own each time (the framework writes into it)
        for (
            warm
        ) in registry.WARM_UP:  # the domains' own (the triage model: the first answer took ~0.9 s more)
            try:
                await asyncio.to_thread(warm)
            except Exception:  # a missing model is the first request's to report, not a reason not to start
                log.exception("warming up %s failed", getattr(warm, "__qualname__", warm))
        # the rush's (scheduling/rush/pool.py): before the pool's connections are made
        await registry.start(settings, db)
        if settings.db_pool_open_at_start:
            await db.open_pool()
        if settings.in_process_worker:
            worker = outbox.Worker(db.sessionmaker)
            worker.start()
        app.state.worker = worker
        yield
        await registry.stop(settings, db)
        if worker:
            await worker.stop()
        if database is None:
            await db.dispose()

    # FastAPI's native OpenTelemetry is off: Zhiyi's metrics and access log are the edge middleware's, and
    # left on it asks the global providers (environment look-ups) on every request (~2% of a worker's CPU
    # in a rush)
    app = FastAPI(
        title="Zhiyi 智医",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        openapi_url="/openapi.json",
        redoc_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.db = db
    app.state.settings = settings
    app.state.error_page = error_page
    app.state.worker = None
    errors.install(app)
    openapi.install(app)
    for router in registry.API_ROUTERS:
        app.include_router(router)
    app.include_router(fhir_api.router)
    app.include_router(ops.router)
    app.include_router(docs.router)
    app.include_router(ops.metrics_router)
    app.include_router(pages.router)
    for router in registry.WEB_ROUTERS:
        app.include_router(router)
    app.mount(docs.ASSETS_PATH, docs.assets(), name="api-docs-assets")
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "web" / "static"), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="zhiyi_session",
        same_site="lax",
        https_only=settings.secure_cookies,
        max_age=12 * 3600,
    )
    for lane in registry.lanes(settings):  # inside the edge, before the framework and its session cookie
        app.add_middleware(lane, db=db)
    app.add_middleware(
        EdgeMiddleware,
        max_body_bytes=settings.max_body_bytes,
        body_limits={fhir_api.PREFIX: settings.fhir_max_body_bytes},
        secure=settings.secure_cookies,
    )
    return app


def production_app() -> FastAPI:
    """Factory for `uvicorn --factory zhiyi.app:production_app` with several workers."""
    logs.setup(json_logs=get_settings().log_json)
    return create_app()
