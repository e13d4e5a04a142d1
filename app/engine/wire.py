"""The base of every engine event model: frozen, no unknown keys, masked error text."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

from app.textsafe import redact_url_credentials


class Wire(BaseModel):
    """A part of an event as it goes on the wire: frozen, and no keys beyond its fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


#: An error or a note built from what failed (an exception, a provider's message): the
#: credentials of any URL in it are masked whoever built the event, so no stored, printed
#: or sent event carries them (the last line of defence; the gateway masks its errors too).
Redacted = Annotated[str, BeforeValidator(redact_url_credentials)]
