"""Config: defaults, TOML, env overrides, and one-line errors that say where and what."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, Settings, load_settings, redacted, to_toml
from app.paths import resolve_paths

FULL = """
default_model = "openai/gpt-4.1-mini"
default_agent = "coder"

[aliases]
fast = "groq/llama-3.3-70b-versatile"

[providers.openai]
kind = "openai"
api_key_env = "OPENAI_API_KEY"

[providers.local]
kind = "ollama"
base_url = "http://127.0.0.1:11434/"
headers = { Authorization = "Bearer hunter2", "X-Team" = "tools" }
first_byte_timeout = 300

[agents.coder]
system_prompt = "You write code."
model = "fast"
tools = ["read_file", "shell"]
approval = "read-only"

[approval]
mode = "ask"
allow = ["shell(git status *)", "read_file"]
deny = ["shell(rm -rf *)"]

[ui]
theme = "nord"
show_thinking = true
"""


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(path, env or {})


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "nope.toml", {})
    assert settings == Settings()
    assert settings.approval.mode == "ask" and settings.engine.max_steps == 25
    assert settings.default_model is None


def test_a_full_file_is_read(tmp_path: Path) -> None:
    settings = _load(tmp_path, FULL)
    assert settings.default_model == "openai/gpt-4.1-mini"
    assert settings.aliases == {"fast": "groq/llama-3.3-70b-versatile"}
    local = settings.providers["local"]
    assert local.kind == "ollama" and local.base_url == "http://127.0.0.1:11434"
    assert local.first_byte_timeout == 300
    assert settings.providers["openai"].effective_base_url() == "https://api.openai.com/v1"
    coder = settings.agents["coder"]
    assert coder.tools == ["read_file", "shell"] and coder.approval == "read-only"
    assert settings.approval.deny == ["shell(rm -rf *)"]
    assert settings.ui.theme == "nord" and settings.ui.show_thinking


def test_env_beats_the_file(tmp_path: Path) -> None:
    env = {
        "AGENTKIT_DEFAULT_MODEL": "anthropic/claude-sonnet-4-5",
        "AGENTKIT_UI__THEME": "gruvbox",
        "AGENTKIT_ENGINE__MAX_STEPS": "40",
        "AGENTKIT_APPROVAL__ALLOW": '["shell(make *)"]',
        "AGENTKIT_PROVIDERS__LOCAL__BASE_URL": "http://10.0.0.2:11434",
        "AGENTKIT_HOME": "/ignored/here",  # a path variable, not a setting
    }
    settings = _load(tmp_path, FULL, env)
    assert settings.default_model == "anthropic/claude-sonnet-4-5"
    assert settings.ui.theme == "gruvbox" and settings.ui.show_thinking  # file value kept
    assert settings.engine.max_steps == 40
    assert settings.approval.allow == ["shell(make *)"]
    assert settings.providers["local"].base_url == "http://10.0.0.2:11434"
    assert settings.providers["local"].kind == "ollama"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x = [", "invalid TOML"),
        # ([ui] falls back to defaults instead: tests/unit/test_ui_fallbacks.py.)
        ('[serve]\nhost = "a"\ncolour = "red"\n', "line 3, key serve.colour: unknown key"),
        ("[serve]\nhost = 3\n", "line 2, key serve.host: input should be a valid string, got 3"),
        (
            '[providers.o]\nkind = "openia"\n',
            "line 2, key providers.o.kind: expected one of 'openai', 'anthropic' or 'ollama'",
        ),
        ('[providers.o]\nbase_url = "http://x"\n', "line 1, key providers.o.kind: required key"),
        (
            '[providers.o]\nkind = "openai"\napi_key_env = "sk-live-123"\n',
            "line 3, key providers.o.api_key_env: expected the name of an environment variable",
        ),
        ("[engine]\nmax_steps = 0\n", "line 2, key engine.max_steps: input should be greater"),
        ('[approval]\nallow = ["shell(git", "!!"]\n', "not of the form TOOL or TOOL(pattern)"),
        ('[approval]\nmode = "yolo"\n', "expected one of 'ask', 'auto' or 'read-only'"),
    ],
)
def test_broken_files_give_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"config error in {tmp_path / 'config.toml'}")
    assert expected in message


def test_the_key_itself_never_appears_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, '[providers.o]\nkind = "openai"\napi_key_env = "sk-live-123"\n')
    assert "sk-live-123" not in str(caught.value)


def test_several_problems_are_counted(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\(and 2 more problems\)"):
        _load(tmp_path, "[serve]\nhost = 1\nport = 'maybe'\nbogus = 2\n")


def test_bad_env_values_name_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"AGENTKIT_ENGINE__MAX_STEPS \(key engine\.max_steps\)"):
        load_settings(None, {"AGENTKIT_ENGINE__MAX_STEPS": "lots"})
    with pytest.raises(ConfigError, match="AGENTKIT_THEME is not a setting"):
        load_settings(None, {"AGENTKIT_THEME": "nord"})


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="directory"):
        load_settings(tmp_path, {})
    binary = tmp_path / "config.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(binary, {})


def test_redacted_hides_secrets_and_shows_whether_keys_are_set(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        FULL
        + '\n[providers.proxy]\nkind = "openai"\nbase_url = "https://me:pa55@proxy.local/v1"\n',
    )
    data = redacted(settings, {"OPENAI_API_KEY": "sk-secret-value"})
    text = to_toml(data)
    assert "hunter2" not in text and "pa55" not in text and "sk-secret-value" not in text
    assert data["providers"]["local"]["headers"] == {"Authorization": "***", "X-Team": "tools"}
    assert data["providers"]["openai"]["api_key_env"] == "OPENAI_API_KEY (set)"
    assert data["providers"]["proxy"]["base_url"] == "https://me:***@proxy.local/v1"
    assert 'theme = "nord"' in text


def test_shown_config_is_valid_toml_again(tmp_path: Path) -> None:
    import tomllib

    settings = _load(tmp_path, FULL)
    reparsed = tomllib.loads(to_toml(settings.model_dump(mode="json")))
    assert Settings.model_validate(reparsed) == settings


def test_paths_follow_agentkit_home_and_overrides(tmp_path: Path) -> None:
    home = tmp_path / "h"
    paths = resolve_paths({"AGENTKIT_HOME": str(home)})
    assert paths.config_file == home / "config.toml"
    assert paths.db_file == home / "agentkit.db"
    assert paths.skills_dir == home / "skills"
    assert not home.exists()  # resolving creates nothing
    explicit = resolve_paths(
        {"AGENTKIT_HOME": str(home), "AGENTKIT_DB": str(tmp_path / "x.db")},
        config_file=tmp_path / "c.toml",
    )
    assert explicit.db_file == tmp_path / "x.db" and explicit.config_file == tmp_path / "c.toml"
    default = resolve_paths({})
    assert default.config_file.name == "config.toml" and "agentkit" in str(default.config_file)
    assert default.db_file.name == "agentkit.db"


def test_values_that_may_be_secrets_are_not_repeated_in_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(
            tmp_path,
            '[providers.o]\nkind = "openai"\nheaders = "Authorization: Bearer sk-SECRET123"\n',
        )
    assert "sk-SECRET123" not in str(caught.value) and "headers" in str(caught.value)
