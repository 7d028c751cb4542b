"""What both chat channels do before Rasa sees a message, in one place (the channels in
rasa_ext/ only translate HTTP): who the client is, whether it is over a limit, and whether the
message was answered already."""

from __future__ import annotations

import asyncio
from typing import Sequence

from bot.config.settings import Settings
from bot.edge.address import TrustedProxies, client_address
from bot.edge.ratelimit import ChannelLimits, Refusal
from bot.edge.replay import ReplayCache


class ChannelGate:
    def __init__(self, settings: Settings) -> None:
        self.trusted = TrustedProxies(settings.trusted_proxies)
        self.limits = ChannelLimits.from_settings(settings)
        self.replay = ReplayCache(settings.redis_url, settings.redis_key_prefix)

    def client(self, peer: str | None, forwarded_for: Sequence[str]) -> str:
        """The client address limits count on (see bot/edge/address.py)."""
        return client_address(peer, forwarded_for, self.trusted)

    async def admit(self, address: str, sender: str) -> Refusal | None:
        """None to process the message, else why not (answered 429 + Retry-After)."""
        if self.limits.shared:
            return await asyncio.to_thread(self.limits.check, address, sender)
        return self.limits.check(address, sender)

    async def admit_new(self, address: str, sender: str) -> Refusal | None:
        """None to mint the new conversation `sender` (a widget session), else why not."""
        if self.limits.shared:
            return await asyncio.to_thread(self.limits.mint, address, sender)
        return self.limits.mint(address, sender)
