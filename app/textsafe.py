"""Making untrusted or secret-bearing text safe to show and to store.

The bottom of the import layers (next to :mod:`app.paths`): the config, the gateway, the
engine, the store, the CLI and the UI all use it, and it imports nothing of ours.

- :func:`redact_url_credentials` hides the credentials of every URL in a text.
- :func:`strip_controls` makes text from models, tools and files safe to show: no terminal
  escape sequences, no control characters, no Unicode direction overrides.
- :func:`escape_controls_in_json` does the same for JSON output without losing anything.
- :func:`one_line` flattens text to one line cut to a width; :func:`cut` shortens a long
  text and says by how much.
- :data:`CONTROL_CHARACTER` is the one definition of "characters that hide what text says"
  (the known-safe command check refuses them; the config shows them as ``?``).
"""

from __future__ import annotations

import re

#: What replaces a secret.
MASK = "***"

# A URL's scheme, then its authority up to the LAST "@" before the path, query, fragment or
# white space: a password that wrongly holds an unencoded "@" is still hidden whole.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s/?#]*)@")


def _mask_userinfo(match: re.Match[str]) -> str:
    user, colon, _password = match.group("userinfo").partition(":")
    if colon:
        return f"{match.group('scheme')}{user}:{MASK}@"
    # Only one part: often a token used as the user name (https://TOKEN@github.com).
    return f"{match.group('scheme')}{MASK}@"


def redact_url_credentials(text: str) -> str:
    """``text`` with the credentials of every ``scheme://userinfo@host`` URL in it masked.

    ``scheme://user:password@host`` keeps the user name and shows ``user:***@host``;
    ``scheme://token@host`` (one part, which services use for tokens as often as for user
    names) becomes ``***@host``. The user-info runs to the last ``@`` before the first
    ``/``, ``?``, ``#`` or white space, so an unencoded ``@`` in a password does not leak
    its tail. Text that is already masked stays as it is. Redact before cutting a text
    short: a URL cut off inside its password no longer looks like one.
    """
    if "@" not in text:
        return text
    return _URL_USERINFO.sub(_mask_userinfo, text)


#: Unicode direction controls: they reorder what a terminal or an editor shows, so that
#: ``ls \u202e txt.exe`` reads as something else than what runs (Trojan Source,
#: CVE-2021-42574): the embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069,
#: and the marks U+200E, U+200F and U+061C.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

# Terminal escape sequences, removed whole so their parameters do not stay behind as text:
# CSI (colours, cursor moves), the string commands OSC / DCS / SOS / PM / APC with their
# terminator (OSC 52 writes the clipboard, OSC 8 makes links), and the other ESC + byte(s).
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[ -/]*[0-~]"
)
#: Every C0 control but newline and tab, DEL, every C1 control, and the direction controls,
#: as the inside of a regular-expression character class (to add newline and tab to it).
CONTROL_CHARACTERS = f"\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}"
#: One of :data:`CONTROL_CHARACTERS`: what makes text show other than it is.
CONTROL_CHARACTER = re.compile(f"[{CONTROL_CHARACTERS}]")
# What json.dumps(..., ensure_ascii=False) leaves raw that a terminal may still act on.
_RAW_IN_JSON = re.compile(f"[\x7f-\x9f{BIDI_CONTROLS}]")


def strip_controls(text: str) -> str:
    """``text`` without terminal escape sequences, control characters (newlines and tabs
    stay) or Unicode direction controls, for showing untrusted text on a terminal, in the
    app or in an exported file: what is shown is then the characters in their real order.
    """
    return CONTROL_CHARACTER.sub("", _ESCAPE_SEQUENCE.sub("", text))


def escape_controls_in_json(encoded: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with DEL, the C1 controls and
    the direction controls written as ``\\uXXXX`` escapes: the same JSON value, nothing lost,
    and nothing a terminal acts on. (JSON already escapes the C0 controls; outside strings
    JSON is plain ASCII, so only string contents change.)"""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


_SURROGATE = re.compile("[\ud800-\udfff]")


def fix_surrogates(text: str) -> str:
    """``text`` with UTF-16 surrogate pairs joined and lone surrogates as U+FFFD, so that it
    can be encoded (saved, printed): JSON and undecodable command-line bytes leave them."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def one_line(text: str, limit: int = 80, *, keep_controls: bool = False) -> str:
    """``text`` on one line: runs of white space become one space, lone surrogates U+FFFD,
    and a text longer than ``limit`` characters is cut to ``limit`` with an ellipsis.

    Escape sequences and control characters are removed first (see :func:`strip_controls`)
    unless ``keep_controls`` (for text that is cleaned where it is shown, such as the
    message of a provider's error)."""
    shown = fix_surrogates(text) if keep_controls else strip_controls(fix_surrogates(text))
    flat = " ".join(shown.split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)] + "…"


def cut(text: str, limit: int) -> str:
    """``text`` without surrounding white space, cut to ``limit`` characters with a note
    saying how many were left out."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"\n[… {len(text) - limit:,} characters cut …]"
