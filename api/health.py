"""GET /healthz: for load balancers and people; 503 names the failing part."""

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Context

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 3.0


@router.get("/healthz")
async def healthz(context: Context) -> JSONResponse:
    database, bus = await asyncio.gather(
        _bounded(context.db.health(), "database"), _bounded(context.bus.health(), "bus")
    )
    ok = database == "ok" and bus == "ok"
    body = {"status": "ok" if ok else "degraded", "database": database, "bus": bus}
    return JSONResponse(body, status_code=200 if ok else 503)


async def _bounded(check, name: str) -> str:  # type: ignore[no-untyped-def]
    try:
        return await asyncio.wait_for(check, CHECK_TIMEOUT)
    except TimeoutError:
        return f"{name} did not answer within {CHECK_TIMEOUT:g} s"
