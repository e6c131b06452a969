"""The router, Bundles, CapabilityStatement and HTTP binding where no stored resource is needed: path and
entry parsing, transaction order and urn:uuid rewriting, refusals before the store, and malformed input
over HTTP (on both databases, through the real app)."""

from __future__ import annotations

import contextlib
import copy

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.fhir import bundles, capability, params
from zhiyi.fhir.access import Access
from zhiyi.fhir.errors import FhirError, Issue
from zhiyi.fhir.exchange import FhirRequest, FhirResponse, parse_if_match, preferences
from zhiyi.fhir.router import handle

BASE = "http://t/fhir"
WHOLE = Access(None, None)
OWN_ONLY = Access(None, frozenset({"p1"}))


def _request(method: str, path: str, body: dict | None = None, **headers: str) -> FhirRequest:
    return FhirRequest(method, path, [], {k.replace("_", "-"): v for k, v in headers.items()}, body, BASE)


async def _refused(request: FhirRequest, access: Access = WHOLE) -> FhirError:
    with pytest.raises(FhirError) as caught:
        await handle(None, access, request)  # refused before any database work: no session needed
    return caught.value


# ---- the router ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "Unicorn/1", None, 404, "not-supported"),
        ("GET", "Basic", None, 404, "not-supported"),  # a real FHIR type, not a declared one
        ("POST", "Unicorn", {"resourceType": "Unicorn"}, 404, "not-supported"),
        ("GET", "Patient/bad_id!", None, 400, "invalid"),
        ("GET", "Patient/" + "a" * 65, None, 400, "invalid"),
        ("GET", "Patient/1/_history/x", None, 400, "invalid"),
        ("PATCH", "Patient/1", {}, 405, "not-supported"),
        ("DELETE", "Patient", None, 405, "not-supported"),  # conditional delete
        ("GET", "Patient/1/nonsense", None, 404, "not-supported"),
        ("GET", "Observation/1/$everything", None, 404, "not-supported"),
        ("POST", "Patient", None, 400, "required"),
        ("PUT", "Patient/1", {"resourceType": "Patient", "id": "2"}, 400, "invalid"),
        ("PUT", "Patient/1", {"resourceType": "Patient"}, 400, "invalid"),
        ("PUT", "Patient/1", {"resourceType": "Observation", "id": "1"}, 400, "invalid"),
        ("POST", "Patient", {"resourceType": "Patient", "birthDate": "soon"}, 422, "value"),
        (
            "PUT",
            "Patient",
            {"resourceType": "Patient"},
            400,
            "invalid",
        ),  # conditional update without criteria
        ("POST", "", {"resourceType": "Bundle", "type": "collection"}, 400, "invalid"),
        ("GET", "", None, 400, "not-supported"),  # a search from the base without _type
        ("POST", "", {"resourceType": "Patient"}, 400, "invalid"),
    ],
)
async def test_refusals_before_the_store(method, path, body, status, code):
    err = await _refused(_request(method, path, body))
    assert (err.status, err.issues[0].code) == (status, code), err.issues


async def test_a_patient_may_not_write():
    err = await _refused(_request("POST", "Patient", {"resourceType": "Patient"}), OWN_ONLY)
    assert (err.status, err.issues[0].code) == (403, "forbidden")
    err = await _refused(_request("DELETE", "Patient/p1"), OWN_ONLY)
    assert err.status == 403


async def test_validate_answers_an_outcome_and_keeps_nothing():
    ok = await handle(None, OWN_ONLY, _request("POST", "Patient/$validate", {"resourceType": "Patient"}))
    assert ok.status == 200 and ok.body["issue"][0]["severity"] == "information"
    wrapped = {
        "resourceType": "Parameters",
        "parameter": [{"name": "resource", "resource": {"resourceType": "Patient"}}],
    }
    assert (await handle(None, WHOLE, _request("POST", "Patient/$validate", wrapped))).status == 200
    err = await _refused(_request("POST", "Patient/p1/$validate", {"resourceType": "Patient", "gender": 3}))
    assert err.status == 400 and err.issues[0].expression == ("Patient.gender",)
    err = await _refused(_request("POST", "Patient/p1/$validate", {"resourceType": "Patient", "id": "p2"}))
    assert err.status == 400


