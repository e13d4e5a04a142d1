"""The text helpers every layer uses: URL credentials masked in free text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from app.textsafe import redact_url_credentials


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
