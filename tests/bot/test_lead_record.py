"""One lead record, its views: the export contract, CSV, CRM, the read-back, scoring facts."""

from __future__ import annotations

import csv
import io
import json

from bot.leads.record import CSV_FIELDS, EXPORT_FIELDS, leads_csv
from bot.leads.store import LeadStore
from bot.storage.engine import make_engine
from bot.storage.enums import LeadStatus, Outcome, Tier
from bot.storage.migrate import upgrade
from tests.bot.factories import make_lead


def test_every_view_comes_from_the_same_record(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    store = LeadStore(make_engine(sqlite_url))
    make_lead(store, "c1", nurture=True)
    store.record_answer("c1", "budget", "rather not say", "declined", {})
    record = store.get("c1")
    assert record is not None
    # States are enums that serialise as the plain strings they were.
    assert record.tier is Tier.SALES_QUALIFIED and record.outcome is Outcome.NONE
    assert record.status is LeadStatus.IN_PROGRESS
    export = record.to_export()
    assert set(EXPORT_FIELDS) <= set(export)
    assert json.loads(json.dumps(export))["tier"] == "sales_qualified"
    assert export == store.export()[0]
    assert record["company_size"] == 450 and record["budget_usd"] is None
    crm = record.to_crm()
    assert crm["id"] == record.public_id and "conversation_id" not in crm  # the opaque id only
    assert crm["company_size"] == 450 and crm["tier"] == "sales_qualified"
    [row] = list(csv.DictReader(io.StringIO(leads_csv([record]))))
    assert list(row) == list(CSV_FIELDS)
    assert row["source_page"] == "https://example.test/pricing" and row["tier"] == "sales_qualified"
    # The visitor's read-back and the rep's "understood as" are one wording.
    described = record.describe()
    assert described["company_size"] == record.understood("company_size") == "450 people"
    assert described["budget"] == "prefer not to say"
    assert described["timeline"] == "as soon as possible"
    facts = record.to_facts(asked_for_demo=True)
    assert facts.seniority == "vp" and facts.company_size == 450 and facts.asked_for_demo
    assert facts.page_url == "https://example.test/pricing" and facts.timeline_status == "ok"
