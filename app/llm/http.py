"""Plain (not streamed) requests to a model server, and the TLS context every client shares."""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
from typing import Any

import httpx

from app.llm.errors import StreamError, TimeoutError_
from app.llm.transport import Endpoint, network_error, open_response


async def get_json(client: httpx.AsyncClient, endpoint: Endpoint, path: str) -> Any:
    """GET ``path`` and return the parsed JSON body, with the same typed errors as streaming."""
    response = await open_response(client, endpoint, "GET", path)
    try:
        body = await _read_capped_all(response, endpoint)
    finally:
        await response.aclose()
    try:
        return json.loads(body)
    except ValueError:
        raise StreamError(
            f"{endpoint.name}: {path} did not return JSON", provider=endpoint.name
        ) from None


async def _read_capped_all(response: httpx.Response, endpoint: Endpoint) -> bytes:
    parts: list[bytes] = []
    try:
        async with asyncio.timeout(endpoint.idle_timeout):
            async for data in response.aiter_bytes():
                parts.append(data)
    except TimeoutError:
        raise TimeoutError_(
            f"{endpoint.name}: the model list did not arrive in time", provider=endpoint.name
        ) from None
    except httpx.HTTPError as exc:
        raise network_error(endpoint, exc, started=True) from None
    return b"".join(parts)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every provider's client: httpx builds one per client by default,
    reading the whole CA bundle each time (~20 ms of CPU per provider, per gateway)."""
    return httpx.create_ssl_context()
