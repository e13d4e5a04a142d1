"""Making untrusted or secret-bearing text safe to show and to store.

The bottom of the import layers (next to :mod:`app.paths`): the config, the gateway, the
engine, the store, the CLI and the UI all use it, and it imports nothing of ours.

- :func:`redact_url_credentials` hides the credentials of every URL in a text.
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
