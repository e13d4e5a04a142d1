"""The status line shows what the session's priced model calls cost (Pilot, loopback fake)."""

from __future__ import annotations

import pytest

from app.ui.widgets.status_line import cost_label
from tests.fakes.provider import FakeProvider
from tests.fakes.scripts import openai_reply
from tests.ui.conftest import AppFactory, type_and_send, until

pytest.importorskip("genai_prices", reason="the cost extra (genai-prices) is not installed")


async def test_the_status_line_adds_up_the_cost_and_reads_it_back(make_app: AppFactory) -> None:
    async with FakeProvider() as fake:
        fake.script(
            openai_reply(["One."], usage=(1_000, 100)), openai_reply(["Two."], usage=(1_000, 100))
        )
        proxy = {"kind": "openai", "base_url": fake.url, "max_retries": 0, "prices_from": "openai"}
        app = await make_app(providers={"proxy": proxy})
        async with app.run_test(size=(160, 40)) as pilot:
            assert "$" not in app.status.render().plain  # the demo has no price
            app.conversation.state.model = "proxy/gpt-4o"
            for text in ("Tell me one thing", "Tell me another thing"):
                await type_and_send(pilot, text)
                await until(pilot, lambda: not app.turns.live and app.status.state == "idle")
            await until(pilot, lambda: app.status.cost_usd > 0.006)
            assert app.status.cost_usd == pytest.approx(0.007)  # 2 × (1,000 in + 100 out)
            assert "  ·  $0.0070" in app.status.render().plain
            assert app.current is not None
            session_id = app.current.id
            await app.conversation.show_new_session()
            assert app.status.cost_usd == 0
            await app.conversation.open_session(session_id)  # read back from the usage log
            assert app.status.cost_usd == pytest.approx(0.007)


def test_cost_labels() -> None:
    assert [cost_label(d) for d in (0.0035, 0.01, 0.4249, 12.5)] == [
        "$0.0035",
        "$0.01",
        "$0.42",
        "$12.50",
    ]
