"""Delivering CRM events from the outbox: the signed webhook (CRM_WEBHOOK_URL + WEBHOOK_SECRET)
and, when HUBSPOT_TOKEN is set, the HubSpot adapter (bot/crm/hubspot.py).

The signature is made at send time (every attempt gets a fresh timestamp, so a retry hours
later is still inside the receiver's 5-minute window); the event id stays the same, so a
receiver that saw an attempt whose answer got lost drops the repeat. With several targets
configured, the webhook goes first: if a later target fails, the retry repeats the webhook
with the same id, which receivers de-duplicate. With none configured, events are dropped.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, List, Mapping, Protocol

import requests

from bot.crm.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from bot.outbox.delivery import CONNECT_TIMEOUT_S, DeliveryResult, post_for_delivery


class Target(Protocol):
    name: str

    def send(self, event: Mapping[str, Any]) -> DeliveryResult: ...

    def close(self) -> None: ...


def event_body(event: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class SignedWebhook:
    """POSTs the event envelope with `Leadbot-Signature: t=<unix>,v1=<hex>`; 2xx is success."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("WEBHOOK_SECRET is required to send CRM webhooks")
        self.url, self._secret, self._clock = url, secret, clock
        self._timeout = (min(CONNECT_TIMEOUT_S, timeout_s), timeout_s)
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "Leadbot/0.1 (+crm-events)"

    def send(self, event: Mapping[str, Any]) -> DeliveryResult:
        body = event_body(event)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(self._secret, int(self._clock()), body),
            EVENT_ID_HEADER: str(event["id"]),
            EVENT_TYPE_HEADER: str(event["type"]),
        }
        return post_for_delivery(self._session, self.url, body, headers, self._timeout)

    def close(self) -> None:
        self._session.close()


class CrmDelivery:
    """Sends one event to every configured target, in order; fails at the first that fails."""

    def __init__(self, targets: List[Target]) -> None:
        self.targets = targets

    @classmethod
    def from_settings(cls, settings) -> CrmDelivery:  # type: ignore[no-untyped-def]
        targets: List[Target] = []
        if settings.crm_webhook_url:
            targets.append(
                SignedWebhook(
                    settings.crm_webhook_url, settings.webhook_secret, settings.webhook_timeout_s
                )
            )
        if settings.hubspot_token:
            from bot.crm.hubspot import HubSpot

            targets.append(HubSpot.from_settings(settings))
        return cls(targets)

    def deliver(self, payload: Mapping[str, Any]) -> DeliveryResult:
        event = payload["event"]
        for target in self.targets:
            result = target.send(event)
            if not result.ok:
                return DeliveryResult.failed(f"{target.name}: {result.error}")
        return DeliveryResult(True)

    def close(self) -> None:
        for target in self.targets:
            target.close()
