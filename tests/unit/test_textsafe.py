"""The text helpers every layer uses: URL credentials masked in free text; escape sequences,
control characters and direction controls stripped from what is shown (and escaped in JSON);
the CLI and the Markdown export through a real database file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.cli import main
from app.engine.events import (
    ErrorData,
    PhaseFailedData,
    ReplanningData,
    from_wire,
    notice,
    short_error,
    to_wire,
)
from app.llm import errors
from app.store import SessionStore
from app.textsafe import (
    BIDI_CONTROLS,
    escape_controls_in_json,
    redact_url_credentials,
    strip_controls,
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "cannot connect to http://user:s3cret@127.0.0.1:9/v1 (refused)",
            "cannot connect to http://user:***@127.0.0.1:9/v1 (refused)",
        ),
        ("HTTPS://Admin:Pa55@Example.org", "HTTPS://Admin:***@Example.org"),
        ("git+ssh://me:pw@host/repo.git", "git+ssh://me:***@host/repo.git"),
        (
            "(http://u:p@h) and 'socks5://a:b@proxy:1080'",
            "(http://u:***@h) and 'socks5://a:***@proxy:1080'",
        ),
        # An unencoded "@" in the password: the user-info runs to the last "@" of the authority.
        ("http://u:p@ss@w0rd@host/path@x", "http://u:***@host/path@x"),
        ("http://u:p%40ss@host?next=a@b#c@d", "http://u:***@host?next=a@b#c@d"),
        ("http://u:@host", "http://u:***@host"),
        # One part only: masked whole (tokens travel as the user name).
        ("https://ghp_T0kenT0ken@github.com/o/r", "https://***@github.com/o/r"),
        ("glued_http://u:secret@h", "glued_http://u:***@h"),
        ("two http://a:one@h1 http://b:two@h2", "two http://a:***@h1 http://b:***@h2"),
        # Nothing to hide.
        ("http://host:8080/a@b", "http://host:8080/a@b"),
        (
            "mailto:someone@example.org, me@example.org",
            "mailto:someone@example.org, me@example.org",
        ),
        ("http://u:***@h", "http://u:***@h"),
        ("no url at all", "no url at all"),
    ],
)
def test_url_credentials_are_masked(text: str, shown: str) -> None:
    assert redact_url_credentials(text) == shown
    assert redact_url_credentials(shown) == shown  # masking twice changes nothing


_SCHEMES = st.sampled_from(["http", "https", "HTTP", "socks5h", "git+ssh", "redis"])
# RFC 3986 user-info characters (what may stand unencoded before the "@").
_USERINFO = "abcXYZ019-._~!$&'()*+,;=%"
_USERS = st.text(alphabet=_USERINFO, min_size=1, max_size=12)
# A password, also with the characters people forget to encode ("@" and ":").
_PASSWORDS = st.text(alphabet=_USERINFO + "@:", min_size=1, max_size=24)
_HOSTS = st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?(:[0-9]{1,5})?", fullmatch=True)
_PATHS = st.from_regex(r"(/[a-zA-Z0-9@:._-]{0,12}){0,3}(\?[a-z=&@]{0,10})?", fullmatch=True)
_AROUND = st.text(alphabet=st.characters(exclude_characters="@:/"), max_size=30)


@given(_AROUND, _SCHEMES, _USERS, _PASSWORDS, _HOSTS, _PATHS, _AROUND)
def test_a_password_in_a_url_never_survives(
    before: str, scheme: str, user: str, password: str, host: str, path: str, after: str
) -> None:
    text = f"{before} {scheme}://{user}:{password}@{host}{path} {after}"
    assert redact_url_credentials(text) == f"{before} {scheme}://{user}:***@{host}{path} {after}"


def test_typed_llm_errors_mask_url_credentials_before_cutting() -> None:
    url = "http://user:s3cret-" + "x" * 380 + "@127.0.0.1:9/v1"
    error = errors.NetworkError(f"openai: cannot connect to {url} (refused)")
    assert "s3cret" not in str(error) and "http://user:***@127.0.0.1:9/v1" in str(error)
    error = errors.NetworkError("x " * 190 + url)  # the URL would be cut inside its password
    assert "s3cret" not in str(error) and "s3cret" not in repr(error.args)
    error.redact(["unrelated"])
    assert "s3cret" not in str(error)


def test_error_and_notice_events_never_carry_url_credentials() -> None:
    message = "local: cannot connect to http://user:s3cret@127.0.0.1:9/v1 (connection refused)"
    events = [
        short_error(message),
        short_error("y " * 85 + message),  # cut at 200 characters: the cut must not leak
        notice("replan_failed", message),
    ]
    for event in events:
        wire = to_wire(event)
        assert "s3cret" not in str(wire), wire
    assert "user:***@127.0.0.1" in str(to_wire(events[0]))
    # However the event is built, and when a stored one is read back.
    assert "s3cret" not in ErrorData(message=message).message
    assert "s3cret" not in PhaseFailedData(phase_id="p1", error=message).error
    assert "s3cret" not in ReplanningData(reason=message, attempt=1).reason
    stored = {"type": "error", "data": {"message": message}}
    assert "s3cret" not in str(to_wire(from_wire(stored)))


# --------------------------------------------------------------------------- controls

#: Trojan Source: a terminal that honours the override shows "ls exe.txt".
TROJAN = "ls \u202e txt.exe"


def _forbidden(char: str) -> bool:
    """A character nothing we show may contain: C0 (but newline and tab), DEL, C1, bidi."""
    code = ord(char)
    c0 = code < 0x20 and char not in "\n\t"
    return c0 or 0x7F <= code <= 0x9F or char in BIDI_CONTROLS


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (TROJAN, "ls  txt.exe"),
        ("a\u2066b\u2069c\u200e\u200f\u061c\u202a\u202b\u202c\u202d", "abc"),
        ("red \x1b[1;31mbold\x1b[0m done", "red bold done"),
        ("\x1b]52;c;cm0gLXJmIH4=\x07copied? no", "copied? no"),  # OSC 52: the clipboard
        ("\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\", "click"),  # a hidden link
        ("\x1bPq#0;2;0;0;0\x1b\\sixel", "sixel"),
        ("\x1b(B\x1b=\x1bc reset", " reset"),
        ("c1 \x9b31m csi", "c1 31m csi"),
        ("over\rwrite\x08\x07\x00\x7f", "overwrite"),
        ("keeps\ttabs\nand lines, [markup], émoji 👍🏽 and עברית", None),
    ],
)
def test_controls_are_stripped(text: str, shown: str | None) -> None:
    assert strip_controls(text) == (text if shown is None else shown)


#: Any character, with the ones that matter (controls, direction controls, the pieces of
#: escape sequences) drawn as often as all the others together. (Joined from a list:
#: ``st.text(alphabet=st.one_of(...))`` merges the alternatives and drops the sampled ones.)
_ANY = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from([*BIDI_CONTROLS, "\x1b", "[", "]", "\\", "\x07", "\x9b", "\x85", "\x7f"]),
    st.characters(max_codepoint=0x9F),
)
_ANY_TEXT = st.lists(_ANY, max_size=40).map("".join)


@given(_ANY_TEXT)
def test_no_control_or_direction_character_survives(text: str) -> None:
    shown = strip_controls(text)
    assert not [char for char in shown if _forbidden(char)]
    assert strip_controls(shown) == shown


_VISIBLE = st.characters(
    codec="utf-8", exclude_categories=("Cc",), exclude_characters=BIDI_CONTROLS
)


@given(st.text(alphabet=st.one_of(_VISIBLE, st.sampled_from("\n\t"))))
def test_text_without_controls_is_left_alone(text: str) -> None:
    assert strip_controls(text) == text


@given(st.recursive(_ANY_TEXT | st.integers(), lambda inner: st.lists(inner, max_size=4)))
def test_json_escapes_keep_the_value_and_show_no_controls(value: object) -> None:
    encoded = escape_controls_in_json(json.dumps(value, ensure_ascii=False, indent=2))
    assert json.loads(encoded) == value
    assert not [char for char in encoded if _forbidden(char) and char != "\n"]


def _seed(db: Path) -> str:
    async def seed() -> str:
        async with await SessionStore.open(db) as store:
            session = await store.create_session("default")
            await store.append_message(session.id, "user", f"run `{TROJAN}` \x1b[2Jplease")
            await store.append_message(
                session.id,
                "assistant",
                f"Running \u2067{TROJAN}\u2069.",
                tool_calls=[{"id": "c1", "name": "shell", "arguments": {"command": TROJAN}}],
            )
            await store.append_message(
                session.id, "tool", "out\u202eput", tool_call_id="c1", tool_name="shell"
            )
            await store.append_event(
                session.id,
                "confirmation_request",
                {"data": {"confirmation_id": "k", "command": TROJAN, "reason": "r\u202el"}},
            )
            return session.id

    return asyncio.run(seed())


@pytest.mark.parametrize(
    "argv",
    [
        ["sessions", "list"],
        ["sessions", "show", "ID"],
        ["sessions", "search", "txt.exe"],
        ["sessions", "export", "ID", "--format", "md"],
    ],
)
def test_the_cli_and_the_markdown_export_show_no_hidden_characters(
    capsys: pytest.CaptureFixture[str], agentkit_home: Path, argv: list[str]
) -> None:
    session_id = _seed(agentkit_home / "agentkit.db")
    code = main([session_id if arg == "ID" else arg for arg in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "txt.exe" in out
    assert not [char for char in out + err if _forbidden(char) and char not in "\n\t"], out


def test_json_output_keeps_every_character_escaped(
    capsys: pytest.CaptureFixture[str], agentkit_home: Path
) -> None:
    session_id = _seed(agentkit_home / "agentkit.db")
    assert main(["sessions", "show", session_id, "--json"]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out and "\\u202e" in out  # escaped, not dropped
    messages = json.loads(out)["messages"]
    assert messages[1]["tool_calls"][0]["arguments"]["command"] == TROJAN
    assert main(["sessions", "export", session_id, "--format", "json"]) == 0
    exported = capsys.readouterr().out
    assert "\u202e" not in exported and "\\u202e" in exported
    assert TROJAN in json.dumps(json.loads(exported), ensure_ascii=False)  # the record is exact
