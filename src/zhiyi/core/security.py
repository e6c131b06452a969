"""Passwords (Argon2), access tokens (JWT via joserfc, Authlib's JOSE library),
sealed values (Fernet) and keyed hashes for lookups of sensitive numbers."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from zhiyi.core import clock

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 second recommended set)
_DUMMY_HASH = _hasher.hash("zhiyi-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-ish time: an unknown account still costs one Argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _derive(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def key_id(secret: str) -> str:
    """A signing key's public name (in each token's header), which reveals nothing of the key."""
    return hashlib.sha256(_derive(secret, "jwt-kid")).hexdigest()[:16]


@lru_cache(maxsize=8)
def _jwt_key(secret: str) -> OctKey:
    return OctKey.import_key(_derive(secret, "jwt"), {"kid": key_id(secret)})


@lru_cache(maxsize=8)
def _jwt_keys(secrets_: tuple[str, ...]) -> KeySet:
    return KeySet([_jwt_key(s) for s in secrets_])


@lru_cache(maxsize=8)
def _fernet(secret: str, purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(secret, purpose)))


class TokenInvalid(Exception):
    pass


def issue_jwt(secret: str, claims: dict, *, ttl: dt.timedelta) -> str:
    """Signed with `secret`, named in the header by its key id (so a rotated-out key is still found)."""
    now = clock.now()
    body = {**claims, "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode({"alg": "HS256", "kid": key_id(secret)}, body, _jwt_key(secret))


def read_jwt(secrets_: str | Sequence[str], token: str, *, typ: str) -> dict:
    """The claims of a token signed by one of `secrets_` (found by the key id in its header), of this
    type and not expired. (The identity domain keeps each access token's actor once it checked out
    and asks the account every time: see identity.service.)"""
    keys = (secrets_,) if isinstance(secrets_, str) else tuple(secrets_)
    try:
        claims = jwt.decode(token, _jwt_keys(keys), algorithms=["HS256"]).claims
    except (JoseError, ValueError) as exc:
        raise TokenInvalid(str(exc)) from exc
    if claims.get("typ") != typ or int(claims.get("exp", 0)) < clock.now().timestamp():
        raise TokenInvalid("expired or wrong type")
    return claims


def seal(secret: str, purpose: str, value: str) -> str:
    """Encrypt and authenticate (Fernet); the token reveals nothing."""
    return _fernet(secret, purpose).encrypt_at_time(value.encode(), int(clock.now().timestamp())).decode()


def unseal(secret: str, purpose: str, token: str, *, ttl_seconds: int | None = None) -> str:
    try:
        f = _fernet(secret, purpose)
        if ttl_seconds is None:
            return f.decrypt(token.encode()).decode()
        return f.decrypt_at_time(token.encode(), ttl_seconds, int(clock.now().timestamp())).decode()
    except (InvalidToken, ValueError, UnicodeError) as exc:
        raise TokenInvalid("invalid or expired token") from exc


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    """Deterministic HMAC for unique lookups of values we store only sealed."""
    return hmac.new(_derive(secret, purpose), value.encode(), hashlib.sha256).hexdigest()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def numeric_code(digits: int = 6) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def constant_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
