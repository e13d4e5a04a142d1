"""Read-only file tools confined to the workspace: list_dir, read_file, find_files, search_text."""

from __future__ import annotations

import re
import stat
import threading
from pathlib import Path

from pydantic import Field

from app.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolResult
from app.tools.workspace import (
    is_binary,
    path_glob_matches,
    relative_display,
    resolve_in_workspace,
    run_blocking,
    walk_files,
)

MAX_LIST_ENTRIES = 500
MAX_FIND_RESULTS = 500
MAX_SEARCH_MATCHES = 200
MAX_SEARCH_LINE_CHARS = 300
MAX_SEARCH_FILE_BYTES = 5_000_000
MAX_READ_LINES = 2_000


class ListDirArgs(ToolArgs):
    """Arguments of list_dir."""

    path: str = Field(default=".", description="Directory relative to the workspace root.")


class ListDirTool(Tool[ListDirArgs]):
    """List one directory: subdirectories first (with a trailing slash), then files with sizes."""

    name = "list_dir"
    description = (
        "List the entries of a directory in the workspace. Directories end with '/', files "
        "show their size in bytes, symlinks show their target."
    )
    Args = ListDirArgs
    access = "read"

    async def run(self, args: ListDirArgs, ctx: ToolContext) -> ToolResult:
        """List the directory, capped at MAX_LIST_ENTRIES entries."""
        target = resolve_in_workspace(ctx.workspace, args.path)
        if not target.exists():
            raise ToolError(f"No such directory: {args.path!r}.")
        if not target.is_dir():
            raise ToolError(f"{args.path!r} is a file, not a directory; use read_file to read it.")
        shown = relative_display(ctx.workspace, target)
        entries = sorted(_describe_entry(entry) for entry in target.iterdir())
        lines = [text for _, text in entries[:MAX_LIST_ENTRIES]]
        if len(entries) > MAX_LIST_ENTRIES:
            lines.append(f"[… {len(entries) - MAX_LIST_ENTRIES} more entries not shown]")
        if not lines:
            lines.append("(empty directory)")
        header = f"{shown.rstrip('/')}/ ({len(entries)} entries)"
        return ToolResult(output="\n".join([header, *lines]), metadata={"entries": len(entries)})


def _describe_entry(entry: Path) -> tuple[int, str]:
    try:
        if entry.is_symlink():
            return 2, f"{entry.name} -> {entry.readlink()}"
        info = entry.stat()
    except OSError:
        return 2, f"{entry.name} (unreadable)"
    if stat.S_ISDIR(info.st_mode):
        return 0, f"{entry.name}/"
    return 1, f"{entry.name} ({info.st_size} bytes)"


class ReadFileArgs(ToolArgs):
    """Arguments of read_file."""

    path: str = Field(description="File relative to the workspace root.")
    start_line: int = Field(default=1, ge=1, description="First line to show (1-based).")
    end_line: int | None = Field(
        default=None, ge=1, description="Last line to show (inclusive); absent = to the end."
    )


class ReadFileTool(Tool[ReadFileArgs]):
    """Read a text file with line numbers, optionally only a range of lines."""

    name = "read_file"
    description = (
        "Read a text file in the workspace. Each line is prefixed with its line number. "
        f"Use start_line/end_line for large files (at most {MAX_READ_LINES} lines per call)."
    )
    Args = ReadFileArgs
    access = "read"

    async def run(self, args: ReadFileArgs, ctx: ToolContext) -> ToolResult:
        """Return the numbered lines in the requested range."""
        if args.end_line is not None and args.end_line < args.start_line:
            raise ToolError(f"end_line ({args.end_line}) is before start_line ({args.start_line}).")
        target = resolve_in_workspace(ctx.workspace, args.path)
        if not target.exists():
            raise ToolError(f"No such file: {args.path!r}. Use find_files to look for it.")
        if target.is_dir():
            raise ToolError(f"{args.path!r} is a directory; use list_dir to see its entries.")
        if not target.is_file():
            raise ToolError(f"{args.path!r} is not a regular file (a pipe or device?).")
        if is_binary(target):
            raise ToolError(f"{args.path!r} is a binary file; read_file only shows text.")
        return await run_blocking(lambda cancelled: _read_lines(target, args, cancelled))


def _read_lines(target: Path, args: ReadFileArgs, cancelled: threading.Event) -> ToolResult:
    last = args.end_line or args.start_line + MAX_READ_LINES - 1
    last = min(last, args.start_line + MAX_READ_LINES - 1)
    shown: list[str] = []
    total = 0
    with target.open(encoding="utf-8", errors="replace", newline=None) as handle:
        for number, line in enumerate(handle, start=1):
            total = number
            if args.start_line <= number <= last:
                shown.append(f"{number:>6}\t{line.rstrip(chr(10))}")
            if number % 10_000 == 0 and cancelled.is_set():
                break
    if total == 0:
        return ToolResult(output="(empty file)", metadata={"lines": 0})
    if args.start_line > total:
        raise ToolError(
            f"start_line {args.start_line} is past the end: the file has {total} lines."
        )
    end = min(last, total)
    output = "\n".join(shown)
    if args.start_line > 1 or end < total:
        output += f"\n[lines {args.start_line}-{end} of {total}]"
    return ToolResult(output=output, metadata={"lines": total})


