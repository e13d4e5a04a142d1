"""Writing file tools: write_file and edit_file, confined to the workspace, approved by diff."""

from __future__ import annotations

import difflib
from pathlib import Path

from pydantic import Field

from app.atomic import write_text_atomically
from app.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolResult
from app.tools.workspace import is_binary, relative_display, resolve_in_workspace

MAX_DIFF_CHARS = 200_000


class WriteFileArgs(ToolArgs):
    """Arguments of write_file."""

    path: str = Field(description="File relative to the workspace root; parents are created.")
    content: str = Field(description="The whole new content of the file.")


class EditFileArgs(ToolArgs):
    """Arguments of edit_file."""

    path: str = Field(description="File relative to the workspace root.")
    old: str = Field(description="Exact text to replace; it must occur exactly once.")
    new: str = Field(description="Replacement text.")


def read_text(path: Path, shown: str) -> str:
    """Read a UTF-8 text file exactly (newlines untouched), or raise a ToolError saying why not."""
    if path.is_dir():
        raise ToolError(f"{shown!r} is a directory, not a file.")
    if not path.is_file():
        raise ToolError(f"{shown!r} is not a regular file (a pipe or device?).")
    if is_binary(path):
        raise ToolError(f"{shown!r} is a binary file; only text files can be edited.")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{shown!r} is not UTF-8 text; it cannot be edited safely.") from None


def unified_diff(before: str, after: str, shown: str, *, new_file: bool = False) -> str:
    """A unified diff of one file, as a person approving the change should see it."""
    old_name = "/dev/null" if new_file else f"a/{shown}"
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=old_name,
        tofile=f"b/{shown}",
    )
    text = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
    if not text:
        return f"(no changes to {shown})"
    if len(text) > MAX_DIFF_CHARS:
        text = text[:MAX_DIFF_CHARS] + f"\n[… diff cut at {MAX_DIFF_CHARS:,} characters …]\n"
    return text


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


class WriteFileTool(Tool[WriteFileArgs]):
    """Create or overwrite a whole file."""

    name = "write_file"
    description = (
        "Create a file, or replace the whole content of an existing one, in the workspace. "
        "Parent directories are created. Prefer edit_file for small changes."
    )
    Args = WriteFileArgs
    access = "write"

    def approval_text(self, args: WriteFileArgs, ctx: ToolContext) -> str:
        """The diff from the current content (or from nothing, for a new file)."""
        try:
            target = resolve_in_workspace(ctx.workspace, args.path)
            shown = relative_display(ctx.workspace, target)
            if target.exists():
                return unified_diff(read_text(target, shown), args.content, shown)
        except ToolError as exc:
            return f"write_file {args.path}: {exc}"
        return unified_diff("", args.content, shown, new_file=True)

    async def run(self, args: WriteFileArgs, ctx: ToolContext) -> ToolResult:
        """Write the content and report what happened."""
        target = resolve_in_workspace(ctx.workspace, args.path)
        shown = relative_display(ctx.workspace, target)
        if target.is_dir():
            raise ToolError(f"{args.path!r} is a directory; give a file path.")
        existed = target.exists()
        write_text_atomically(target, args.content, make_parents=True)
        lines = args.content.count("\n") + (0 if args.content.endswith("\n") else 1)
        lines = lines if args.content else 0
        size = len(args.content.encode("utf-8"))
        verb = "Overwrote" if existed else "Created"
        return ToolResult(
            output=f"{verb} {shown} ({lines} lines, {size} bytes).",
            metadata={"path": shown, "created": not existed, "bytes": size},
        )


class EditFileTool(Tool[EditFileArgs]):
    """Replace one exact, unique piece of text in a file."""

    name = "edit_file"
    description = (
        "Edit a text file in the workspace by replacing an exact piece of text (`old`, "
        "whitespace and indentation included) that occurs exactly once with `new`. Include "
        "enough surrounding lines in `old` to make it unique. Read the file first."
    )
    Args = EditFileArgs
    access = "write"

    def _plan(self, args: EditFileArgs, ctx: ToolContext) -> tuple[Path, str, str, str, int]:
        if not args.old:
            raise ToolError(
                "`old` is empty; give the exact text to replace (use write_file to create)."
            )
        if args.old == args.new:
            raise ToolError("`old` and `new` are the same; there is nothing to change.")
        target = resolve_in_workspace(ctx.workspace, args.path)
        shown = relative_display(ctx.workspace, target)
        if not target.exists():
            raise ToolError(f"No such file: {args.path!r}. Use write_file to create a file.")
        before = read_text(target, shown)
        count = before.count(args.old)
        if count == 0:
            hint = ""
            if args.old.strip() and args.old.strip() in before:
                hint = " The text occurs with different surrounding whitespace."
            elif "\r\n" in before and "\n" in args.old:
                hint = " The file uses Windows line endings (\\r\\n)."
            raise ToolError(
                f"`old` was not found in {shown}.{hint} Read the file again and copy the exact "
                "text, including whitespace and indentation."
            )
        if count > 1:
            lines: list[str] = []
            start = 0
            while len(lines) < 10 and (index := before.find(args.old, start)) != -1:
                lines.append(str(_line_of(before, index)))
                start = index + 1
            raise ToolError(
                f"`old` occurs {count} times in {shown} (at lines {', '.join(lines)}); include "
                "more surrounding lines so it matches exactly once."
            )
        index = before.index(args.old)
        after = before[:index] + args.new + before[index + len(args.old) :]
        return target, shown, before, after, _line_of(before, index)

    def approval_text(self, args: EditFileArgs, ctx: ToolContext) -> str:
        """The unified diff this edit would make (or why it cannot be made)."""
        try:
            _, shown, before, after, _ = self._plan(args, ctx)
        except ToolError as exc:
            return f"edit_file {args.path}: {exc}"
        return unified_diff(before, after, shown)

    async def run(self, args: EditFileArgs, ctx: ToolContext) -> ToolResult:
        """Apply the replacement and report where it happened."""
        target, shown, _, after, line = self._plan(args, ctx)
        write_text_atomically(target, after, make_parents=True)
        old_lines = args.old.count("\n") + 1
        new_lines = args.new.count("\n") + 1
        return ToolResult(
            output=(
                f"Edited {shown}: replaced {old_lines} line(s) at line {line} with "
                f"{new_lines} line(s)."
            ),
            metadata={"path": shown, "line": line},
        )
