"""Generated requests for every REST operation of the server's own OpenAPI schema (schemathesis
over a real server on loopback, with an API key): valid and invalid ones, to unknown and to
real sessions; none may get a 5xx. Bounded and derandomized, so it is fast and repeatable."""

from __future__ import annotations

import asyncio
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


def fuzz(
    base: str, headers: dict[str, str], real_session: str, schema: Any, skipped: list[str]
) -> list[str]:
    """Run every operation's generated cases (both modes); the ones that got a 5xx."""
    failures: list[str] = []
    with requests.Session() as http:
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(generation_mode=mode)

                @given(case=strategy, real=st.booleans())
                @settings(
                    max_examples=EXAMPLES,
                    derandomize=True,
                    database=None,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                )
                def check(case: Any, real: bool) -> None:
                    if real and case.path_parameters and "session_id" in case.path_parameters:
                        case.path_parameters["session_id"] = real_session
                    response = case.call(base_url=base, session=http, headers=headers, timeout=30)
                    if response.status_code >= 500:
                        failures.append(
                            f"{case.method} {case.formatted_path} -> {response.status_code}: "
                            f"{response.text[:200]} ({case.body!r:.200})"
                        )

                try:
                    check()
                except Unsatisfiable:
                    # Nothing invalid to send (a path of plain strings): valid cases only.
                    assert mode is GenerationMode.NEGATIVE, operation.label
                    skipped.append(operation.label)
    return failures


async def test_no_generated_request_gets_a_server_error(make_api: MakeApi) -> None:
    api = await make_api(api_key=KEY)
    api.script(*(text_reply("ok") for _ in range(REPLIES)))
    real_session = await api.new_session()
    raw = (await api.http.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6, [op.label for op in operations]
    # The loopback guard: requests are addressed to 127.0.0.1 on the server's port.
    headers = {"Host": f"127.0.0.1:{api.server.port}", "Authorization": f"Bearer {KEY}"}
    skipped: list[str] = []
    failures = await asyncio.to_thread(fuzz, api.base, headers, real_session, schema, skipped)
    assert failures == []
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
