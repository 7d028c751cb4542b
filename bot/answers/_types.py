"""Result types shared by every answer parser."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar("T")


class Status(str, Enum):
    """How a visitor's answer was understood; only INVALID makes the bot ask again."""

    OK = "ok"  # a normalised value was understood
    DECLINED = "declined"  # the visitor prefers not to say
    UNKNOWN = "unknown"  # the visitor doesn't know, or is only researching
    INVALID = "invalid"  # not understood: re-ask, using `error` to say what was wrong


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """A parser's verdict: a status, the value when OK, and a machine error code when INVALID."""

    status: Status
    value: T | None = None
    error: str | None = None
    suggestion: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


def ok(value: T) -> Parsed[T]:
    return Parsed(Status.OK, value)


def invalid(error: str, suggestion: str | None = None) -> Parsed[T]:
    return Parsed(Status.INVALID, error=error, suggestion=suggestion)


DECLINED: Parsed = Parsed(Status.DECLINED)
UNKNOWN: Parsed = Parsed(Status.UNKNOWN)
