"""Passwords (Argon2), access tokens (JWT via joserfc, Authlib's JOSE library),
sealed values (Fernet) and keyed hashes for lookups of sensitive numbers."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

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


@lru_cache(maxsize=8)
def _jwt_key(secret: str) -> OctKey:
    return OctKey.import_key(_derive(secret, "jwt"))


@lru_cache(maxsize=8)
def _fernet(secret: str, purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(secret, purpose)))


class TokenInvalid(Exception):
    pass


def issue_jwt(secret: str, claims: dict, *, ttl: dt.timedelta) -> str:
    now = clock.now()
    body = {**claims, "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode({"alg": "HS256"}, body, _jwt_key(secret))


def read_jwt(secret: str, token: str, *, typ: str) -> dict:
    """The claims of a token whose signature checks out, of this type and not expired. (The
    identity domain keeps each access token's actor once it checked out: see
    identity.service.actor_from_access_token.)"""
    try:
        claims = jwt.decode(token, _jwt_key(secret)).claims
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
