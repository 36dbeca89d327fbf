"""The schema fuzzer (issue #13): schemathesis sends what /openapi.json allows and what it does not
to every operation of the running app, on SQLite and on PostgreSQL with Redis, as a guest and as
the admin. Any 5xx, or any answer that does not match the schema (an undocumented status, a body
or content type other than the one declared), fails the suite.

Bounded: a few examples per operation and generation mode, no shrinking, a fixed seed (a failure
reproduces), and each backend's run well under a minute on two cores."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import AppProcess, create_postgres_database, drop_postgres_database, running_app, unique

ADMIN_TOKEN = "fuzz-admin-token-0123456789"
EXAMPLES = 15  # per operation and generation mode: about 850 requests per backend
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
BUDGET_SECONDS = 120  # per backend: a slow machine stops early and says how far it got, rather than time out


@pytest.fixture(scope="module", params=["sqlite+memory", "postgresql+redis"])
def fuzzed_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """The app with the admin API on and every rate limit off: the fuzzer is one client sending fast."""
    data_dir: Path = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    settings_: dict[str, str] = {
        "CHAT_DATA_DIR": str(data_dir),
        "CHAT_MAX_UPLOAD_MB": "1",
        "CHAT_ADMIN_TOKEN": ADMIN_TOKEN,
        "CHAT_RATE_LIMIT": "off",
        "CHAT_GUEST_RATE_LIMIT": "off",
        "CHAT_ADDRESS_RATE_LIMIT": "off",
    }
    database_url = None
    if request.param == "postgresql+redis":
        database_url = settings_["CHAT_DATABASE_URL"] = create_postgres_database()
        settings_["CHAT_REDIS_URL"] = request.getfixturevalue("redis_url")
        settings_["CHAT_REDIS_PREFIX"] = unique("chat-fuzz")
    try:
        with running_app(data_dir / "logs", **settings_) as app:
            yield app
    finally:
        if database_url:
            drop_postgres_database(database_url)


def seeded_guest(url: str) -> str:
    """A guest with a room and a message, so some generated slugs and ids meet real things."""
    with httpx.Client(base_url=url, timeout=10) as api:
        token = api.post("/api/v1/guests", json={"display_name": "Fuzz"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        room = api.post("/api/v1/rooms", json={"name": "a"}, headers=auth).json()
        api.post(f"/api/v1/rooms/{room['slug']}/messages", json={"text": "hello"}, headers=auth).raise_for_status()
    return token  # type: ignore[no-any-return]


def fuzz_operation(operation: Any, *, url: str, token: str, mode: GenerationMode) -> list[str]:
    """Run one operation's examples; the failures found, each with the request that caused it."""
    failures: list[str] = []

    @seed(1313)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failing request as it was
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        response = case.call(base_url=url, timeout=15)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, FailureGroup) as error:  # one report per distinct problem
            problem = f"{mode.value} {operation.label}: {summary(error)}"
            if not any(f.startswith(problem) for f in failures):
                failures.append(
                    f"{problem}\n  {case.as_curl_command()}\n  -> {response.status_code} {response.text[:300]}"
                )

    try:
        run()
    except Unsatisfiable:  # nothing in this operation can be made invalid (say, GET /healthz)
        assert mode is GenerationMode.NEGATIVE, f"no valid request for {operation.label} could be generated"
    return failures


def summary(error: BaseException) -> str:
    """'Undocumented status code; Response violates schema': the titles of what went wrong."""
    problems = getattr(error, "exceptions", None) or [error]
    return "; ".join(getattr(p, "title", None) or str(p).strip().splitlines()[0] for p in problems)


def test_the_schema_fuzzer_finds_no_server_error_or_schema_mismatch(fuzzed_app: AppProcess) -> None:
    url = fuzzed_app.url
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    guest_token = seeded_guest(url)
    found = [result.ok() for result in schema.get_all_operations()]
    # Guest operations first: the admin's run bans, renames and deletes whatever its ids happen to hit.
    found.sort(key=lambda operation: operation.path.startswith("/api/v1/admin"))
    failures: list[str] = []
    started, done = time.monotonic(), 0
    for operation in found:
        token = ADMIN_TOKEN if operation.path.startswith("/api/v1/admin") else guest_token
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += fuzz_operation(operation, url=url, token=token, mode=mode)
        done += 1
        if time.monotonic() - started > BUDGET_SECONDS:
            break
    elapsed = time.monotonic() - started
    print(f"fuzzed {done} of {len(found)} operations in {elapsed:.1f} s")
    assert not failures, "\n\n".join(failures)
    assert done == len(found), f"only {done} of {len(found)} operations fuzzed within {BUDGET_SECONDS} s"
    assert len(found) >= 25  # the whole API, admin included
