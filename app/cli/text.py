"""Text helpers of the commands: arguments as text, local times, the terminal's width.

(Terminal-safe text and one-line cells come from :mod:`app.textsafe`.)
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime

from app.textsafe import fix_surrogates


def argv_text(value: str) -> str:
    """A command-line argument as text: bytes that were not UTF-8 (Python keeps them as
    lone surrogates) become U+FFFD, so the value can be saved, printed and looked up."""
    if value.isascii():
        return value
    try:
        raw = os.fsencode(value)
    except UnicodeError:  # not from the command line: pair or replace its surrogates
        return fix_surrogates(value)
    return raw.decode("utf-8", "replace")


def local_time(moment: datetime) -> str:
    """A time as people read it on this machine: ``2026-11-25 15:26``."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def terminal_width() -> int:
    """The terminal's width in columns (100 when it cannot be told)."""
    columns = shutil.get_terminal_size(fallback=(100, 24)).columns
    return columns if columns > 0 else 100
