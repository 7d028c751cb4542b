"""Which conversations a person has taken over, as this Rasa process last saved them.

A rep taking over appends Rasa's `pause` event (bot/web/handoff.py): Rasa then records what the
visitor writes but predicts nothing, so the turn has no reply. The channels answer a turn
without a reply with an apology ("something is down"); for a paused conversation that silence
is intended. The tracker store notes each saved conversation's paused state here, in the same
process and just before the channel looks, so the channel can tell the two apart.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

MAX_REMEMBERED = 50_000

_paused: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()


def remember(sender_id: str, paused: bool) -> None:
    with _lock:
        _paused.pop(sender_id, None)
        if paused:
            _paused[sender_id] = None
            while len(_paused) > MAX_REMEMBERED:
                _paused.popitem(last=False)


def is_paused(sender_id: str) -> bool:
    with _lock:
        return sender_id in _paused
