"""Notification channel interface. Adapters live in zhiyi.integrations.notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from zhiyi.core import outbox


@dataclass(frozen=True)
class Message:
    to: str  # a phone number, an open id, or an account id, by channel
    template: str  # a catalogue key, e.g. "otp.signup"
    params: dict[str, str] = field(default_factory=dict)
    locale: str = "zh_CN"


class Channel(Protocol):
    name: str

    async def send(self, message: Message) -> None: ...


_channels: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    _channels[channel.name] = channel


def get(name: str) -> Channel:
    try:
        return _channels[name]
    except KeyError:
        raise LookupError(f"no notification channel named {name!r}") from None


async def send(name: str, message: Message) -> None:
    await get(name).send(message)


TOPIC = "core.notification_requested"


async def enqueue(session, name: str, message: Message) -> None:
    """Send after the transaction commits: the message rides the outbox, so a code is never
    sent for a change that did not happen."""
    await outbox.publish(
        session,
        TOPIC,
        {
            "channel": name,
            "to": message.to,
            "template": message.template,
            "params": message.params,
            "locale": message.locale,
        },
    )


@outbox.handles(TOPIC)
async def _deliver(_session, event) -> None:
    p = event.payload
    await send(
        p["channel"], Message(to=p["to"], template=p["template"], params=p["params"], locale=p["locale"])
    )
