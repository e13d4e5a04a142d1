"""Typed LLM errors with one-line messages for people.

Every error says which provider failed, what kind of failure it was, and quotes the
provider's own message. API keys never appear: messages pass through :func:`redact`
with the secrets of the provider before the error is raised, and the credentials of any
URL in them (``http://user:***@host``) are masked when the error is made.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from app.textsafe import one_line, redact_url_credentials

MAX_MESSAGE_CHARS = 400


class LLMError(Exception):
    """Base of every gateway error; ``str(error)`` is one line, safe to show."""

    kind: ClassVar[str] = "error"
    label: ClassVar[str] = "model call failed"
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        # Mask before cutting: a URL cut inside its password would no longer look like one.
        self.message = one_line(
            redact_url_credentials(message), MAX_MESSAGE_CHARS, keep_controls=True
        )
        self.provider = provider
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.retryable = self.default_retryable if retryable is None else retryable
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def redact(self, secrets: Iterable[str]) -> None:
        """Remove every secret from the message (called before the error leaves the gateway)."""
        self.message = redact_url_credentials(redact(self.message, secrets))
        self.args = (self.message,)


class AuthError(LLMError):
    """The API key is missing, wrong or expired (HTTP 401)."""

    kind = "auth"
    label = "authentication failed"


class PermissionError_(LLMError):
    """The key is valid but may not use this model or endpoint (HTTP 403)."""

    kind = "permission"
    label = "permission denied"


class RateLimitError(LLMError):
    """Too many requests or tokens, or the quota is used up (HTTP 429)."""

    kind = "rate_limit"
    label = "rate limited"
    default_retryable = True


class ContextTooLongError(LLMError):
    """The conversation does not fit the model's context window."""

    kind = "context_too_long"
    label = "conversation too long for the model"


class BadRequestError(LLMError):
    """The provider rejected the request (HTTP 400/404/422, unknown model …)."""

    kind = "bad_request"
    label = "request rejected"


class ServerError(LLMError):
    """The provider failed or is overloaded (HTTP 5xx, 529)."""

    kind = "server"
    label = "provider error"
    default_retryable = True


class NetworkError(LLMError):
    """The server could not be reached, or the connection broke."""

    kind = "network"
    label = "network error"
    default_retryable = True


class TimeoutError_(LLMError):
    """Connecting, the first byte, or the next chunk took too long."""

    kind = "timeout"
    label = "timed out"
    default_retryable = True


class StreamError(LLMError):
    """The reply stream was malformed, failed mid-way, or ended without finishing."""

    kind = "stream"
    label = "broken reply stream"


class ReplyTooLongError(LLMError):
    """The reply grew past ``[engine] max_reply_chars``; what came up to there is kept."""

    kind = "reply_too_long"
    label = "reply too long"


class ConfigurationError(LLMError):
    """The model name cannot be resolved, or a provider is not set up (no request was made)."""

    kind = "config"
    label = "model not available"


# --------------------------------------------------------------------------- helpers


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every non-trivial secret in ``text`` with ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    import time

    reference = time.time() if now is None else now
    return max(0.0, when.timestamp() - reference)


_CONTEXT_HINTS = re.compile(
    r"context[_ ]length|context window|prompt is too long|maximum context|too many tokens"
    r"|exceeds the context|input length exceeds|reduce the length",
    re.IGNORECASE,
)

_TYPE_TO_ERROR: dict[str, type[LLMError]] = {
    "authentication_error": AuthError,
    "invalid_api_key": AuthError,
    "permission_error": PermissionError_,
    "rate_limit_error": RateLimitError,
    "rate_limit_exceeded": RateLimitError,
    "tokens": RateLimitError,
    "insufficient_quota": RateLimitError,
    "overloaded_error": ServerError,
    "api_error": ServerError,
    "server_error": ServerError,
    "not_found_error": BadRequestError,
    "invalid_request_error": BadRequestError,
    "request_too_large": ContextTooLongError,
    "context_length_exceeded": ContextTooLongError,
}


def provider_message(body: bytes | str | Mapping[str, Any] | None) -> tuple[str, str | None]:
    """The provider's own error message and type/code from an error body, if any."""
    data: Any = body
    if isinstance(body, bytes | str):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            data = json.loads(text)
        except ValueError:
            return one_line(text, MAX_MESSAGE_CHARS, keep_controls=True), None
    if isinstance(data, Mapping):
        error = data.get("error", data)
        if isinstance(error, str):
            return error, None
        if isinstance(error, Mapping):
            message = error.get("message") or error.get("msg") or json.dumps(error)
            code = error.get("code") or error.get("type")
            return str(message), str(code) if code is not None else None
        if "message" in data:
            return str(data["message"]), None
    if data is None:
        return "", None
    return one_line(json.dumps(data), MAX_MESSAGE_CHARS, keep_controls=True), None


def error_for_status(
    status: int,
    body: bytes | str | Mapping[str, Any] | None,
    *,
    provider: str,
    retry_after: float | None = None,
) -> LLMError:
    """Build the typed error for an HTTP error reply, quoting the provider's message."""
    message, code = provider_message(body)
    codes = set()
    if isinstance(body, bytes | str):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    else:
        parsed = body
    if isinstance(parsed, Mapping) and isinstance(parsed.get("error"), Mapping):
        codes = {
            str(parsed["error"].get(key)) for key in ("code", "type") if parsed["error"].get(key)
        }
    cls: type[LLMError]
    retryable: bool | None = None
    if status == 401:
        cls = AuthError
    elif status == 403:
        cls = PermissionError_
    elif status == 429:
        cls = RateLimitError
        if "insufficient_quota" in codes:
            retryable = False  # a used-up quota does not come back in seconds
    elif status in (408, 409):
        cls = TimeoutError_ if status == 408 else ServerError
    elif (
        status == 413
        or (400 <= status < 500 and _CONTEXT_HINTS.search(message))
        or "context_length_exceeded" in codes
    ):
        cls = ContextTooLongError
    elif 400 <= status < 500:
        cls = BadRequestError
    else:
        cls = ServerError
    text = f"{provider}: {cls.label} (HTTP {status})"
    if message:
        text += f": {message}"
    return cls(
        text,
        provider=provider,
        status=status,
        code=code,
        retry_after=retry_after,
        retryable=retryable,
    )


def error_for_stream_event(payload: Any, *, provider: str) -> LLMError:
    """Build the typed error for an ``error`` sent inside a 200 stream (never retried)."""
    message, code = provider_message(
        payload if isinstance(payload, Mapping | str | bytes) else None
    )
    error = payload.get("error") if isinstance(payload, Mapping) else None
    kind = str(error.get("type") or error.get("code") or "") if isinstance(error, Mapping) else ""
    cls = _TYPE_TO_ERROR.get(kind) or _TYPE_TO_ERROR.get(code or "") or StreamError
    if cls is BadRequestError and _CONTEXT_HINTS.search(message):
        cls = ContextTooLongError
    text = f"{provider}: {cls.label} (in the reply stream): {message or 'unknown error'}"
    return cls(text, provider=provider, code=code or kind or None, retryable=False)
