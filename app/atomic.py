"""Writing a file so that a reader never sees half of it: the one atomic-write helper.

The bottom of the import layers (beside :mod:`app.textsafe`): the CLI's export, the file
tools, the rule files and the config's ``save_setting`` all write through it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomically(path: Path, text: str, *, make_parents: bool = False) -> None:
    """Replace ``path`` with ``text`` (UTF-8, newlines as given) all at once.

    The text goes to a temporary file in the same folder, is flushed to disk, and then
    takes the file's place with ``os.replace``; an existing file keeps its permissions (a
    new one is readable by its owner only). ``make_parents`` creates missing folders first.
    On any failure the temporary file is removed and the old file is left as it was.
    """
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
