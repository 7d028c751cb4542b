"""What every action needs: the services (built once, lazily) and the visitor's last turn."""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
from typing import Any, Callable, ClassVar, Dict, List, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.config.settings import Settings
from bot.conversation.dialogue import Turn, decode_error, encode_error
from bot.services import Services, build_services

logger = logging.getLogger(__name__)
T = TypeVar("T")
Dispatcher = CollectingDispatcher
Domain = Dict[str, Any]
Events = List[EventType]


@functools.lru_cache(maxsize=1)
def services() -> Services:
    """Built on first use, not at import, so importing actions never touches a database."""
    return build_services(Settings.from_env())


async def blocking(function: Callable[..., T], *args: Any) -> T:
    """Run a short database call off the event loop, so one slow write doesn't stall others."""
    return await asyncio.to_thread(function, *args)


def last_turn(tracker: Tracker) -> Turn:
    message: Dict[str, Any] = tracker.latest_message or {}
    intent = message.get("intent") or {}
    entities: Dict[str, str] = {}
    for entity in message.get("entities") or []:
        if isinstance(entity.get("value"), str):
            entities.setdefault(entity.get("entity"), entity["value"])
    return Turn(
        text=message.get("text") or "",
        intent=intent.get("name"),
        confidence=float(intent.get("confidence") or 0.0),
        entities=entities,
    )


def is_resuming(tracker: Tracker, form: str) -> bool:
    """True when the form runs again after another action replied to the visitor's message
    (a digression), False when it runs right after the message arrived.

    During validation Rasa appends the form's own action (and slot candidates) to the events,
    so `latest_action_name` is always the form: look past it.
    """
    skipped_form = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return False
        if kind == "action":
            if event.get("name") == form and not skipped_form:
                skipped_form = True
                continue
            return event.get("name") != "action_listen"
    return False


def metadata(tracker: Tracker) -> Dict[str, Any]:
    return (tracker.latest_message or {}).get("metadata") or {}


def visitor_timezone(tracker: Tracker) -> str | None:
    """The visitor's IANA time zone as the widget sends it, if it is a real one."""
    from zoneinfo import ZoneInfo

    zone = metadata(tracker).get("timezone")
    if not isinstance(zone, str) or not zone or len(zone) > 64:
        return None
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError, OSError):
        return None
    return zone


def reask_values(
    slot: str, error: str, slots: Dict[str, Any], decision: Any = None
) -> Dict[str, Any]:
    """Slot values for an unusable answer: empty the slot, say why, count failures in a row
    (and, for an email, the suggested address; for the meeting, where later times start)."""
    previous_slot, _ = decode_error(slots.get("reask_error"))
    attempts = int(slots.get("reask_count") or 0) + 1 if previous_slot == slot else 1
    values: Dict[str, Any] = {
        slot: None,
        "reask_error": encode_error(slot, error),
        "reask_count": attempts,
    }
    if slot == "meeting_choice":
        offered = slots.get("offered_slots") or []
        values["offer_after"] = offered[-1] if error == "other_times" and offered else None
    else:
        values["email_suggestion"] = getattr(decision, "suggestion", None)
    return values


def error_from_this_turn(tracker: Tracker) -> str | None:
    """The re-ask reason (slot `reask_error`), if the visitor's latest message caused it."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return None
        if event.get("event") == "slot" and event.get("name") == "reask_error":
            return event.get("value")
    return None


def phrase(domain: Dict[str, Any], name: str) -> str:
    """Words from domain.yml that go into another response (`utter_phrase_<name>`): a rep's
    name when none is known, a yes/no read back."""
    return str(domain["responses"][f"utter_phrase_{name}"][0]["text"])


def yes_no(domain: Dict[str, Any], value: bool) -> str:
    return phrase(domain, "yes") if value else phrase(domain, "no")


def available_responses(domain: Dict[str, Any]) -> frozenset:
    return frozenset((domain.get("responses") or {}).keys())


def guarded(run: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an unexpected failure into an apology instead of a silent bot.

    Without this, an exception becomes an HTTP 500, Rasa logs the whole tracker (personal
    data) and the visitor gets no reply at all. Only the exception's type is logged here.
    """

    @functools.wraps(run)
    async def wrapper(self: Any, dispatcher: Any, tracker: Tracker, domain: Dict[str, Any]) -> Any:
        try:
            return await run(self, dispatcher, tracker, domain)
        except Exception as error:  # noqa: BLE001 - the visitor must always get an answer
            logger.error(
                "%s failed with %s", self.name(), type(error).__name__, exc_info=_traceback_only()
            )
            dispatcher.utter_message(response="utter_something_went_wrong")
            return []

    return wrapper


def _traceback_only() -> bool:
    # Tracebacks show code and file names, not values; turn them off with LOG_LEVEL=WARNING.
    return logger.isEnabledFor(logging.INFO)


class BotAction(Action, abc.ABC):
    """A custom action: its name is the class attribute `action`, and `run` is `act` guarded
    (an unexpected failure is an apology, see `guarded`). Abstract, so the SDK registers only
    its subclasses."""

    action: ClassVar[str]

    def name(self) -> str:
        return self.action

    @guarded
    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        return await self.act(dispatcher, tracker, domain)

    @abc.abstractmethod
    async def act(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        """What the action does and the events it returns."""