async def test_metadata_is_the_capability_statement():
    response = await handle(None, OWN_ONLY, _request("GET", "metadata"))
    assert response.status == 200 and response.body["resourceType"] == "CapabilityStatement"


def test_request_headers():
    assert parse_if_match('W/"3"') == 3 and parse_if_match("7") == 7 and parse_if_match(None) is None
    with pytest.raises(FhirError):
        parse_if_match('"abc"')
    assert preferences({"prefer": "return=minimal, handling=strict"}) == {
        "return": "minimal",
        "handling": "strict",
    }
    assert preferences({"prefer": 'return="OperationOutcome"'}) == {"return": "operationoutcome"}


# ---- the CapabilityStatement -----------------------------------------------------------------------


def test_the_capability_statement_is_a_valid_r4_statement_of_what_is_served():
    cs = capability.statement(BASE)
    get_fhir_model_class("CapabilityStatement").model_validate(cs)
    assert cs["fhirVersion"] == "4.0.1" and cs["format"] == ["json"] and cs["kind"] == "instance"
    rest = cs["rest"][0]
    assert {r["type"] for r in rest["resource"]} == params.declared_types()
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch", "history-system"}
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert {i["code"] for i in patient["interaction"]} == set(capability.TYPE_INTERACTIONS)
    assert patient["conditionalDelete"] == "not-supported" and patient["versioning"] == "versioned"
    assert "Patient:general-practitioner" in patient["searchInclude"]
    assert "Observation:subject" in patient["searchRevInclude"]
    assert {p["name"] for p in patient["searchParam"]} == set(params.for_type("Patient"))
    assert {"everything", "validate"} <= {o["name"] for o in patient["operation"]}


# ---- Bundles ---------------------------------------------------------------------------------------


def _entry(
    method: str, url: str, resource: dict | None = None, full_url: str | None = None, **request
) -> dict:
    entry: dict = {"request": {"method": method, "url": url, **request}}
    if resource is not None:
        entry["resource"] = resource
    if full_url:
        entry["fullUrl"] = full_url
    return entry


def _parsed(raw: list[dict]) -> list[bundles.Entry]:
    return [bundles.parse_entry(i, e, base_url=BASE, prefer="return=minimal") for i, e in enumerate(raw)]


def test_entry_urls_are_parsed_relative_to_the_base():
    get, absolute, search = _parsed(
        [
            _entry("get", "/Patient/1/_history/2"),
            _entry("PUT", f"{BASE}/Patient/9", {"resourceType": "Patient", "id": "9"}, ifMatch='W/"1"'),
            _entry("GET", "Observation?code=http://loinc.org|1234-5&_count=5&name="),
        ]
    )
    assert (get.method, get.path, get.query) == ("GET", "Patient/1/_history/2", [])
    assert (absolute.path, absolute.headers["if-match"]) == ("Patient/9", 'W/"1"')
    assert search.query == [("code", "http://loinc.org|1234-5"), ("_count", "5"), ("name", "")]


@pytest.mark.parametrize(
    ("raw", "expression"),
    [
        ({"resource": {"resourceType": "Patient"}}, "Bundle.entry[0].request"),
        ({"request": {"method": "POST"}}, "Bundle.entry[0].request"),
        ({"request": {"method": "FETCH", "url": "Patient"}}, "Bundle.entry[0].request"),
        (
            {"request": {"method": "GET", "url": "http://elsewhere.org/fhir/Patient/1"}},
            "Bundle.entry[0].request.url",
        ),
        ({"request": {"method": "POST", "url": "/"}}, "Bundle.entry[0].request.url"),  # a nested Bundle
    ],
)
def test_a_malformed_entry_request_is_a_400_at_the_entry(raw, expression):
    with pytest.raises(FhirError) as caught:
        _parsed([raw])
    assert caught.value.status == 400 and caught.value.issues[0].expression == (expression,)


