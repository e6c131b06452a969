"""Issue 15, acceptance 3: schemathesis generates requests from the served OpenAPI document, against a real
server on each database, as an anonymous caller, a patient and an admin: no answer is a 5xx, and every
status answered is one the document declares for its operation. A bounded number of examples per
operation keeps it to about a minute."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.openapi import from_url
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.servers import demo_server

EXAMPLES = 6
CALLERS = {
    "anonymous": None,
    "patient": ("demo-patient", "patient-demo-2468"),
    "admin": ("demo-admin", "admin-demo-2468"),
}


@pytest.fixture
def served(fresh_db_url, tmp_path):
    with demo_server(tmp_path, fresh_db_url) as root:
        yield root


def bearer(root: str, login: tuple[str, str] | None) -> dict[str, str]:
    if login is None:
        return {}
    r = httpx.post(f"{root}/api/v1/auth/token", data={"username": login[0], "password": login[1]}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def generated(op, root: str, headers: dict[str, str]):
    """A hypothesis test of one operation: EXAMPLES generated requests, each answer checked."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy())
    def run(case):
        response = case.call(base_url=root, headers=headers, timeout=30)
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance])

    return run


def test_generated_requests_get_no_5xx_and_no_undocumented_status(served):
    schema = from_url(f"{served}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50  # the whole API, not a fragment of it
    failures = []
    for caller, login in CALLERS.items():
        headers = bearer(served, login)  # fresh for each caller: logout and refresh may be generated too
        for op in operations:
            if op.path in ("/api/v1/auth/logout", "/api/v1/auth/refresh") and caller != "anonymous":
                continue  # a generated refresh token cannot be the caller's; anonymous covers them

            try:
                generated(op, served, headers)()
            except BaseException as exc:  # noqa: BLE001  (every operation's failure, reported together)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures.append(f"{caller} {op.method.upper()} {op.path}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
