"""The HubSpot adapter against a local server that checks the request shapes of HubSpot's CRM
v3 API documentation (contacts batch upsert by email; deal create with a deal-to-contact
association; Bearer token), driven by scripted conversations and a real worker."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.config.settings import Settings
from bot.conversation.outcomes import Signals
from bot.outbox.worker import build_worker
from bot.services import build_services
from bot.storage.migrate import upgrade
from tests.bot.factories import Clock
from tests.crm.test_events import COLD, HOT, answer

TOKEN = "pat-na1-test-token"
CONTACT_PROPERTIES = {"email", "firstname", "lastname", "jobtitle", "company", "lifecyclestage"}
INPUT_KEYS = {"id", "idProperty", "properties", "objectWriteTraceId"}


class FakeHubSpot:
    """Answers like HubSpot; every request whose shape differs from the docs is a 400 and an
    entry in `errors`."""

    def __init__(self) -> None:
        self.contacts: Dict[str, Dict[str, Any]] = {}  # email -> {"id", "properties"}
        self.deals: List[Dict[str, Any]] = []
        self.errors: List[str] = []
        self.requests = 0
        self.fail_first = 0
        self._ids = itertools.count(1001)

    def _bad(self, why: str) -> web.Response:
        self.errors.append(why)
        return web.json_response({"status": "error", "message": why}, status=400)

    def _auth(self, request: web.Request) -> web.Response | None:
        self.requests += 1
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.json_response({"status": "error", "category": "RATE_LIMITS"}, status=429)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._bad("no Bearer token")
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return self._bad("not JSON")
        return None

    async def upsert_contacts(self, request: web.Request) -> web.Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        body = await request.json()
        if set(body) != {"inputs"} or not isinstance(body["inputs"], list) or not body["inputs"]:
            return self._bad(f"upsert body {body}")
        results = []
        for item in body["inputs"]:
            properties = item.get("properties")
            if not set(item) <= INPUT_KEYS or item.get("idProperty") != "email":
                return self._bad(f"upsert input {item}")
            if not isinstance(properties, dict) or not set(properties) <= CONTACT_PROPERTIES:
                return self._bad(f"contact properties {properties}")
            if not all(isinstance(v, str) for v in properties.values()):
                return self._bad("property values must be strings")
            if item.get("id") != properties.get("email"):
                return self._bad("id must be the email (idProperty)")
            known = self.contacts.get(item["id"])
            contact = known or {"id": str(next(self._ids)), "properties": {}}
            contact["properties"].update(properties)
            self.contacts[item["id"]] = contact
            results.append({"id": contact["id"], "properties": properties, "new": known is None})
        now = datetime.now(timezone.utc).isoformat()
        return web.json_response(
            {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        )

    async def create_deal(self, request: web.Request) -> web.Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        body = await request.json()
        properties, associations = body.get("properties"), body.get("associations")
        if not set(body) <= {"properties", "associations"} or not isinstance(properties, dict):
            return self._bad(f"deal body {body}")
        if not {"dealname", "pipeline", "dealstage"} <= set(properties):
            return self._bad(f"deal properties {properties}")
        if not all(isinstance(v, str) for v in properties.values()):
            return self._bad("property values must be strings")
        if "amount" in properties and not properties["amount"].replace(".", "").isdigit():
            return self._bad("amount")
        contact_ids = {c["id"] for c in self.contacts.values()}
        for association in associations or []:
            types = association.get("types")
            if (
                set(association) != {"to", "types"}
                or association["to"].get("id") not in contact_ids
            ):
                return self._bad(f"association {association}")
            if types != [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]:
                return self._bad(f"association types {types}")
        deal = {"id": str(next(self._ids)), "properties": properties, "associations": associations}
        self.deals.append(deal)
        return web.json_response({"id": deal["id"], "properties": properties}, status=201)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/crm/v3/objects/contacts/batch/upsert", self.upsert_contacts)
        app.router.add_post("/crm/v3/objects/deals", self.create_deal)
        return app


async def test_leads_become_hubspot_contacts_and_a_booked_meeting_a_deal(tmp_path: Path) -> None:
    hubspot = FakeHubSpot()
    hubspot.fail_first = 1  # rate limited once: retried
    server = TestServer(hubspot.app(), host="127.0.0.1")
    await server.start_server()
    try:
        url = f"sqlite:///{tmp_path / 'leadbot.db'}"
        upgrade(url)
        settings = Settings.from_env(
            {
                "DATABASE_URL": url,
                "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
                "OUTBOX_MAIL_DIR": str(tmp_path / "mail"),
                "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
                "HUBSPOT_TOKEN": TOKEN,
                "HUBSPOT_BASE_URL": str(server.make_url("")).rstrip("/"),
                "HUBSPOT_DEAL_STAGE": "qualifiedtobuy",
            }
        )
        clock = Clock(datetime.now(timezone.utc))
        svc = build_services(settings, clock)
        worker = build_worker(settings, clock)

        def script() -> None:
            svc.leads.start("hot", "v1", None)
            answer(svc, "hot", HOT)
            svc.outcomes.assess("hot", Signals(asked_for_demo=True))
            offer = svc.outcomes.offer("hot", "Europe/Berlin")
            svc.outcomes.book("hot", offer.rep.email, offer.slots[0], "Europe/Berlin")
            token = svc.outcomes.manage_url("hot").rsplit("/", 1)[1]
            svc.booking.reschedule(token, svc.booking.manage(token).slots[0])  # no second deal
            svc.leads.start("cold", "v1", None)
            svc.leads.record_nurture_consent("cold", True, "v1")
            answer(svc, "cold", COLD)
            svc.outcomes.assess("cold", Signals())
            svc.outcomes.enroll("cold")
            svc.leads.start("quiet", "v1", None)  # no email: nothing for HubSpot
            svc.leads.erase("quiet")
            worker.run_once()
            clock.advance(hours=1)
            worker.run_once()

        await asyncio.to_thread(script)
    finally:
        await server.close()

    assert hubspot.errors == []
    assert set(hubspot.contacts) == {"hana@bigco.test", "cole@gmail.com"}
    hana = hubspot.contacts["hana@bigco.test"]["properties"]
    assert hana == {
        "email": "hana@bigco.test",
        "firstname": "Hana",
        "lastname": "Hot",
        "jobtitle": "VP Sales",
        "company": "BigCo",
        "lifecyclestage": "salesqualifiedlead",
    }
    assert hubspot.contacts["cole@gmail.com"]["properties"]["lifecyclestage"] == "lead"
    [deal] = hubspot.deals
    assert deal["properties"] == {
        "dealname": "BigCo (website chat)",
        "pipeline": "default",
        "dealstage": "qualifiedtobuy",
        "amount": "60000",
    }
    assert deal["associations"][0]["to"]["id"] == hubspot.contacts["hana@bigco.test"]["id"]
    status = svc.outbox.status()
    assert status.counts["failed"] == 0 and status.counts["pending"] == 0
