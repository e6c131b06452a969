"""Settings from ZHIYI_* environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB = "sqlite+aiosqlite:///./var/zhiyi.db"
DEV_SECRET = (
    "zhiyi-dev-secret-change-me-in-production-0123456789"  # public: only `zhiyi demo` and tests run on it
)
MIN_SECRET_CHARS = 32
MIN_SECRET_DISTINCT = 12  # "aaaa...a1" is 32 characters and no secret


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHIYI_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    database_url: str = DEFAULT_DB
    secret_key: str = DEV_SECRET  # signs access tokens (by key id) and session cookies
    # earlier signing keys, comma-separated: their tokens are accepted until they expire (rotation)
    previous_secret_keys: str = ""
    # seals and keys stored data (ID numbers, refresh tokens, codes); empty: the secret key. Set it to the
    # current secret key before rotating that for the first time: stored data does not rotate with it
    data_key: str = ""
    dev_secret_allowed: bool = False  # set by `zhiyi demo` only; never honoured in production
    metrics_token: str = ""  # /metrics answers a bearer of this token (or an admin); empty: admins only
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"
    max_body_bytes: int = 256 * 1024
    fhir_max_body_bytes: int = 32 * 1024 * 1024  # /fhir: transaction Bundles (a Synthea patient is ~2 MB)
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    qr_token_minutes: int = 10
    otp_minutes: int = 10
    login_max_failures: int = 5
    login_window_minutes: int = 15
    ip_max_failures: int = 30
    in_process_worker: bool = True
    notification_channel: str = "dev"  # dev | (production adapters)
    log_json: bool = True
    secure_cookies: bool = False
    db_pool_size: int = Field(default=10, ge=1)
    db_pool_open_at_start: bool = True  # a server process makes its pool's connections before it serves
    checkin_opens_minutes: int = Field(default=60, ge=0)  # check-in opens this long before the appointment
    # "I have arrived" on the phone until this long after it
    checkin_late_minutes: int = Field(default=30, ge=0)
    # requests this soon after a release are drawn by lot
    release_draw_seconds: float = Field(default=3.0, ge=0)
    release_draw_spread_seconds: float = Field(default=2.0, ge=0)  # drawn requests are served over this long
    # the registration rush's fast path (domains/scheduling/rush/); None: on with PostgreSQL (production),
    # off with SQLite (the embedded tier, which has no lane: its one connection is the bottleneck)
    rush_lane: bool | None = None
    booking_requests_per_minute: int = Field(default=30, ge=1)  # per account, on each server process
    reminder_hours_before: int = Field(default=24, ge=1)  # appointment reminders go out this long before
    reminder_sweep_seconds: float = Field(default=300, gt=0)
    queue_poll_seconds: float = Field(default=1.0, gt=0)  # how often live queue pages look for changes
    queue_stream_seconds: float = Field(default=600, gt=0)  # a live stream then ends; browsers reconnect
    forwarded_allow_ips: str = "127.0.0.1"  # proxies whose X-Forwarded-For is trusted (client address, audit)
    # a freed place is held this long for the next waiting patient
    waitlist_hold_minutes: int = Field(default=15, ge=1)
    waitlist_sweep_seconds: float = Field(default=15.0, gt=0)  # how often workers expire holds that ran out
    # still "booked" this long after the slot's end: a no-show
    no_show_grace_minutes: int = Field(default=30, ge=0)
    no_show_limit: int = Field(default=3, ge=1)  # this many no-shows ...
    no_show_window_days: int = Field(default=90, ge=1)  # ... within this many days ...
    # ... suspend online booking this long after the last
    no_show_suspension_days: int = Field(default=30, ge=1)
    care_window_days: int = Field(default=30, ge=0)  # a booking this near today makes a care relationship
    break_glass_hours: int = Field(default=12, ge=1)  # how long a reasoned access without one lasts
    no_show_sweep_seconds: float = Field(default=300.0, gt=0)  # how often workers mark no-shows

    @property
    def signing_secrets(self) -> tuple[str, ...]:
        """The current signing secret first, then the earlier ones still accepted."""
        return (self.secret_key, *(k.strip() for k in self.previous_secret_keys.split(",") if k.strip()))

    @property
    def data_secret(self) -> str:
        return self.data_key or self.secret_key

    @property
    def async_database_url(self) -> str:
        return to_async_url(self.database_url)


class InsecureSettings(RuntimeError):
    """The process must not start with these settings (a public or weak secret)."""


def _weak(secret: str) -> bool:
    return len(secret) < MIN_SECRET_CHARS or len(set(secret)) < MIN_SECRET_DISTINCT


def secret_problem(settings: Settings) -> str | None:
    """Why these settings must not serve, or None. The built-in secret is public, so anyone could sign
    an admin's token with it: only tests and `zhiyi demo` (never in production) run on it. Outside
    development every secret must be strong."""
    if settings.env == "test":
        return None
    keys = {
        "ZHIYI_SECRET_KEY": settings.secret_key,
        "ZHIYI_DATA_KEY": settings.data_key,
        **{f"ZHIYI_PREVIOUS_SECRET_KEYS[{i}]": k for i, k in enumerate(settings.signing_secrets[1:])},
    }
    if settings.signing_secrets[1:] and not settings.data_key:
        return (
            "ZHIYI_PREVIOUS_SECRET_KEYS is set but ZHIYI_DATA_KEY is not: stored data (sealed ID numbers, "
            "their lookups) is keyed by the data key, which would follow the new secret; set ZHIYI_DATA_KEY "
            "to the secret the data was stored with"
        )
    for name, value in keys.items():
        if value == DEV_SECRET and not (settings.dev_secret_allowed and settings.env == "dev"):
            return (
                f"{name} is the built-in development secret, which is public; set ZHIYI_SECRET_KEY to at "
                f"least {MIN_SECRET_CHARS} random characters (only `zhiyi demo` runs on the built-in one)"
            )
        if value and value != DEV_SECRET and settings.env == "production" and _weak(value):
            return (
                f"{name} is too weak for production: use at least {MIN_SECRET_CHARS} random characters "
                f"(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
    return None


def check_secrets(settings: Settings) -> None:
    problem = secret_problem(settings)
    if problem:
        raise InsecureSettings(problem)


def to_async_url(url: str) -> str:
    """Accept plain postgresql:// and sqlite:// URLs and pick the async drivers."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+psycopg://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.split(":///", 1)[1]
    return url


def ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


_active: Settings | None = None


def get_settings() -> Settings:
    """The settings of this process: from the environment unless `use` chose others."""
    global _active
    if _active is None:
        _active = Settings()
    return _active


def use(settings: Settings) -> Settings:
    global _active
    _active = settings
    return settings