def test_transaction_order_is_delete_post_put_get_keeping_the_bundle_order_within_each():
    raw = [
        _entry("GET", "Patient/1"),
        _entry("PUT", "Patient/2", {}),
        _entry("POST", "Patient", {}),
        _entry("DELETE", "Patient/3"),
        _entry("POST", "Observation", {}),
        _entry("DELETE", "Patient/4"),
    ]
    assert [e.index for e in bundles.transaction_order(_parsed(raw))] == [3, 5, 2, 4, 1, 0]


async def test_references_to_urn_uuids_are_rewritten_at_any_depth():
    observation = {
        "resourceType": "Observation",
        "subject": {"reference": "urn:uuid:p"},
        "performer": [{"reference": "Practitioner/kept"}, {"reference": "#contained"}],
        "component": [{"valueReference": {"reference": "urn:uuid:e", "display": "urn:uuid:e"}}],
        "contained": [{"resourceType": "Provenance", "target": [{"reference": "urn:uuid:p"}]}],
        "note": [{"text": "urn:uuid:p"}],
    }
    await bundles.resolve_references(
        None, WHOLE, [observation], {"urn:uuid:p": "Patient/1", "urn:uuid:e": "Encounter/2"}
    )
    assert observation["subject"] == {"reference": "Patient/1"}
    assert observation["performer"] == [{"reference": "Practitioner/kept"}, {"reference": "#contained"}]
    assert observation["component"][0]["valueReference"] == {
        "reference": "Encounter/2",
        "display": "urn:uuid:e",
    }
    assert observation["contained"][0]["target"] == [{"reference": "Patient/1"}]
    assert observation["note"] == [{"text": "urn:uuid:p"}]  # only references are rewritten


class _Recorder:
    """Stands in for router.handle: records what each entry asked, answers as a store would."""

    def __init__(self, fail_at: str | None = None):
        self.seen: list[FhirRequest] = []
        self.fail_at = fail_at

    async def __call__(self, session, access, request: FhirRequest) -> FhirResponse:
        self.seen.append(request)
        if request.path == self.fail_at:
            raise FhirError(422, [Issue("value", "bad date", expression=("Patient.birthDate",))])
        if request.method == "POST":
            rid = request.assigned_id or "server"
            return FhirResponse(201, None, {"Location": f"{BASE}/{request.path}/{rid}/_history/1"})
        return FhirResponse(200, {"resourceType": "Patient", "id": "1"})


def _transaction(*entries: dict) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


async def test_a_transaction_assigns_ids_to_its_posts_and_rewrites_references_before_running_them():
    bundle = _transaction(
        _entry(
            "POST", "Observation", {"resourceType": "Observation", "subject": {"reference": "urn:uuid:a"}}
        ),
        _entry("POST", "Patient", {"resourceType": "Patient"}, full_url="urn:uuid:a"),
        _entry("GET", "Patient/1"),
    )
    recorder = _Recorder()
    response = await bundles.process(None, WHOLE, _request("POST", "", bundle), handle=recorder)
    patient_id = recorder.seen[1].assigned_id
    assert patient_id and recorder.seen[0].body["subject"] == {"reference": f"Patient/{patient_id}"}
    assert [r.method for r in recorder.seen] == ["POST", "POST", "GET"]
    assert all(r.headers["prefer"] == "return=minimal" for r in recorder.seen)
    assert response.body["type"] == "transaction-response"
    answers = response.body["entry"]
    assert answers[1]["response"] == {"status": "201 Created", "location": f"Patient/{patient_id}/_history/1"}
    assert answers[2]["resource"]["resourceType"] == "Patient"


async def test_a_failing_transaction_entry_fails_the_bundle_pointing_at_the_entry():
    bundle = _transaction(_entry("GET", "Patient/1"), _entry("POST", "Patient", {"resourceType": "Patient"}))
    with pytest.raises(FhirError) as caught:
        await bundles.process(None, WHOLE, _request("POST", "", bundle), handle=_Recorder(fail_at="Patient"))
    err = caught.value
    assert err.status == 422
    assert err.issues[0].expression == ("Bundle.entry[1].resource.birthDate",)
    assert err.issues[0].diagnostics.startswith("Bundle.entry[1] (POST Patient): ")