class FindFilesArgs(ToolArgs):
    """Arguments of find_files."""

    pattern: str = Field(
        description=(
            "Glob relative to the workspace root, e.g. '**/*.py' or 'src/*.ts'. A pattern "
            "without '/' matches file names at any depth."
        )
    )


class FindFilesTool(Tool[FindFilesArgs]):
    """Find files by glob, skipping version-control, cache and environment directories."""

    name = "find_files"
    description = (
        "Find files in the workspace whose path matches a glob ('*' within a directory, "
        "'**' across directories). Skips .git, node_modules, virtualenvs and caches. "
        f"At most {MAX_FIND_RESULTS} results."
    )
    Args = FindFilesArgs
    access = "read"

    async def run(self, args: FindFilesArgs, ctx: ToolContext) -> ToolResult:
        """Walk the workspace and return matching relative paths, sorted."""
        pattern = args.pattern.strip()
        if not pattern:
            raise ToolError("The pattern is empty; try '**/*.py'.")
        if pattern.startswith(("/", "~")) or ".." in pattern.split("/"):
            raise ToolError(
                f"Pattern {args.pattern!r} leaves the workspace; use a pattern relative to "
                "the workspace root."
            )
        root = ctx.workspace.resolve()

        def find(cancelled: threading.Event) -> tuple[list[str], int]:
            found: list[str] = []
            count = 0
            for path in walk_files(root, cancelled):
                rel = path.relative_to(root).as_posix()
                if path_glob_matches(pattern, rel):
                    count += 1
                    if len(found) < MAX_FIND_RESULTS:
                        found.append(rel)
            return found, count

        found, count = await run_blocking(find)
        if not found:
            return ToolResult(output=f"No files match {pattern!r}.", metadata={"matches": 0})
        lines = list(found)
        if count > len(found):
            lines.append(f"[… {count - len(found)} more files not shown; narrow the pattern]")
        return ToolResult(output="\n".join(lines), metadata={"matches": count})


class SearchTextArgs(ToolArgs):
    """Arguments of search_text."""

    pattern: str = Field(description="Python regular expression to look for.")
    path: str = Field(default=".", description="File or directory to search, workspace-relative.")
    glob: str | None = Field(default=None, description="Only search files matching this glob.")
    ignore_case: bool = Field(default=False, description="Match case-insensitively.")


class SearchTextTool(Tool[SearchTextArgs]):
    """Search text files for a regex and answer ``file:line: text`` per matching line."""

    name = "search_text"
    description = (
        "Search text files in the workspace for a regular expression. Answers one "
        "'path:line: text' per matching line; skips binary files, .git, node_modules and "
        f"caches. At most {MAX_SEARCH_MATCHES} matches."
    )
    Args = SearchTextArgs
    access = "read"

    async def run(self, args: SearchTextArgs, ctx: ToolContext) -> ToolResult:
        """Scan files under ``path`` line by line and collect matches."""
        try:
            regex = re.compile(args.pattern, re.IGNORECASE if args.ignore_case else 0)
        except re.error as exc:
            raise ToolError(f"Invalid regular expression {args.pattern!r}: {exc}.") from None
        base = resolve_in_workspace(ctx.workspace, args.path)
        if not base.exists():
            raise ToolError(f"No such file or directory: {args.path!r}.")
        root = ctx.workspace.resolve()

        def search(cancelled: threading.Event) -> tuple[list[str], int, int]:
            hits: list[str] = []
            total = files = 0
            for path in walk_files(base, cancelled, root):
                rel = path.relative_to(root).as_posix()
                if args.glob and not path_glob_matches(args.glob, rel):
                    continue
                if _skip_for_search(path):
                    continue
                files += 1
                total += _search_file(path, rel, regex, hits)
            return hits, total, files

        hits, total, files = await run_blocking(search)
        if not hits:
            where = relative_display(ctx.workspace, base)
            return ToolResult(
                output=f"No matches for {args.pattern!r} in {where} ({files} files searched).",
                metadata={"matches": 0, "files": files},
            )
        lines = list(hits)
        if total > len(hits):
            lines.append(
                f"[… {total - len(hits)} more matches not shown; narrow the pattern or path]"
            )
        return ToolResult(output="\n".join(lines), metadata={"matches": total, "files": files})


def _skip_for_search(path: Path) -> bool:
    try:
        if path.stat().st_size > MAX_SEARCH_FILE_BYTES:
            return True
    except OSError:
        return True
    return is_binary(path)


def _search_file(path: Path, rel: str, regex: re.Pattern[str], hits: list[str]) -> int:
    count = 0
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if regex.search(line):
                    count += 1
                    if len(hits) < MAX_SEARCH_MATCHES:
                        text = line.rstrip("\r\n")
                        if len(text) > MAX_SEARCH_LINE_CHARS:
                            text = text[:MAX_SEARCH_LINE_CHARS] + "…"
                        hits.append(f"{rel}:{number}: {text}")
    except OSError:
        return 0
    return count
