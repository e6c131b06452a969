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
    "otp.login": N_(
        "Your Zhiyi sign-in code is %(code)s. It expires in %(minutes)s minutes. If you did not try to "
        "sign in, someone may know your password: please change it."
    ),
    "otp.proxy": N_(
        "%(requester)s asks to manage your hospital affairs in Zhiyi. "
        "Code %(code)s; share it only if you agree."
    ),
    "waitlist.offer": N_(
        "%(name)s: a place on the waiting list is free for you at %(when)s. It is held until %(until)s: "
        "accept it in Zhiyi (My appointments), or it goes to the next patient."
    ),
    "session.stopped.rebooked": N_(
        "%(name)s: the clinic of %(when)s has been cancelled by the hospital. We have "
        "booked you in for %(new_when)s instead; you can change it in Zhiyi."
    ),
    "session.stopped": N_(
        "%(name)s: the clinic of %(when)s has been cancelled by the hospital and no other place "
        "was free. Please book again in Zhiyi; we apologise."
    ),
    "booking.reminder": N_(
        "%(name)s: a reminder of your appointment with %(doctor)s at %(when)s. Check in with your "
        'one-code or "I have arrived" in Zhiyi; if you cannot come, please cancel.'
    ),
    "session.moved": N_("%(name)s: your appointment of %(when)s has been moved to %(new_when)s."),
    "session.moved.cancelled": N_(
        "%(name)s: the clinic of %(when)s has moved to a day when you already have an "
        "appointment in that department, so this one is cancelled."
    ),
}


def render(message: notify.Message) -> str:
    t = translator(message.locale)
    return t.gettext(TEMPLATES.get(message.template, message.template), **message.params)


class DevLogChannel:
    """Writes messages, codes included, to the log. Never for production."""

    name = "dev"

    async def send(self, message: notify.Message) -> None:
        log.warning(
            "DEV NOTIFICATION to=%s template=%s text=%s params=%s",
            message.to,
            message.template,
            render(message),
            message.params,
        )


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