class _Savepoints:
    def __init__(self):
        self.opened = 0
        self.info = {}  # where the store keeps what it has yet to write

    @contextlib.asynccontextmanager
    async def begin_nested(self):
        self.opened += 1
        yield


async def test_a_batch_answers_each_entry_on_its_own_each_in_a_savepoint():
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            _entry("POST", "Patient", {"resourceType": "Patient"}),
            {"resource": {"resourceType": "Patient"}},  # no request: this entry's 400, not the Bundle's
            _entry("POST", "Observation", {"resourceType": "Observation"}),
        ],
    }
    session = _Savepoints()
    response = await bundles.process(
        session, WHOLE, _request("POST", "", bundle), handle=_Recorder("Observation")
    )
    statuses = [e["response"]["status"] for e in response.body["entry"]]
    assert response.body["type"] == "batch-response"
    assert statuses == ["201 Created", "400 Bad Request", "422 Unprocessable Entity"]
    assert response.body["entry"][2]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert session.opened == 2


async def test_a_bundle_over_the_entry_limit_is_a_413(monkeypatch):
    monkeypatch.setattr(bundles, "MAX_BUNDLE_ENTRIES", 2)
    bundle = _transaction(*[_entry("GET", "Patient/1")] * 3)
    with pytest.raises(FhirError) as caught:
        await bundles.process(None, WHOLE, _request("POST", "", bundle), handle=_Recorder())
    assert caught.value.status == 413


async def test_the_request_bundle_is_rewritten_not_copied():
    resource = {"resourceType": "Observation", "subject": {"reference": "urn:uuid:a"}}
    before = copy.deepcopy(resource)
    bundle = _transaction(
        _entry("POST", "Observation", resource), _entry("POST", "Patient", {}, full_url="urn:uuid:a")
    )
    await bundles.process(None, WHOLE, _request("POST", "", bundle), handle=_Recorder())
    assert resource != before and resource["subject"]["reference"].startswith("Patient/")


# ---- over HTTP -------------------------------------------------------------------------------------


@pytest.fixture
async def tokens(session) -> dict[str, dict[str, str]]:
    campus = await orgf.campus(session, code="FHIRU", is_main=True)
    person = await pf.patient(session, campus=campus, name="赵六")
    admin = await accounts.account(session, username="fhir-admin", roles={"admin"}, group_wide=True)
    own = await accounts.account(session, username="fhir-patient", roles={"patient"}, patient=person)
    nurse = await accounts.account(session, username="fhir-nurse", roles={"nurse"}, campuses=[campus])
    found = {
        "admin": await accounts.bearer(session, admin),
        "patient": await accounts.bearer(session, own),
        "nurse": await accounts.bearer(session, nurse),
    }
    await session.commit()
    return found


def _outcome(response) -> dict:
    assert response.headers["content-type"].startswith("application/fhir+json"), response.headers
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return body


async def test_no_token_is_a_401_outcome_with_a_bearer_challenge(client):
    response = await client.get("/fhir/Patient/1")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert _outcome(response)["issue"][0]["code"] == "login"


async def test_metadata_needs_no_token(client):
    response = await client.get("/fhir/metadata", params={"_format": "json"})
    assert response.status_code == 200 and response.json()["resourceType"] == "CapabilityStatement"
    assert response.headers["content-type"] == "application/fhir+json; charset=utf-8"
    assert (await client.get("/fhir/metadata", params={"_format": "xml"})).status_code == 406


JSON = {"content-type": "application/fhir+json"}


