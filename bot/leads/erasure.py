""" "Forget me": everything stored about one conversation, erased at once or not at all.

What goes (one conversation id):
- in the leads database, in one transaction: the lead and its answers, consent records,
  meetings, nurture enrollments and sends, and every outbox item about the person, pending or
  sent (their payloads carry the name, email, answers); an anonymous audit entry (a time and
  counts) is added;
- a booked meeting still to come: the rep gets an email with a `METHOD:CANCEL` invite (same
  UID, next SEQUENCE) that names only the time, never the person; it goes through the outbox
  in the same transaction (conversation id left empty, so it isn't "about" anyone);
- offline mail (`OUTBOX_MAIL_DIR/*.eml`, written when there is no SMTP server) of those outbox
  items: each file is named after its item (`…-o<id>.eml`, bot/outbox/delivery.py);
- the conversation's events in Rasa's tracker store.

All or nothing: the database rows are deleted and the tracker events deleted in two open
transactions, the mail files moved aside, and only when every part has worked are both
transactions committed and the files unlinked. Any failure rolls both back and puts the files
back, and `ErasureFailed` tells the caller (the visitor is told to try again). An item the
worker is sending at this very moment makes the erasure fail too (it would write its mail
file after we looked): trying again a moment later works. The two commits are sequential, so
a crash between them leaves the tracker events gone and the lead in place: the visitor was
not told it worked, and asking again finishes it.

Rasa keeps the conversation in memory during the turn and writes it back when the turn ends;
rasa_ext/tracker_store.py deletes instead of writing when the reply carries the erased marker.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, List, Sequence, Tuple

from sqlalchemy import select, text, update
from sqlalchemy.engine import Connection, Engine, make_url

from bot import emails
from bot.booking import wording
from bot.booking.availability import format_slot
from bot.booking.ics import Invite, cancel_calendar
from bot.booking.reps import RepsConfig
from bot.clock import Clock
from bot.leads.store import LeadStore
from bot.outbox.delivery import mail_files_for
from bot.outbox.queue import enqueue
from bot.storage.engine import checkpoint, make_session_factory
from bot.storage.enums import DeliveryPurpose, DeliveryStatus, MeetingStatus
from bot.storage.models import Meeting, OutboxItem
from bot.storage.tracker import has_events_table, tracker_engine

log = logging.getLogger(__name__)

DELETE_EVENTS = text("DELETE FROM events WHERE sender_id = :sender")


class ErasureFailed(Exception):
    """Nothing was erased; `part` says which part failed (no personal data in it)."""

    def __init__(self, part: str, cause: BaseException) -> None:
        super().__init__(f"erasure failed in {part}: {type(cause).__name__}")
        self.part = part


@dataclass(frozen=True)
class ErasureResult:
    leads_erased: int
    consent_records_erased: int
    meetings_cancelled: int  # upcoming meetings whose rep gets a CANCEL
    deliveries_erased: int  # outbox items about the person, pending or sent
    mail_files_erased: int
    events_erased: int  # tracker store events


class DeliveryInProgress(Exception):
    """The worker is sending one of this conversation's items right now."""


