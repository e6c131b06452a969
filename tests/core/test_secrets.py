"""Issue 15, item 1: nobody signs an admin's token with the public development secret; signing keys rotate."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from joserfc import jws
from typer.testing import CliRunner

from tests.conftest import TEST_SECRET
from tests.factories import identity as accounts
from zhiyi import cli
from zhiyi.app import create_app
from zhiyi.core import security
from zhiyi.core.config import DEV_SECRET, InsecureSettings, Settings, get_settings, secret_problem, use

STRONG = "Qm9vdHN0cmFwIGEgcmVhbCBzZWNyZXQgaGVyZSBwbGVhc2U"
FORGED_ADMIN = {"typ": "access", "roles": ["admin"], "gw": True, "pid": None, "prid": None, "cids": []}


@pytest.mark.parametrize(
    ("env", "secret", "allowed", "refused"),
    [
        ("production", DEV_SECRET, False, True),
        ("production", DEV_SECRET, True, True),  # the demo's switch is never honoured in production
        ("dev", DEV_SECRET, False, True),  # `zhiyi serve` on the public secret
        ("dev", DEV_SECRET, True, False),  # `zhiyi demo`
        ("production", "a" * 40 + "1", False, True),  # long, but no secret
        ("production", "short-but-random-Zx81", False, True),
        ("production", STRONG, False, False),
        ("dev", "short-but-random-Zx81", False, False),  # development may use a weak one of its own
        ("test", DEV_SECRET, False, False),
    ],
)
def test_which_secrets_may_serve(env, secret, allowed, refused):
    settings = Settings(env=env, secret_key=secret, dev_secret_allowed=allowed)
    assert (secret_problem(settings) is not None) == refused


def test_the_app_refuses_to_start_on_the_public_secret_in_production():
    saved = get_settings()
    try:
        with pytest.raises(InsecureSettings, match="built-in development secret"):
            create_app(Settings(env="production", secret_key=DEV_SECRET, database_url="sqlite:///:memory:"))
        with pytest.raises(InsecureSettings, match="too weak"):
            create_app(
                Settings(
                    env="production",
                    secret_key=STRONG,
                    previous_secret_keys="old-and-weak",
                    data_key=STRONG,
                    database_url="sqlite:///:memory:",
                )
            )
    finally:
        use(saved)


def test_zhiyi_serve_refuses_the_public_secret_and_says_why(monkeypatch):
    saved = get_settings()
    use(Settings(env="dev", secret_key=DEV_SECRET))
    started = []
    monkeypatch.setattr(cli.uvicorn, "run", lambda *a, **k: started.append(a))
    try:
        r = CliRunner().invoke(cli.app, ["serve"])
    finally:
        use(saved)
    assert r.exit_code == 2 and "development secret" in r.output and started == []


async def test_a_token_signed_with_the_public_secret_gets_nothing(client):
    forged = security.issue_jwt(
        DEV_SECRET,
        {**FORGED_ADMIN, "sub": str(uuid.uuid4()), "ver": 0, "sid": str(uuid.uuid4())},
        ttl=dt.timedelta(minutes=5),
    )
    r = await client.get("/api/v1/patients?name=李", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


async def test_even_a_leaked_key_does_not_make_up_an_admin(client):
    """Claims alone are not trusted: a token for an account that does not exist (or a sign-in that
    never happened) is refused, even when its signature checks out."""
    forged = security.issue_jwt(
        TEST_SECRET,
        {**FORGED_ADMIN, "sub": str(uuid.uuid4()), "ver": 0, "sid": str(uuid.uuid4())},
        ttl=dt.timedelta(minutes=5),
    )
    r = await client.get("/api/v1/patients?name=李", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


async def test_signing_keys_rotate(client, session, monkeypatch):
    admin = await accounts.account(session, username="rot-admin", roles={"admin"})
    old_headers = await accounts.bearer(session, admin)  # signed with TEST_SECRET
    header = jws.extract_compact(old_headers["Authorization"][7:].encode()).protected
    assert header["kid"] == security.key_id(TEST_SECRET) and TEST_SECRET not in str(header)
    settings = get_settings()
    monkeypatch.setattr(settings, "secret_key", STRONG)
    monkeypatch.setattr(settings, "data_key", TEST_SECRET)  # stored data keeps its key
    monkeypatch.setattr(settings, "previous_secret_keys", TEST_SECRET)
    assert (await client.get("/api/v1/me", headers=old_headers)).status_code == 200  # until it expires
    new_headers = await accounts.bearer(session, admin)
    new_kid = jws.extract_compact(new_headers["Authorization"][7:].encode()).protected["kid"]
    assert new_kid == security.key_id(STRONG)
    assert (await client.get("/api/v1/me", headers=new_headers)).status_code == 200
    monkeypatch.setattr(settings, "previous_secret_keys", "")  # the old key retired
    assert (await client.get("/api/v1/me", headers=old_headers)).status_code == 401
    assert (await client.get("/api/v1/me", headers=new_headers)).status_code == 200


def test_rotating_without_pinning_the_data_key_is_refused():
    """The data key would follow the new secret: every sealed ID number unreadable, every lookup missed."""
    rotated = Settings(env="production", secret_key=STRONG, previous_secret_keys=STRONG[::-1])
    assert "ZHIYI_DATA_KEY" in secret_problem(rotated)
    assert secret_problem(rotated.model_copy(update={"data_key": STRONG[::-1]})) is None
