"""`agentkit models` and `agentkit config show` never print the password of a provider URL,
as text or as JSON (the provider comes from the environment, as people set it)."""

from __future__ import annotations

import json

import pytest

from app.cli import main

PASSWORD = "s3cret"


@pytest.fixture
def provider_with_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGENTKIT_PROVIDERS__X__KIND", "openai")
    monkeypatch.setenv("AGENTKIT_PROVIDERS__X__BASE_URL", f"http://user:{PASSWORD}@127.0.0.1:9/v1")
    # A local Ollama URL with credentials too (nothing listens: its probe error quotes it).
    monkeypatch.setenv("OLLAMA_HOST", f"http://ollama:{PASSWORD}-2@127.0.0.1:9")


@pytest.mark.usefixtures("provider_with_credentials")
@pytest.mark.parametrize(
    "argv", [["models"], ["models", "--json"], ["config", "show"], ["config", "show", "--json"]]
)
def test_no_password_is_printed(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert PASSWORD not in out and PASSWORD not in err
    assert "http://user:***@127.0.0.1:9/v1" in out  # the URL is still shown, masked
    if "--json" in argv:
        json.loads(out)
    if argv[0] == "models":
        assert "ollama:***@127.0.0.1:9" in out
