"""The model picker shows each model's context window, and on a machine with only the demo
it says how to add a provider (Pilot, over the loopback fake provider)."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from app.ui.dialogs.model_picker import ModelList, ModelPicker
from tests.fakes.provider import FakeProvider
from tests.ui.conftest import AppFactory, until


@pytest.fixture(autouse=True)
def no_real_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    """No keys and no local Ollama: only what each test configures is there."""
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")


def _options(picker: ModelPicker) -> list[str]:
    option_list = picker.query_one(ModelList)
    return [str(option_list.get_option_at_index(i).prompt) for i in range(option_list.option_count)]


async def test_the_picker_shows_each_models_window_where_known(make_app: AppFactory) -> None:
    async with FakeProvider() as fake:
        fake.catalogue = {"large": 65_536}
        provider = {"kind": "openai", "base_url": fake.url, "max_retries": 0}
        models = {**provider, "models": ["large", "gpt-4o", "mystery"]}
        app = await make_app(providers={"fake": models})
        async with app.run_test(size=(120, 40)) as pilot:
            await app.actions.pick_model()
            await until(pilot, lambda: isinstance(app.screen, ModelPicker))
            picker = app.screen
            assert isinstance(picker, ModelPicker)
            await until(pilot, lambda: "fake/mystery" in picker.visible_names)
            shown = dict(zip(picker.visible_names, _options(picker), strict=True))
            assert shown["fake/large"].startswith("fake/large  64k")  # the provider said
            assert shown["fake/gpt-4o"].startswith("fake/gpt-4o  128k")  # the built-in table
            assert shown["fake/mystery"].startswith("fake/mystery  openai")  # unknown: no size
            assert shown["demo"].startswith("demo  32k")
            assert not picker.has_class("-hint")  # a real provider is set up
            await pilot.press("escape")


async def test_a_fresh_machine_is_told_how_to_add_a_provider(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.actions.pick_model()
        await until(pilot, lambda: isinstance(app.screen, ModelPicker))
        picker = app.screen
        assert isinstance(picker, ModelPicker)
        await until(pilot, lambda: picker.has_class("-hint"))
        assert picker.visible_names == ["demo"]
        hint = picker.query_one("#model-hint", Static)
        assert hint.display
        text = str(hint.render())
        assert "Only the offline demo model is set up" in text
        assert "agentkit config init" in text and "[providers.NAME]" in text
