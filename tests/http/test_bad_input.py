"""Bad input gets a clear 4xx with the one error shape, and changes nothing (acceptance 4)."""

from __future__ import annotations

import typing
from types import SimpleNamespace

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.domains.identity.models import Account
from zhiyi.domains.identity.schemas import SignUp
from zhiyi.domains.patients.models import Patient, PatientProxy
from zhiyi.domains.patients.schemas import DependentCreate, PatientCreate, PatientUpdate
from zhiyi.domains.scheduling import service as scheduling

INJECTIONS = [
    "' OR '1'='1",
    "Robert'); DROP TABLE patient;--",
    "1; DELETE FROM account",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "李雷<b>",
    "admin'--",
]
# Passwords are hashed, never shown and never part of SQL text: any character is allowed there.
NOT_TEXT = {"password"}
ERROR_KEYS = {"code", "message", "errors", "request_id"}


@pytest.fixture
async def world(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    alice_p = await pf.patient(session, campus=main, name="李丽", phone="13900000021")
    alice = await accounts.account(session, username="alice", roles={"patient"}, patient=alice_p)
    registrar = await accounts.account(session, username="desk", roles={"registrar"}, campuses=[main])
    await session.commit()
    return SimpleNamespace(
        main=main,
        alice_p=alice_p,
        alice=await accounts.bearer(session, alice),
        desk=await accounts.bearer(session, registrar),
    )


async def counts(session) -> tuple[int, int, int]:
    return tuple(
        [
            int(await session.scalar(select(func.count()).select_from(t)))
            for t in (Patient, Account, PatientProxy)
        ]
    )


def text_fields(model: type[BaseModel]) -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        args = typing.get_args(field.annotation) or (field.annotation,)
        if name not in NOT_TEXT and any(a is str or typing.get_origin(a) is typing.Annotated for a in args):
            out.append(name)
    return out


def valid_bodies(world) -> dict[str, tuple[str, str, dict, dict]]:
    return {
        "register": (
            "POST",
            "/api/v1/patients",
            world.desk,
            {
                "name": "陈晨",
                "id_number": pf.id_number(age=50),
                "phone": "13800000001",
                "address": "上海市黄浦区瑞金二路197号",
                "emergency_contact_name": "陈父",
                "emergency_contact_phone": "13800000002",
                "emergency_contact_relation": "父亲",
                "name_en": "Chen Chen",
                "insurance_number": "SH12345678",
            },
        ),
        "update": (
            "PATCH",
            f"/api/v1/patients/{world.alice_p.id}",
            world.alice,
            {
                "address": "上海市徐汇区",
                "name_en": "Li Li",
                "emergency_contact_name": "李父",
                "emergency_contact_relation": "父亲",
                "phone": "13900000021",
                "insurance_number": "AB1234",
                "emergency_contact_phone": "13800000003",
            },
        ),
        "dependent": (
            "POST",
            "/api/v1/patients/me/dependents",
            world.alice,
            {"name": "李小宝", "id_number": pf.id_number(age=6), "relationship": "child"},
        ),
    }


MODELS = {"register": PatientCreate, "update": PatientUpdate, "dependent": DependentCreate}


async def test_valid_bodies_are_accepted(client, world):
    """The baseline: without the bad value, each request succeeds (so the 4xx below mean something)."""
    for method, url, headers, body in valid_bodies(world).values():
        r = await client.request(method, url, headers=headers, json=body)
        assert r.status_code in (200, 201), (url, r.text)


@pytest.mark.parametrize("route", ["register", "update", "dependent"])
async def test_injection_strings_in_every_text_field_are_refused(client, world, session, route):
    method, url, headers, body = valid_bodies(world)[route]
    fields = text_fields(MODELS[route])
    assert fields, "the model has text fields"
    before = await counts(session)
    snapshot = (await client.get(f"/api/v1/patients/{world.alice_p.id}", headers=world.alice)).json()
    for field in fields:
        for payload in INJECTIONS:
            r = await client.request(method, url, headers=headers, json={**body, field: payload})
            assert 400 <= r.status_code < 500, (route, field, payload, r.status_code)
            assert set(r.json()) == ERROR_KEYS
            assert "<script>" not in r.text or r.headers["content-type"].startswith("application/json")
    assert await counts(session) == before
    after = (await client.get(f"/api/v1/patients/{world.alice_p.id}", headers=world.alice)).json()
    assert after == snapshot


async def test_signup_text_fields_refuse_injection(client, world, session):
    before = await counts(session)
    base = {
        "phone": "13711112222",
        "code": "123456",
        "password": "Kite-Lamp-4821",
        "name": "赵敏",
        "id_number": pf.id_number(age=30),
    }
    for field in text_fields(SignUp):
        for payload in INJECTIONS:
            r = await client.post("/api/v1/auth/signup", json={**base, field: payload})
            assert 400 <= r.status_code < 500, (field, payload)
    assert await counts(session) == before


@pytest.mark.parametrize(
    "bad_id,reason",
    [
        ("11010519491231002", "length"),  # 17 characters
        ("11010519491231002Y", "characters"),
        ("99010519491231002X", "region"),
        ("110105194913310021", "birth_date"),  # month 13
        ("110105194912310021", "checksum"),
        ("110105299912310020", "birth_date"),  # in the future
    ],
)
async def test_invalid_resident_ids_are_refused_with_the_reason(client, world, session, bad_id, reason):
    before = await counts(session)
    r = await client.post("/api/v1/patients", headers=world.desk, json={"name": "陈晨", "id_number": bad_id})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "resident_id_invalid"
    assert body["errors"][0]["field"] == "id_number" and body["errors"][0]["type"] == f"resident_id.{reason}"
    assert await counts(session) == before


async def test_malformed_json_is_400(client, world, session):
    before = await counts(session)
    r = await client.post(
        "/api/v1/patients",
        headers={**world.desk, "content-type": "application/json"},
        content=b'{"name": "x", ',
    )
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    assert await counts(session) == before


async def test_oversized_body_is_413(client, world, session):
    before = await counts(session)
    big = b'{"name": "' + b"a" * (300 * 1024) + b'"}'
    r = await client.post(
        "/api/v1/patients", headers={**world.desk, "content-type": "application/json"}, content=big
    )
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"

    async def chunks():  # no Content-Length: the limit still holds while streaming
        for _ in range(40):
            yield b"a" * 10_000

    r = await client.post(
        "/api/v1/patients", headers={**world.desk, "content-type": "application/json"}, content=chunks()
    )
    assert r.status_code == 413
    assert await counts(session) == before


async def test_unknown_fields_are_refused(client, world, session):
    before = await counts(session)
    r = await client.post(
        "/api/v1/patients/me/dependents",
        headers=world.alice,
        json={"name": "李小宝", "id_number": pf.id_number(age=6), "relationship": "child", "is_admin": True},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0] == {
        "field": "is_admin",
        "message": r.json()["errors"][0]["message"],
        "type": "extra_forbidden",
    }
    assert await counts(session) == before


async def test_wrong_types_and_bad_ids_in_paths(client, world):
    r = await client.get("/api/v1/patients/not-a-uuid", headers=world.alice)
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    r = await client.get("/api/v1/org/practitioners?limit=0")
    assert r.status_code == 422
    r = await client.get("/api/v1/org/practitioners?title=surgeon-general")
    assert r.status_code == 422


async def test_unknown_route_and_method_use_the_error_shape(client):
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and set(r.json()) == ERROR_KEYS
    r = await client.delete("/api/v1/org/campuses")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


async def test_text_longer_than_its_column_is_refused_not_a_500(client, world, session):
    base = valid_bodies(world)["register"][3]
    r = await client.post(
        "/api/v1/patients", headers=world.desk, json={**base, "emergency_contact_relation": "父" * 21}
    )
    assert r.status_code == 422


async def test_null_for_a_required_field_is_refused(client, world):
    for field in ("name_en", "insurance_type"):
        r = await client.patch(
            f"/api/v1/patients/{world.alice_p.id}", headers=world.alice, json={field: None}
        )
        assert r.status_code == 422, field
    r = await client.patch(
        f"/api/v1/patients/{world.alice_p.id}", headers=world.alice, json={"address": None}
    )
    assert r.status_code == 200 and r.json()["address"] is None  # optional fields may be cleared


async def test_nul_bytes_are_refused_everywhere(client, world):
    r = await client.post("/api/v1/auth/token", data={"username": "al\x00ice", "password": "x"})
    assert r.status_code == 401
    r = await client.get("/api/v1/patients?name=%00", headers=world.desk)
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    r = await client.get("/desk?mrn=%00")
    assert r.status_code == 400


async def test_logged_out_visit_to_a_non_ascii_path_redirects_to_login(client):
    r = await client.post("/portal/family/%E4%B8%AD/confirm?x=1")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=%2Fportal%2Ffamily%2F")


async def test_an_exhausted_database_pool_answers_503_with_retry_after(client, monkeypatch):
    async def busy(*_a, **_k):
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached")

    monkeypatch.setattr(scheduling, "find_sessions", busy)
    r = await client.get("/api/v1/scheduling/sessions")
    assert r.status_code == 503 and r.json()["code"] == "busy" and r.headers["retry-after"] == "2"
