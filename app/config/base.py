"""What every config section shares: the section base class and the name patterns."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

ProviderKind = Literal["openai", "anthropic", "ollama"]


ApprovalMode = Literal["ask", "auto", "read-only"]


DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "ollama": "http://127.0.0.1:11434",
}


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


_RULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\(.*\)|__\*)?$", re.DOTALL)


_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|password", re.IGNORECASE)


#: Names of variables and headers that are taken to hold secrets.
SECRET_NAME = _SECRET_HEADER


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _env_names(value: dict[str, str], what: str) -> dict[str, str]:
    """Check a mapping whose values are the NAMES of environment variables, never values."""
    for key, name in value.items():
        if not _ENV_NAME.match(name):
            raise ValueError(
                f"{what} {key!r} must name an environment variable (like GITHUB_TOKEN), "
                "not hold its value"
            )
    return value
