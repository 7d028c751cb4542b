"""A real SMTP server (aiosmtpd) for end-to-end tests: what the worker sends arrives here."""

from __future__ import annotations

import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Callable, List

from aiosmtpd.controller import Controller


class MailSink:
    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: List[EmailMessage] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def wait_for(
        self, matches: Callable[[EmailMessage], bool], timeout: float = 40.0
    ) -> EmailMessage:
        """The first message that `matches`, waiting for the worker to deliver it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in list(self.messages):
                if matches(message):
                    return message
            time.sleep(0.5)
        raise AssertionError(f"no matching email within {timeout}s; got {len(self.messages)}")
