"""The built-in tools' names, in a module of their own: the rule parser (and the TUI that
edits rules) needs them without importing the tools themselves (web_fetch pulls in httpx)."""

from __future__ import annotations

BUILTIN_TOOL_NAMES = (
    "list_dir",
    "read_file",
    "find_files",
    "search_text",
    "write_file",
    "edit_file",
    "shell",
    "web_fetch",
    "ask_human",
)
