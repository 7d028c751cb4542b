"""Delivering outbox items: email over SMTP (or to a folder when offline), webhooks over HTTP.

Each returns a `DeliveryResult`; failures carry only the endpoint's status or the exception
type (never the payload), because `last_error` is stored and shown to operators.
"""

from __future__ import annotations

import json
import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping

import requests

from bot.config.settings import Settings
from bot.outbox.queue import Claimed

# Connecting should be quick; a slow endpoint gets the configured read timeout, then a retry.
CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    error: str | None = None  # e.g. "HTTP 503", "ReadTimeout"; no personal data

    @classmethod
    def failed(cls, error: BaseException | str) -> DeliveryResult:
        return cls(False, error if isinstance(error, str) else type(error).__name__)


def build_email(payload: Mapping[str, Any], sender: str) -> EmailMessage:
    """An outbox email payload as a MIME message.

    Payload: {"to": [..], "subject", "text", "reply_to"?, "headers"?: {..},
    "attachments"?: [{"filename", "content_type", "content"}]}.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(payload["to"])
    message["Subject"] = payload["subject"]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="leadbot")
    if payload.get("reply_to"):
        message["Reply-To"] = payload["reply_to"]
    for name, value in (payload.get("headers") or {}).items():
        message[name] = value
    message.set_content(payload["text"])
    for attachment in payload.get("attachments") or []:
        maintype, _, subtype = attachment["content_type"].partition("/")
        subtype, _, params = subtype.partition(";")
        extra = {}
        if "method=" in params:
            extra["params"] = {"method": params.split("method=")[1].strip()}
        message.add_attachment(
            attachment["content"].encode("utf-8"),
            maintype=maintype,
            subtype=subtype.strip(),
            filename=attachment["filename"],
            **extra,
        )
    return message


class EmailDelivery:
    """SMTP with an explicit timeout; with no SMTP_HOST, .eml files in OUTBOX_MAIL_DIR."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def offline(self) -> bool:
        return not self._settings.smtp_host

    def deliver(self, payload: Mapping[str, Any], item_id: int | None = None) -> DeliveryResult:
        message = build_email(payload, self._settings.smtp_from)
        if self.offline:
            return self._to_folder(message, item_id)
        s = self._settings
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPResponseException as error:
            return DeliveryResult.failed(f"SMTP {error.smtp_code}")
        except (smtplib.SMTPException, OSError) as error:
            return DeliveryResult.failed(error)
        return DeliveryResult(True)

    def _to_folder(self, message: EmailMessage, item_id: int | None = None) -> DeliveryResult:
        folder = Path(self._settings.outbox_mail_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            # Named after its outbox item, so erasing the person finds it (mail_files_for).
            suffix = f"-o{item_id}" if item_id is not None else ""
            path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}{suffix}.eml"
            path.write_bytes(bytes(message))
        except OSError as error:
            return DeliveryResult.failed(error)
        return DeliveryResult(True)


def mail_files_for(folder: Path, item_ids: Iterable[int]) -> List[Path]:
    """The offline mail files written for these outbox items (see `EmailDelivery`)."""
    wanted = {f"-o{item_id}.eml" for item_id in item_ids}
    if not wanted or not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.glob("*-o*.eml")
        if path.name[path.name.rindex("-o") :] in wanted and path.is_file()
    )


class WebhookDelivery:
    """POSTs JSON; one `requests.Session` per integration (connection reuse, own settings)."""

    def __init__(
        self,
        timeout_s: float = 10.0,
        session_factory: Callable[[], requests.Session] = requests.Session,
    ) -> None:
        self._timeout = (min(CONNECT_TIMEOUT_S, timeout_s), timeout_s)
        self._factory = session_factory
        self._sessions: Dict[str, requests.Session] = {}

    def _session(self, integration: str) -> requests.Session:
        if integration not in self._sessions:
            session = self._factory()
            session.headers["User-Agent"] = "Leadbot/0.1 (+outbox)"
            self._sessions[integration] = session
        return self._sessions[integration]

    def deliver(self, payload: Mapping[str, Any]) -> DeliveryResult:
        """Payload: {"integration": "rep"|"crm"|..., "url", "body": {...}}; 2xx is success."""
        return post_for_delivery(
            self._session(payload.get("integration", "default")),
            payload["url"],
            json.dumps(payload["body"]),
            {"Content-Type": "application/json"},
            self._timeout,
        )

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()


def post_for_delivery(
    session: requests.Session,
    url: str,
    body: str | bytes,
    headers: Mapping[str, str],
    timeout: Any,
) -> DeliveryResult:
    """POST one delivery; a 2xx answer is success, anything else (or no answer) a failure."""
    try:
        response = session.post(url, data=body, headers=dict(headers), timeout=timeout)
    except requests.RequestException as error:
        return DeliveryResult.failed(error)
    if 200 <= response.status_code < 300:
        return DeliveryResult(True)
    return DeliveryResult.failed(f"HTTP {response.status_code}")


class Dispatcher:
    """Routes a claimed outbox item to the delivery for its kind."""

    def __init__(
        self, email: EmailDelivery, webhook: WebhookDelivery, crm: Any | None = None
    ) -> None:
        self.email, self.webhook, self.crm = email, webhook, crm

    @classmethod
    def from_settings(cls, settings: Settings) -> Dispatcher:
        from bot.crm.delivery import CrmDelivery

        return cls(
            EmailDelivery(settings),
            WebhookDelivery(settings.webhook_timeout_s),
            CrmDelivery.from_settings(settings),
        )

    def deliver(self, item: Claimed) -> DeliveryResult:
        try:
            if item.kind == "email":
                return self.email.deliver(item.payload, item.id)
            if item.kind == "webhook":
                return self.webhook.deliver(item.payload)
            if item.kind == "crm":
                if self.crm is None:  # no CRM configured: nothing to send it to
                    return DeliveryResult(True)
                return self.crm.deliver(item.payload)
        except (KeyError, TypeError, ValueError) as error:  # a malformed payload: say so
            return DeliveryResult.failed(f"bad payload ({type(error).__name__})")
        return DeliveryResult.failed(f"unknown kind {item.kind}")

    def close(self) -> None:
        self.webhook.close()
        if self.crm is not None:
            self.crm.close()
