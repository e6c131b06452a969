"""Notification channel interface. Adapters live in zhiyi.integrations.notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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
