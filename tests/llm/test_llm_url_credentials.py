"""The gateway's typed errors never quote the password of a URL: neither the provider's own
URL (connection errors name it) nor one the provider's error body quotes."""

from __future__ import annotations

from app.llm import errors
from app.llm.types import ChatMessage, ChatRequest
from tests.fakes.collect import collect
from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.support import GatewayFactory, RecordingSleep, closed_port

REQUEST = ChatRequest(model="fake/m", messages=[ChatMessage(role="user", content="hi")])
PASSWORD = "s3cret"


async def test_a_connection_error_names_the_url_without_its_password(
    make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    url = f"http://user:{PASSWORD}@127.0.0.1:{closed_port()}/v1"
    result = await collect(make_gateway(base_url=url, max_retries=1).stream(REQUEST))
    assert isinstance(result.error, errors.NetworkError)
    assert "cannot connect to http://user:***@127.0.0.1" in str(result.error)
    assert PASSWORD not in str(result.error) and PASSWORD not in repr(result.error.args)
    assert len(sleeper.delays) == 1  # retried, and the retry's message is masked too


async def test_a_url_quoted_by_the_provider_is_masked(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    body = {"error": {"message": f"upstream https://svc:{PASSWORD}@10.0.0.5/x failed"}}
    fake.script(Reply.json(502, body))
    result = await collect(make_gateway(max_retries=0).stream(REQUEST))
    assert isinstance(result.error, errors.ServerError)
    assert "upstream https://svc:***@10.0.0.5/x failed" in str(result.error)
    assert PASSWORD not in str(result.error)
