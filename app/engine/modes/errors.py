"""The errors of plan and team mode."""

from __future__ import annotations


class ModeError(Exception):
    """A plan or team turn cannot go on (an invalid plan after its repair, a bad roster)."""


class ReplyInvalid(ValueError):
    """A structured reply that is not what was asked for; the text says what is wrong."""
