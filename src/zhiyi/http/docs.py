"""The API's documentation page: Swagger UI's files served from the fastapi-offline package (no CDN),
its one inline start-up script allowed by a nonce of its own in the page's Content-Security-Policy."""

from __future__ import annotations

import secrets
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from zhiyi.http.middleware import CSP

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/api-docs-assets"
router = APIRouter(include_in_schema=False)


def assets() -> StaticFiles:
    return StaticFiles(directory=ASSETS)


@router.get("/docs")
async def docs() -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Zhiyi 智医 API",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
    )
    html = page.body.decode().replace("<script>", f'<script nonce="{nonce}">')
    csp = CSP.replace("script-src 'self'", f"script-src 'self' 'nonce-{nonce}'")
    return HTMLResponse(html, headers={"content-security-policy": csp})
