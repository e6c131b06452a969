"""Notification adapters: the dev channel logs, the sandbox keeps messages for tests.

Production adapters (SMS gateway, WeChat template messages, in-app inbox) implement
the same `send(message)` and register under their own name.
"""

from __future__ import annotations

import logging

from zhiyi.core import notify
from zhiyi.core.i18n import N_, translator

log = logging.getLogger("zhiyi.notify")

TEMPLATES = {
    "otp.signup": N_("Your Zhiyi verification code is %(code)s. It expires in %(minutes)s minutes."),
    "otp.proxy": N_("%(requester)s asks to manage your hospital affairs in Zhiyi. Code %(code)s; share it only if you agree."),
}


def render(message: notify.Message) -> str:
    t = translator(message.locale)
    return t.gettext(TEMPLATES.get(message.template, message.template), **message.params)


class DevLogChannel:
    """Writes messages, codes included, to the log. Never for production."""

    name = "dev"

    async def send(self, message: notify.Message) -> None:
        log.warning("DEV NOTIFICATION to=%s template=%s text=%s params=%s",
                    message.to, message.template, render(message), message.params)


class SandboxChannel:
    """Keeps every message in memory so tests can read what a person would receive."""

    name = "sandbox"

    def __init__(self) -> None:
        self.outbox: list[notify.Message] = []

    async def send(self, message: notify.Message) -> None:
        self.outbox.append(message)

    def last_to(self, to: str) -> notify.Message | None:
        return next((m for m in reversed(self.outbox) if m.to == to), None)


sandbox = SandboxChannel()


def install() -> None:
    notify.register(DevLogChannel())
    notify.register(sandbox)