@dataclass(eq=False, repr=False)
class Eraser:
    """Erases one conversation everywhere it is stored (see the module docstring)."""

    engine: Engine
    leads: LeadStore
    reps: RepsConfig
    clock: Clock
    tracker_store_url: str
    outbox_mail_dir: Path

    def __post_init__(self) -> None:
        self._sessions = make_session_factory(self.engine)
        self.outbox_mail_dir = Path(self.outbox_mail_dir)
        # Tests make a part fail here, as a full disk or a dropped connection would.
        self.before_commit: Callable[[], None] = lambda: None

    def erase(self, conversation_id: str) -> ErasureResult:
        now = self.clock()
        session = self._sessions()
        tracker: Tuple[Engine, Connection] | None = None
        staged: List[Tuple[Path, Path]] = []
        part = "database"
        try:
            items = self._items(session, conversation_id, now)
            meetings = self._upcoming_meetings(session, conversation_id, now)
            report = self.leads.erase_rows(session, conversation_id)
            for meeting in meetings:
                self._send_cancel(session, meeting, now)
            session.flush()
            part = "tracker store"
            if self._same_database():
                events = session.execute(DELETE_EVENTS, {"sender": conversation_id}).rowcount
            else:
                tracker, events = self._delete_events(conversation_id)
            part = "offline mail"
            staged = self._stage(mail_files_for(self.outbox_mail_dir, items))
            part = "commit"
            self.before_commit()
            if tracker is not None:
                tracker[1].commit()
            session.commit()
        except BaseException as error:
            session.rollback()
            if tracker is not None:
                tracker[1].rollback()
            self._unstage(staged)
            log.error("erasure failed in %s (%s); nothing was erased", part, type(error).__name__)
            if isinstance(error, Exception):
                raise ErasureFailed(part, error) from error
            raise
        finally:
            session.close()
            if tracker is not None:
                tracker[1].close()
                _checkpoint_quietly(tracker[0])
                tracker[0].dispose()
        removed = self._remove(staged)
        checkpoint(self.engine)
        return ErasureResult(
            report.leads_erased,
            report.consent_records_erased,
            len(meetings),
            len(items),
            removed,
            events,
        )

    # -- database ------------------------------------------------------------------------
    @staticmethod
    def _items(session, conversation_id: str, now: datetime) -> List[int]:  # type: ignore[no-untyped-def]
        """Ids of the conversation's outbox items, locked; fails if one is being sent now."""
        # A no-op write first: it locks the rows (PostgreSQL) or the database (SQLite), so no
        # worker can claim one of them between this read and the delete.
        mine = OutboxItem.conversation_id == conversation_id
        session.execute(
            update(OutboxItem)
            .where(mine)
            .values(status=OutboxItem.status)
            .execution_options(synchronize_session=False)
        )
        rows = session.execute(
            select(OutboxItem.id, OutboxItem.status, OutboxItem.claimed_until).where(mine)
        ).all()
        for _, status, claimed_until in rows:
            if status == DeliveryStatus.SENDING and claimed_until and claimed_until > now:
                raise DeliveryInProgress()
        return [row[0] for row in rows]

    @staticmethod
    def _upcoming_meetings(session, conversation_id: str, now: datetime) -> List[Meeting]:  # type: ignore[no-untyped-def]
        return list(
            session.execute(
                select(Meeting).where(
                    Meeting.conversation_id == conversation_id,
                    Meeting.status == MeetingStatus.BOOKED,
                    Meeting.end_utc > now,
                )
            ).scalars()
        )

    def _send_cancel(self, session, meeting: Meeting, now: datetime) -> None:  # type: ignore[no-untyped-def]
        rep = self.reps.rep(meeting.rep_email)
        rep_name = rep.name if rep else meeting.rep_email
        rep_zone = rep.timezone if rep else None
        invite = Invite(
            uid=f"meeting-{meeting.id}-{meeting.ics_token[:8]}@leadbot",  # as booked
            start_utc=meeting.start_utc,
            end_utc=meeting.end_utc,
            summary=wording.text("erased_summary.txt", rep_name=rep_name),
            description=wording.text("erased_description.txt"),
            organizer_email=meeting.rep_email,
            organizer_name=rep_name,
            attendee_email=None,  # the person is not named, not even here
            attendee_name=None,
            stamp=now,
            sequence=(meeting.sequence or 0) + 1,
        )
        email = emails.render(
            "meeting_rep_erased.txt", when=format_slot(meeting.start_utc, rep_zone)
        )
        enqueue(
            session,
            "email",
            DeliveryPurpose.ERASURE,
            {
                "to": [meeting.rep_email],
                "subject": email.subject,
                "text": email.text,
                "attachments": [
                    {
                        "filename": "cancel.ics",
                        "content_type": "text/calendar; method=CANCEL",
                        "content": cancel_calendar(invite),
                    }
                ],
            },
            conversation_id=None,  # about nobody: it survives this erasure and any later one
            now=now,
        )

    # -- tracker store -------------------------------------------------------------------
    def _same_database(self) -> bool:
        """Leads and tracker events in one database (one transaction, and no SQLite
        deadlock between two connections writing to the same file)."""
        ours, theirs = self.engine.url, make_url(self.tracker_store_url)
        same = (
            all(
                getattr(ours, part) == getattr(theirs, part)
                for part in ("host", "port", "database")
            )
            and ours.get_backend_name() == theirs.get_backend_name()
        )
        return same and has_events_table(self.engine)

    def _delete_events(self, conversation_id: str) -> Tuple[Tuple[Engine, Connection] | None, int]:
        """Delete the conversation's events in an open transaction (committed by the caller)."""
        engine = tracker_engine(self.tracker_store_url)
        if engine is None:  # no SQLite file yet: Rasa never stored anything
            return None, 0
        connection = engine.connect()
        try:
            if not has_events_table(engine):
                connection.close()
                engine.dispose()
                return None, 0
            connection.begin()
            deleted = connection.execute(DELETE_EVENTS, {"sender": conversation_id}).rowcount
        except BaseException:
            connection.close()
            engine.dispose()
            raise
        return (engine, connection), deleted

    # -- offline mail files --------------------------------------------------------------
    def _stage(self, files: Sequence[Path]) -> List[Tuple[Path, Path]]:
        """Move the files into a private folder beside them (undone if anything fails)."""
        staged: List[Tuple[Path, Path]] = []
        if not files:
            return staged
        folder = self.outbox_mail_dir / f".erasing-{uuid.uuid4().hex}"
        try:
            folder.mkdir(mode=0o700)
            for path in files:
                target = folder / path.name
                path.rename(target)
                staged.append((path, target))
        except BaseException:
            self._unstage(staged)
            raise
        return staged

    @staticmethod
    def _unstage(staged: Sequence[Tuple[Path, Path]]) -> None:
        for original, target in staged:
            try:
                target.rename(original)
            except OSError as error:
                log.error("could not put back an offline mail file (%s)", type(error).__name__)
        _remove_folder(staged)

    @staticmethod
    def _remove(staged: Sequence[Tuple[Path, Path]]) -> int:
        removed = 0
        for _, target in staged:
            try:
                target.unlink()
                removed += 1
            except OSError as error:
                log.error("could not delete an erased mail file (%s)", type(error).__name__)
        _remove_folder(staged)
        return removed


def _checkpoint_quietly(engine: Engine) -> None:
    try:
        checkpoint(engine)
    except Exception as error:  # noqa: BLE001 - the erasure itself is done either way
        log.warning("tracker store checkpoint failed (%s)", type(error).__name__)


def _remove_folder(staged: Sequence[Tuple[Path, Path]]) -> None:
    if staged:
        try:
            staged[0][1].parent.rmdir()
        except OSError:
            pass
