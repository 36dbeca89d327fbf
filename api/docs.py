"""/docs: Swagger UI served from this app, so that it works without internet access (CONTRACT §6)
and under the Content-Security-Policy (api/security_headers.py), which allows no other origin.

FastAPI's own /docs page loads Swagger UI from a CDN. The files come from the swagger-ui-py
package instead (Swagger UI 5, which reads the OpenAPI 3.1 that FastAPI writes); nothing is vendored.
"""

from pathlib import Path

import swagger_ui
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
SWAGGER_STATIC = Path(swagger_ui.__file__).parent / "static"


def install(app: FastAPI, *, title: str, version: str) -> None:
    """Serve /openapi.json, /docs and Swagger UI's files. Call before ui.run and without its
    fastapi_docs option, which would add the CDN-backed pages."""
    app.title, app.version = title, version
    app.openapi_url = "/openapi.json"
    app.setup()  # adds /openapi.json (docs_url and redoc_url stay None)
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_STATIC), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title} · API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            # Swagger UI would otherwise ask validator.swagger.io about the schema.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> RedirectResponse:
        return RedirectResponse("/docs")  # ReDoc needs a CDN; one offline documentation page is enough
