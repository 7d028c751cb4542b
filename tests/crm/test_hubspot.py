"""The HubSpot adapter against a local server that checks the request shapes of HubSpot's CRM
v3 API documentation (contacts batch upsert by email; deal create with a deal-to-contact
association; deals search on `associations.contact`, pipeline and stage; deal update; Bearer
token), driven by scripted conversations and a real worker."""

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
        self.updates = 0
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

    async def search_deals(self, request: web.Request) -> web.Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        body = await request.json()
        groups = body.get("filterGroups")
        if not set(body) <= {"filterGroups", "properties", "limit", "after", "sorts", "query"}:
            return self._bad(f"search body {body}")
        if not isinstance(groups, list) or len(groups) != 1 or set(groups[0]) != {"filters"}:
            return self._bad(f"filter groups {groups}")
        wanted = {}
        for condition in groups[0]["filters"]:
            if set(condition) != {"propertyName", "operator", "value"}:
                return self._bad(f"filter {condition}")
            if condition["operator"] != "EQ" or not isinstance(condition["value"], str):
                return self._bad(f"filter {condition}")
            wanted[condition["propertyName"]] = condition["value"]
        if not isinstance(body.get("limit", 10), int) or not 0 < body.get("limit", 10) <= 200:
            return self._bad("limit")

        def matches(deal: Dict[str, Any]) -> bool:
            for name, value in wanted.items():
                if name == "associations.contact":
                    if value not in [a["to"]["id"] for a in deal["associations"] or []]:
                        return False
                elif deal["properties"].get(name) != value:
                    return False
            return True

        found = [
            {"id": d["id"], "properties": {p: d["properties"].get(p) for p in body["properties"]}}
            for d in self.deals
            if matches(d)
        ]
        return web.json_response({"total": len(found), "results": found})

    async def update_deal(self, request: web.Request) -> web.Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        body = await request.json()
        [deal] = [d for d in self.deals if d["id"] == request.match_info["deal_id"]] or [None]
        if deal is None:
            return web.json_response(
                {"status": "error", "category": "OBJECT_NOT_FOUND"}, status=404
            )
        if set(body) != {"properties"} or not all(
            isinstance(v, str) for v in body["properties"].values()
        ):
            return self._bad(f"deal update {body}")
        deal["properties"].update(body["properties"])
        self.updates += 1
        return web.json_response({"id": deal["id"], "properties": deal["properties"]})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/crm/v3/objects/contacts/batch/upsert", self.upsert_contacts)
        app.router.add_post("/crm/v3/objects/deals", self.create_deal)
        app.router.add_post("/crm/v3/objects/deals/search", self.search_deals)
        app.router.add_patch("/crm/v3/objects/deals/{deal_id}", self.update_deal)
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


async def test_a_cancelled_meeting_moves_its_deal_and_only_its_deal(tmp_path: Path) -> None:
    hubspot = FakeHubSpot()
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
                "HUBSPOT_CANCELLED_STAGE": "meetingcancelled",
            }
        )
        clock = Clock(datetime.now(timezone.utc))
        svc = build_services(settings, clock)
        worker = build_worker(settings, clock)

        def book() -> str:
            svc.leads.start("hot", "v1", None)
            answer(svc, "hot", HOT)
            svc.outcomes.assess("hot", Signals(asked_for_demo=True))
            offer = svc.outcomes.offer("hot", "Europe/Berlin")
            svc.outcomes.book("hot", offer.rep.email, offer.slots[0], "Europe/Berlin")
            token = svc.outcomes.manage_url("hot").rsplit("/", 1)[1]
            svc.booking.reschedule(token, svc.booking.manage(token).slots[0])
            worker.run_once()
            return token

        token = await asyncio.to_thread(book)
        [deal] = hubspot.deals
        assert deal["properties"]["dealstage"] == "appointmentscheduled"  # moved, still booked
        assert hubspot.updates == 0
        # A deal a rep made for the same contact, in the same stage: not Leadbot's to move.
        contact_id = hubspot.contacts["hana@bigco.test"]["id"]
        own = {
            "dealname": "BigCo renewal",
            "pipeline": "default",
            "dealstage": "appointmentscheduled",
        }
        hubspot.deals.append(
            {"id": "9001", "properties": own, "associations": [{"to": {"id": contact_id}}]}
        )

        hubspot.fail_first = 1  # rate limited once: the whole event is retried, harmlessly

        def cancel() -> None:
            svc.booking.cancel(token)
            worker.run_once()
            clock.advance(hours=1)
            worker.run_once()

        await asyncio.to_thread(cancel)
    finally:
        await server.close()

    assert hubspot.errors == []
    assert deal["properties"]["dealstage"] == "meetingcancelled"
    assert hubspot.deals[1]["properties"]["dealstage"] == "appointmentscheduled"
    assert hubspot.updates == 1
    status = svc.outbox.status()
    assert status.counts["failed"] == 0 and status.counts["pending"] == 0
