"""Cancel and reschedule end to end, as the visitor does it: book in the chat, follow the link
from the confirmation over HTTP, pick a new time (the rep receives the updated invite with a
higher SEQUENCE over real SMTP, the old time is free again), then cancel (the rep receives
METHOD:CANCEL for the same UID), and the CRM hears each change. Bad links get a page that says
so."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from typing import List

import pytest
import requests

from bot.booking.ics import unfold
from tests.e2e.stack import Stack
from tests.e2e.test_crm_events import public_id
from tests.e2e.test_outcomes import answer_all

pytestmark = pytest.mark.e2e


def ics_lines(message: EmailMessage) -> List[str]:
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            content = part.get_content()
            return unfold(content.decode() if isinstance(content, bytes) else content)
    raise AssertionError("no calendar attachment")


def field(lines: List[str], name: str) -> str:
    return next(line.split(":", 1)[1] for line in lines if line.startswith(name + ":"))


def offered(page: str) -> List[str]:
    return re.findall(r'name="start" value="([^"]+)"', page)


def test_the_visitor_moves_then_cancels_the_meeting_from_the_link(stack: Stack) -> None:
    chat = stack.conversation({"timezone": "Europe/Paris", "page_url": "https://example.com/"})
    answer_all(
        chat,
        [
            "Mona Mover",
            "mona@moveco.fr",
            "Head of Sales",
            "MoveCo",
            "about 300 people",
            "100k a year",
            "this month",
        ],
    )
    booked = chat.click(payload_prefix="/choose_meeting")
    assert "You're booked" in booked
    link = re.search(r"(http://\S+/meetings/[A-Za-z0-9_-]+)", booked).group(1)
    assert link.startswith(stack.web_url)
    rep_email = chat.lead()["rep_email"]
    first_start = chat.lead()["meeting_start"]

    def for_rep(subject: str):  # noqa: ANN202
        return stack.mail.wait_for(
            lambda m: (
                m["To"] == rep_email
                and subject in str(m["Subject"])
                and "Mona Mover" in str(m["Subject"])
            )
        )

    invite = ics_lines(for_rep("Meeting booked"))
    uid = field(invite, "UID")
    assert field(invite, "SEQUENCE") == "0" and any(link in line for line in invite)
    confirmation = stack.mail.wait_for(lambda m: m["To"] == "mona@moveco.fr")
    assert link in confirmation.get_body(("plain",)).get_content()

    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "Your meeting" in page.text
    assert "Europe/Paris" in page.text and "Content-Security-Policy" in page.headers
    times = offered(page.text)
    assert len(times) >= 3 and first_start not in times
    new_start = times[1]

    moved = requests.post(link + "/reschedule", data={"start": new_start}, timeout=10)
    assert moved.status_code == 200 and "Your meeting is moved" in moved.text
    update = ics_lines(for_rep("Meeting moved"))
    assert field(update, "UID") == uid and field(update, "SEQUENCE") == "1"
    assert "METHOD:REQUEST" in update
    assert field(update, "DTSTART") == new_start.replace("-", "").replace(":", "")
    assert chat.lead()["meeting_start"] == new_start
    # The old time is free again and offered on the page; the new one is not.
    again = offered(requests.get(link, timeout=10).text)
    assert first_start in again and new_start not in again

    cancelled = requests.post(link + "/cancel", timeout=10)
    assert cancelled.status_code == 200 and "Your meeting is cancelled" in cancelled.text
    cancel = ics_lines(for_rep("Meeting cancelled"))
    assert "METHOD:CANCEL" in cancel and "STATUS:CANCELLED" in cancel
    assert field(cancel, "UID") == uid and field(cancel, "SEQUENCE") == "2"
    lead = chat.lead()
    assert lead["outcome"] == "none" and lead["meeting_start"] is None
    after = requests.get(link, timeout=10)
    assert after.status_code == 200 and "cancelled" in after.text and not offered(after.text)

    # The CRM hears all three, signed (the stack's receiver checks each with the README's
    # snippet): booked, moved (meeting.booked again, SEQUENCE 1), cancelled.
    lead_id = public_id(stack, chat)

    def meetings() -> List[dict]:
        return sorted(
            (
                e["data"]["meeting"]
                for e in list(stack.crm.events)
                if e["data"]["lead"].get("id") == lead_id and e["type"].startswith("meeting.")
            ),
            key=lambda m: m["sequence"],
        )

    deadline = time.monotonic() + 40
    while len(meetings()) < 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert [(m["status"], m["sequence"], m["start"]) for m in meetings()] == [
        ("booked", 0, first_start),
        ("booked", 1, new_start),
        ("cancelled", 2, new_start),
    ]


def test_bad_links_and_requests_get_a_clear_page(stack: Stack) -> None:
    base = f"{stack.web_url}/meetings/"
    for path, method in (
        ("0123456789abcdef01234567-" + "A" * 32, "get"),
        ("nonsense", "get"),
        ("nonsense/cancel", "post"),
        ("0123456789abcdef01234567-" + "A" * 32 + "/reschedule", "post"),
    ):
        response = requests.request(method, base + path, data={"start": "x"}, timeout=10)
        assert response.status_code == 404, path
        assert "find a meeting for this link" in response.text
        assert "Traceback" not in response.text
    # A form posted from another site changes nothing.
    forged = requests.post(
        base + "nonsense/cancel", headers={"Origin": "https://evil.example"}, timeout=10
    )
    assert forged.status_code == 403 and "Nothing was changed" in forged.text
