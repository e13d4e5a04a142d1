"""Generated requests for every REST operation of the server's own OpenAPI schema (schemathesis
over a real server on loopback): valid and invalid ones, to unknown and to real sessions; none
may get a 5xx. Both ways the server is guarded run: with an API key, and without one (the
loopback guard, with generated ``Host`` and ``Origin`` headers, ours and others'). Bounded and
derandomized, so it is fast and repeatable."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.server.conftest import MakeApi, text_reply

pytestmark = pytest.mark.slow

KEY = "schema-fuzz-key"
EXAMPLES = 25
#: The model answers every turn a generated message starts (a 502 would be the fake's fault).
REPLIES = 4 * EXAMPLES * 2


@dataclass(frozen=True)
class Address:
    """The guard headers of one generated request, and whether the guard must refuse it
    (None: a generated header the test has no opinion on, only that it is no 5xx)."""

    headers: dict[str, str]
    refused: bool | None


#: Header text requests can send: printable ASCII, no surrounding blanks.
_HEADER_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)


def addresses(port: int) -> st.SearchStrategy[Address]:
    """``Host``/``Origin`` pairs for a server without a key on ``port``."""
    ours = [f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"127.1.2.3:{port}"]
    theirs = ["evil.example", f"127.0.0.1.nip.io:{port}", f"127.0.0.1:{port + 1}", "127.0.0.1"]
    our_origins = [None, f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
    their_origins = [
        "https://evil.example", "null", "file://", f"http://evil.example:{port}",
        "http://127.0.0.1:5173", "https://[::1]",  # other local servers' pages
    ]  # fmt: skip

    def address(host: str, origin: str | None, refused: bool | None) -> Address:
        headers = {"Host": host} | ({"Origin": origin} if origin else {})
        return Address(headers, refused)

    return st.one_of(
        st.builds(address, st.sampled_from(ours), st.sampled_from(our_origins), st.just(False)),
        st.builds(address, st.sampled_from(theirs), st.sampled_from(our_origins), st.just(True)),
        st.builds(address, st.sampled_from(ours), st.sampled_from(their_origins), st.just(True)),
        st.builds(address, _HEADER_TEXT, st.none() | _HEADER_TEXT, st.none()),
    )


def fuzz(
    base: str,
    guard: st.SearchStrategy[Address],
    real_session: str,
    schema: Any,
    skipped: list[str],
) -> tuple[list[str], int]:
    """Run every operation's generated cases (both modes); the ones that got a 5xx or that
    the guard answered wrongly, and how many requests the guard refused."""
    failures: list[str] = []
    refusals = 0
    with requests.Session() as http:
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(generation_mode=mode)

                @given(case=strategy, real=st.booleans(), address=guard)
                @settings(
                    max_examples=EXAMPLES,
                    derandomize=True,
                    database=None,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                )
                def check(case: Any, real: bool, address: Address) -> None:
                    nonlocal refusals
                    if real and case.path_parameters and "session_id" in case.path_parameters:
                        case.path_parameters["session_id"] = real_session
                    response = case.call(
                        base_url=base, session=http, headers=address.headers, timeout=30
                    )
                    said = f"{case.method} {case.formatted_path} {address.headers}"
                    if response.status_code >= 500:
                        failures.append(
                            f"{said} -> {response.status_code}: "
                            f"{response.text[:200]} ({case.body!r:.200})"
                        )
                    refused = response.status_code == 403 and "without an API key" in response.text
                    refusals += refused
                    if address.refused is not None and refused != address.refused:
                        failures.append(f"{said} -> {response.status_code}, guard disagrees")

                try:
                    check()
                except Unsatisfiable:
                    # Nothing invalid to send (a path of plain strings): valid cases only.
                    assert mode is GenerationMode.NEGATIVE, operation.label
                    skipped.append(operation.label)
    return failures, refusals


@pytest.mark.parametrize("guarded_by", ["api-key", "loopback"])
async def test_no_generated_request_gets_a_server_error(guarded_by: str, make_api: MakeApi) -> None:
    api = await make_api(api_key=KEY if guarded_by == "api-key" else None)
    api.script(*(text_reply("ok") for _ in range(REPLIES)))
    real_session = await api.new_session()
    raw = (await api.http.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6, [op.label for op in operations]
    port = api.server.port
    if guarded_by == "api-key":
        # Addressed to 127.0.0.1 on the server's port, with the key.
        headers = {"Host": f"127.0.0.1:{port}", "Authorization": f"Bearer {KEY}"}
        guard: st.SearchStrategy[Address] = st.just(Address(headers, refused=False))
    else:
        guard = addresses(port)
    skipped: list[str] = []
    failures, refusals = await asyncio.to_thread(
        fuzz, api.base, guard, real_session, schema, skipped
    )
    assert failures == []
    if guarded_by == "loopback":
        assert refusals > 0  # the guard was on, and the generated headers reached it
    print("no invalid cases for:", skipped)
    # The server still answers normally afterwards.
    response = await api.http.get("/chat/sessions", params={"limit": 1})
    assert response.status_code == httpx.codes.OK


async def test_an_offset_past_sqlites_integers_is_refused_not_a_server_error(
    make_api: MakeApi,
) -> None:
    api = await make_api()
    session_id = await api.new_session()
    for path in ("/chat/sessions", f"/chat/sessions/{session_id}/messages"):
        response = await api.http.get(path, params={"offset": 1 << 63})
        assert response.status_code == httpx.codes.UNPROCESSABLE_ENTITY, response.text
        response = await api.http.get(path, params={"offset": (1 << 63) - 1})
        assert response.status_code == httpx.codes.OK, response.text


async def test_a_deeply_nested_rest_body_is_refused_not_a_server_error(
    make_api: MakeApi,
) -> None:
    """#13 item 5 was about WebSocket frames; a REST body nested 100,000 deep is a 4xx too."""
    api = await make_api()
    session_id = await api.new_session()
    body = b'{"content": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for path in ("/chat/sessions", f"/chat/sessions/{session_id}/messages"):
        response = await api.http.post(
            path, content=body, headers={"content-type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
    assert (await api.http.get("/chat/sessions")).status_code == httpx.codes.OK
