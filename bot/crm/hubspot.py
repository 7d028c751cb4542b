"""The optional HubSpot adapter (on when HUBSPOT_TOKEN is set): CRM events become HubSpot
contacts and deals through HubSpot's CRM v3 API, delivered by the worker like every event.

- Every event whose lead has an email upserts the contact by email
  (`POST /crm/v3/objects/contacts/batch/upsert`, `idProperty: email`): email, firstname,
  lastname, jobtitle, company and lifecyclestage (lead / marketingqualifiedlead /
  salesqualifiedlead from the tier). Upserting is idempotent, so a retried event is harmless.
- `meeting.booked` for a new meeting also creates a deal associated with that contact
  (`POST /crm/v3/objects/deals` with `associations`, deal-to-contact type 3): dealname, amount
  (the lead's annual budget in USD), pipeline and dealstage (HUBSPOT_PIPELINE,
  HUBSPOT_DEAL_STAGE).
- `meeting.cancelled` moves that deal to HUBSPOT_CANCELLED_STAGE: the contact's deals are found
  with the deals search (`POST /crm/v3/objects/deals/search`, filtered on the
  `associations.contact` pseudo-property, the pipeline and HUBSPOT_DEAL_STAGE), and those named
  as Leadbot names its deals are updated (`PATCH /crm/v3/objects/deals/{id}`). A deal a rep has
  already moved on to another stage, or one a rep made, is left alone. A moved meeting
  (`meeting.booked` with `previous_start`) keeps its deal where it is: it is still booked (a
  cancelled meeting can't be moved; booking again makes a new meeting and a new deal).
- Events without an email (`lead.created` before the email question, `lead.erased`, which
  carries only the opaque id) send nothing: erase the contact in HubSpot yourself (its GDPR
  delete) when your webhook receiver hears `lead.erased`.

Authentication: a private app's access token as `Authorization: Bearer <token>`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

import requests

from bot.config.wording import text_templates
from bot.outbox.delivery import CONNECT_TIMEOUT_S, DeliveryResult

CONTACTS_UPSERT = "/crm/v3/objects/contacts/batch/upsert"
DEALS = "/crm/v3/objects/deals"
DEALS_SEARCH = "/crm/v3/objects/deals/search"
DEAL = "/crm/v3/objects/deals/{deal_id}"
DEAL_TO_CONTACT = 3  # HubSpot-defined association type: deal -> contact
_words = text_templates(Path(__file__).resolve().parent / "templates")
LIFECYCLE = {
    "sales_qualified": "salesqualifiedlead",
    "marketing_qualified": "marketingqualifiedlead",
    "cold": "lead",
}


def _split_name(name: str | None) -> Tuple[str, str]:
    parts = (name or "").split()
    if not parts:
        return "", ""
    return parts[0], " ".join(parts[1:])


def contact_properties(lead: Mapping[str, Any]) -> Dict[str, str]:
    """The lead as HubSpot contact properties (values are strings; empty ones left out, so an
    upsert never clears what a rep typed into HubSpot)."""
    first, last = _split_name(lead.get("name"))
    properties = {
        "email": lead.get("email") or "",
        "firstname": first,
        "lastname": last,
        "jobtitle": lead.get("role") or "",
        "company": lead.get("company") or "",
        "lifecyclestage": LIFECYCLE.get(str(lead.get("tier") or ""), ""),
    }
    return {key: value for key, value in properties.items() if value}


def deal_properties(lead: Mapping[str, Any], pipeline: str, stage: str) -> Dict[str, str]:
    name = _words.get_template("deal_name.txt").render(lead=lead).strip()
    properties = {"dealname": name, "pipeline": pipeline, "dealstage": stage}
    if lead.get("budget_usd"):
        properties["amount"] = str(int(lead["budget_usd"]))
    return properties


class HubSpot:
    """Sends CRM events to HubSpot; 2xx is success, anything else is retried by the outbox."""

    name = "hubspot"

    def __init__(
        self,
        token: str,
        base_url: str = "https://api.hubapi.com",
        pipeline: str = "default",
        deal_stage: str = "appointmentscheduled",
        timeout_s: float = 10.0,
        cancelled_stage: str = "closedlost",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.pipeline, self.deal_stage = pipeline, deal_stage
        self.cancelled_stage = cancelled_stage
        self._timeout = (min(CONNECT_TIMEOUT_S, timeout_s), timeout_s)
        self._session = requests.Session()
        self._session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "User-Agent": "Leadbot/0.1 (+hubspot)",
            }
        )

    @classmethod
    def from_settings(cls, settings) -> HubSpot:  # type: ignore[no-untyped-def]
        return cls(
            settings.hubspot_token,
            settings.hubspot_base_url,
            settings.hubspot_pipeline,
            settings.hubspot_deal_stage,
            settings.webhook_timeout_s,
            settings.hubspot_cancelled_stage,
        )

    def _post(
        self, path: str, body: Mapping[str, Any], method: str = "POST"
    ) -> Tuple[DeliveryResult, Any]:
        try:
            response = self._session.request(
                method, self.base_url + path, json=body, timeout=self._timeout
            )
        except requests.RequestException as error:
            return DeliveryResult.failed(error), None
        if not 200 <= response.status_code < 300:
            return DeliveryResult.failed(f"HTTP {response.status_code}"), None
        try:
            return DeliveryResult(True), response.json()
        except ValueError:
            return DeliveryResult.failed("not JSON"), None

    def send(self, event: Mapping[str, Any]) -> DeliveryResult:
        data = event.get("data") or {}
        lead = data.get("lead") or {}
        if not lead.get("email"):
            return DeliveryResult(True)  # nothing HubSpot can key a contact on
        properties = contact_properties(lead)
        result, answer = self._post(
            CONTACTS_UPSERT,
            {
                "inputs": [
                    {"idProperty": "email", "id": properties["email"], "properties": properties}
                ]
            },
        )
        if not result.ok:
            return result
        meeting = data.get("meeting") or {}
        new_meeting = event.get("type") == "meeting.booked" and not meeting.get("previous_start")
        cancelled = event.get("type") == "meeting.cancelled"
        if not (new_meeting or cancelled):
            return result
        try:
            contact_id = str(answer["results"][0]["id"])
        except (KeyError, IndexError, TypeError):
            return DeliveryResult.failed("contact upsert answered without an id")
        if cancelled:
            return self._cancel_deals(lead, contact_id)
        result, _ = self._post(
            DEALS,
            {
                "properties": deal_properties(lead, self.pipeline, self.deal_stage),
                "associations": [
                    {
                        "to": {"id": contact_id},
                        "types": [
                            {
                                "associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": DEAL_TO_CONTACT,
                            }
                        ],
                    }
                ],
            },
        )
        return result

    def _cancel_deals(self, lead: Mapping[str, Any], contact_id: str) -> DeliveryResult:
        """Move the contact's Leadbot deals still at the booked stage to the cancelled stage.
        Run again after a failure, it finds only the deals not moved yet: retries are safe."""
        filters = [
            {"propertyName": "associations.contact", "operator": "EQ", "value": contact_id},
            {"propertyName": "pipeline", "operator": "EQ", "value": self.pipeline},
            {"propertyName": "dealstage", "operator": "EQ", "value": self.deal_stage},
        ]
        result, answer = self._post(
            DEALS_SEARCH,
            {"filterGroups": [{"filters": filters}], "properties": ["dealname"], "limit": 100},
        )
        if not result.ok:
            return result
        ours = deal_properties(lead, self.pipeline, self.deal_stage)["dealname"]
        try:
            found = [
                str(deal["id"])
                for deal in answer["results"]
                if (deal.get("properties") or {}).get("dealname") == ours
            ]
        except (KeyError, TypeError):
            return DeliveryResult.failed("deal search answered without results")
        for deal_id in found:
            result, _ = self._post(
                DEAL.format(deal_id=deal_id),
                {"properties": {"dealstage": self.cancelled_stage}},
                method="PATCH",
            )
            if not result.ok:
                return result
        return DeliveryResult(True)

    def close(self) -> None:
        self._session.close()
