"""Settings from ZHIYI_* environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB = "sqlite+aiosqlite:///./var/zhiyi.db"
DEV_SECRET = "zhiyi-dev-secret-change-me-in-production-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHIYI_", env_file=".env", extra="ignore")

    env: str = "dev"  # dev | test | production
    database_url: str = DEFAULT_DB
    secret_key: str = DEV_SECRET
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"
    max_body_bytes: int = 256 * 1024
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
    checkin_late_minutes: int = Field(default=30, ge=0)  # "I have arrived" on the phone until this long after it
    release_draw_seconds: float = Field(default=3.0, ge=0)  # requests this soon after a release are drawn by lot
    release_draw_spread_seconds: float = Field(default=2.0, ge=0)  # drawn requests are served over this long
    own_booking_in_one_statement: bool = True  # PostgreSQL: a patient's own booking of a session, one statement
    booking_requests_per_minute: int = Field(default=30, ge=1)  # per account, on each server process
    reminder_hours_before: int = Field(default=24, ge=1)  # appointment reminders go out this long before
    reminder_sweep_seconds: float = Field(default=300, gt=0)
    queue_poll_seconds: float = Field(default=1.0, gt=0)  # how often live queue pages look for changes
    queue_stream_seconds: float = Field(default=600, gt=0)  # a live stream then ends; browsers reconnect
    forwarded_allow_ips: str = "127.0.0.1"  # proxies whose X-Forwarded-For is trusted (client address, audit)
    waitlist_hold_minutes: int = Field(default=15, ge=1)  # a freed place is held this long for the next waiting patient
    waitlist_sweep_seconds: float = Field(default=15.0, gt=0)  # how often workers expire holds that ran out
    no_show_grace_minutes: int = Field(default=30, ge=0)  # still "booked" this long after the slot's end: a no-show
    no_show_limit: int = Field(default=3, ge=1)  # this many no-shows ...
    no_show_window_days: int = Field(default=90, ge=1)  # ... within this many days ...
    no_show_suspension_days: int = Field(default=30, ge=1)  # ... suspend online booking this long after the last
    no_show_sweep_seconds: float = Field(default=300.0, gt=0)  # how often workers mark no-shows

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def async_database_url(self) -> str:
        return to_async_url(self.database_url)


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