@pytest.mark.parametrize(
    ("method", "path", "content", "headers", "status", "code"),
    [
        ("POST", "/fhir/Patient", b'{"resourceType": "Patient",', JSON, 400, "structure"),
        ("POST", "/fhir/Patient", b'["resourceType"]', JSON, 400, "structure"),
        (
            "POST",
            "/fhir/Patient",
            b'{"resourceType": "Patient"}',
            {"content-type": "text/plain"},
            415,
            "not-supported",
        ),
        (
            "POST",
            "/fhir/Patient",
            b"<Patient/>",
            {"content-type": "application/fhir+xml"},
            415,
            "not-supported",
        ),
        ("PUT", "/fhir/Patient/1", b'{"resourceType": "Observation", "id": "1"}', JSON, 400, "invalid"),
        ("POST", "/fhir/Unicorn", b'{"resourceType": "Unicorn"}', JSON, 404, "not-supported"),
        ("GET", "/fhir/Patient/a_b", None, {}, 400, "invalid"),
        (
            "PATCH",
            "/fhir/Patient/1",
            b"[]",
            {"content-type": "application/json-patch+json"},
            405,
            "not-supported",
        ),
        ("GET", "/fhir/Patient?_format=xml", None, {}, 406, "not-supported"),
    ],
)
async def test_malformed_requests_are_outcomes(client, tokens, method, path, content, headers, status, code):
    response = await client.request(method, path, content=content, headers={**tokens["admin"], **headers})
    assert response.status_code == status, response.text
    assert _outcome(response)["issue"][0]["code"] == code


async def test_a_patient_not_in_care_is_404_and_staff_and_patients_writing_are_403_outcomes(client, tokens):
    response = await client.get("/fhir/Patient/1", headers=tokens["nurse"])
    assert response.status_code == 404 and _outcome(response)["issue"][0]["code"] == "not-found"
    for who in ("nurse", "patient"):
        response = await client.post(
            "/fhir/Patient", content=b'{"resourceType": "Patient"}', headers={**tokens[who], **JSON}
        )
        assert response.status_code == 403 and _outcome(response)["issue"][0]["code"] == "forbidden"


async def test_a_body_over_the_fhir_limit_is_a_413_outcome(client, tokens, app):
    limit = app.state.settings.fhir_max_body_bytes
    assert limit > app.state.settings.max_body_bytes
    big = (
        b'{"resourceType": "Bundle", "type": "batch", "entry": []}' + b" " * app.state.settings.max_body_bytes
    )
    response = await client.post("/fhir", content=big, headers={**tokens["admin"], **JSON})
    assert response.status_code == 200, response.text  # above the API's limit, within FHIR's
    response = await client.post("/fhir", content=b" " * (limit + 1), headers={**tokens["admin"], **JSON})
    assert response.status_code == 413 and _outcome(response)["issue"][0]["code"] == "too-costly"


async def test_a_validate_over_http(client, tokens):
    body = orjson.dumps({"resourceType": "Patient", "birthDate": "1970-13-01"})
    response = await client.post(
        "/fhir/Patient/$validate", content=body, headers={**tokens["patient"], **JSON}
    )
    assert response.status_code == 422
    assert _outcome(response)["issue"][0]["expression"] == ["Patient.birthDate"]


@pytest.mark.parametrize(
    "method,path,content",
    [
        ("POST", "/fhir", b'{"resourceType": "Bundle", "type": "batch", "entry": [{"request": "GET"}]}'),
        ("POST", "/fhir", b'{"resourceType": "Bundle", "type": "batch", "entry": 5}'),
        (
            "POST",
            "/fhir/Practitioner/$validate",
            b'{"resourceType": "Practitioner", "qualification": [{"code": {"coding": '
            b'[{"system": "urn:zhiyi:practitioner-title", "code": ["x"]}]}}]}',
        ),
        ("GET", "/fhir/Patient/_history?_cursor=WzEsMiwzXQ", None),
        ("GET", "/fhir/Patient?_cursor=WyJ4Il0", None),
        ("GET", "/fhir/AuditEvent?_source=urn:zhiyi:audit&date=le9999-12-31", None),
        ("GET", "/fhir/AuditEvent?_source=urn:zhiyi:audit&_count=%C2%B2", None),
    ],
)
async def test_odd_input_is_never_a_500(client, tokens, method, path, content):
    for who in ("admin", "patient"):
        response = await client.request(method, path, content=content, headers={**tokens[who], **JSON})
        assert response.status_code < 500, (who, response.text)
        assert response.headers["content-type"].startswith("application/fhir+json")
