"""Shortcuts that domains offer on a person's home pages (home and the patient portal).

A domain registers a provider through domains/registry.py at start-up, so a page of a
foundational domain (the patient portal) shows, say, scheduling's "Book again" without
importing the domain above it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from zhiyi.core.policy import Actor


@dataclass(frozen=True)
class Shortcut:
    label: str  # already in the reader's language
    href: str
    detail: str = ""


Provider = Callable[[Request, Actor], Awaitable[list[Shortcut]]]
_providers: list[Provider] = []


def install(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


async def for_actor(request: Request, actor: Actor | None) -> list[Shortcut]:
    if actor is None:
        return []
    found: list[Shortcut] = []
    for provider in _providers:
        found += await provider(request, actor)
    return found
