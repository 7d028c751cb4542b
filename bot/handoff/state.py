"""The moves a handoff may make, as one pure table (the service applies them in a transaction).

    waiting ──take──▶ live ──hand back──▶ returned
       │               └──────close─────▶ closed
       ├──close (a call back done, or dismissed)──▶ closed
       └──deadline passed / outside working hours──▶ missed

A missed request can still be taken (the visitor may still be there); returned, closed are final.
"""

from __future__ import annotations

from enum import Enum
from typing import FrozenSet, Mapping

from bot.storage.enums import HandoffState


class Move(str, Enum):
    TAKE = "take"
    HAND_BACK = "hand_back"
    CLOSE = "close"
    MISS = "miss"


ALLOWED: Mapping[Move, FrozenSet[HandoffState]] = {
    Move.TAKE: frozenset({HandoffState.WAITING, HandoffState.MISSED}),
    Move.HAND_BACK: frozenset({HandoffState.LIVE}),
    Move.CLOSE: frozenset({HandoffState.WAITING, HandoffState.LIVE, HandoffState.MISSED}),
    Move.MISS: frozenset({HandoffState.WAITING}),
}

RESULT: Mapping[Move, HandoffState] = {
    Move.TAKE: HandoffState.LIVE,
    Move.HAND_BACK: HandoffState.RETURNED,
    Move.CLOSE: HandoffState.CLOSED,
    Move.MISS: HandoffState.MISSED,
}

# A visitor with one of these is not queued again: they are already waiting or talking.
OPEN_STATES = frozenset({HandoffState.WAITING, HandoffState.LIVE})


class TransitionError(Exception):
    """The move is not possible from the handoff's current state (someone else was first)."""

    def __init__(self, move: Move, state: str) -> None:
        super().__init__(f"cannot {move.value.replace('_', ' ')} a handoff that is {state}")
        self.move, self.state = move, state


def next_state(current: str, move: Move) -> HandoffState:
    """The state after `move`, or TransitionError."""
    if HandoffState(current) not in ALLOWED[move]:
        raise TransitionError(move, current)
    return RESULT[move]
