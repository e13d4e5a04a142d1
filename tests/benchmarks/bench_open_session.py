"""Benchmark: open a 5,000-message session in the TUI (not collected by pytest).

    python tests/benchmarks/bench_open_session.py [--runs N] [--messages N] [--pages N]

Builds a database (raw sqlite3 through the real schema and triggers) with 20 recent short
sessions and one older session of 5,000 messages (user questions; assistant answers of
80-200 words, every third with a list and a code block). Each run is a fresh process
(this script with ``--child``) that starts the app headless (``App.run_test``, 140x45) over
the real store and service, waits until start-up is done (the newest short session is
shown), then asks for the long session as the sidebar does (``SessionSelected``) and times:

- first paint: from the request until the last message of the session (a unique word in
  its last Markdown block) is in the transcript and one screen refresh has followed;
- full page: until every Markdown reply on the page has its blocks, plus one refresh;
- earlier pages: scrolling to the top ``--pages`` times (each loads the page before), wall
  time and the process's CPU time (less sensitive to a busy machine); target (issue #19):
  the hitch <= 50 ms.

Memory: the child's peak RSS from ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after
start-up, after the open, and after the earlier pages. Targets: first paint <= 0.3 s,
peak memory of the app process <= 250 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from _fill import add_messages, add_sessions, bulk, sentence  # noqa: E402

from app.store import SessionStore  # noqa: E402

PAINT_TARGET_S = 0.3
MEMORY_TARGET_MB = 250
LAST_WORD = "quillwortlast"
ANSWER_EXTRA = """

Steps:

1. read the `config` file
2. run the **tests** again
3. commit the change

```python
def handler(request):
    response = gateway.send(request)
    return response.text
```
"""


def populate(db_file: Path, messages: int) -> str:
    """Fill a fresh database; return the id of the long session."""
    rng = random.Random(5)
    now = datetime.now(UTC)
    with bulk(db_file) as raw:
        long_id = uuid.UUID(int=rng.getrandbits(128)).hex
        sessions = [(long_id, messages, now - timedelta(days=2))]
        sessions += [
            (uuid.UUID(int=rng.getrandbits(128)).hex, 6, now - timedelta(hours=20 - hour))
            for hour in range(20)
        ]
        for session_id, count, began in sessions:
            add_sessions(raw, [(session_id, began.isoformat(timespec="microseconds"))])
            rows = []
            for seq in range(1, count + 1):
                at = (began + timedelta(seconds=seq)).isoformat(timespec="microseconds")
                if seq % 2:
                    text = sentence(rng, rng.randint(10, 30))
                    role = "user"
                else:
                    role = "assistant"
                    paragraphs = [sentence(rng, rng.randint(40, 100)) for _ in range(2)]
                    text = "\n\n".join(paragraphs) + (ANSWER_EXTRA if seq % 6 == 0 else "")
                if seq == count:
                    role, text = "assistant", f"{sentence(rng, 30)}\n\nThe end: {LAST_WORD}."
                rows.append((session_id, seq, role, text, at))
            add_messages(raw, rows, model="bench/m")
    return long_id


# ---------------------------------------------------------------------- the child process


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def child(db_file: Path, long_id: str, pages: int) -> dict[str, Any]:
    """Start the app, open the long session, scroll up ``pages`` times; return the marks."""
    from textual.widgets import Markdown
    from textual.widgets.markdown import MarkdownBlock

    from app.config import Settings
    from app.llm.gateway import Gateway
    from app.ui.app import AgentKitApp
    from app.ui.widgets.composer import Composer
    from app.ui.widgets.message_views import AssistantMessage
    from app.ui.widgets.sidebar import SessionSidebar
    from app.wiring import build_service

    marks: dict[str, Any] = {}
    settings = Settings.model_validate({"ui": {"theme": "textual-dark"}})
    store = await SessionStore.open(db_file)
    gateway = Gateway(settings, env={"OLLAMA_HOST": "127.0.0.1:9"})
    workspace = db_file.parent / "workspace"
    workspace.mkdir(exist_ok=True)
    service = build_service(
        settings,
        store,
        gateway,
        workspace=workspace,
        user_config_file=db_file.parent / "config.toml",
    )
    app = AgentKitApp(
        settings=settings, store=store, service=service, default_model="demo", export_dir=workspace
    )

    async def refreshed() -> float:
        done = asyncio.Event()
        app.call_after_refresh(done.set)
        await done.wait()
        return time.perf_counter()

    # Polls look at direct children only: a DOM query over the whole transcript every
    # millisecond would itself slow the app down.
    def replies() -> list[Markdown]:
        return [
            child
            for message in transcript.children
            if isinstance(message, AssistantMessage)
            for child in message.children
            if isinstance(child, Markdown)
        ]

    def last_text(markdown: Markdown) -> str:
        last = markdown.children[-1] if markdown.children else None
        return str(last.content) if isinstance(last, MarkdownBlock) else ""

    async def until(condition: Any, within: float = 60.0) -> None:
        deadline = time.perf_counter() + within
        while not condition():
            if time.perf_counter() > deadline:
                raise TimeoutError("the app did not reach the expected state within a minute")
            await asyncio.sleep(0.001)

    try:
        async with app.run_test(size=(140, 45)):
            await until(
                lambda: (
                    len(app.screen_stack) > 1
                    and app.current is not None
                    and isinstance(app.focused, Composer)
                )
            )
            await refreshed()
            marks["rss_started"] = peak_rss_mb()
            transcript = app.transcript

            def last_shown() -> bool:
                if app.current is None or app.current.id != long_id:
                    return False
                last = transcript.children[-1] if transcript.children else None
                if not isinstance(last, AssistantMessage):
                    return False
                reply = next((child for child in last.children if child.has_class("reply")), None)
                if isinstance(reply, Markdown):
                    return LAST_WORD in last_text(reply)
                # A reply drawn by one widget (a Static with a Rich Markdown renderable) shows
                # its whole text at the refresh after it is mounted.
                return reply is not None and LAST_WORD in last.text

            requested = time.perf_counter()
            app.sidebar.post_message(SessionSidebar.SessionSelected(long_id))
            await until(last_shown)
            marks["first_paint"] = await refreshed() - requested
            await until(lambda: all(markdown.children for markdown in replies()))
            marks["full_page"] = await refreshed() - requested
            marks["widgets"] = len(transcript.children)
            marks["at_end"] = transcript.is_vertical_scroll_end
            marks["rss_opened"] = peak_rss_mb()

            page_times, page_cpu = [], []
            for _ in range(pages):
                first_seq = transcript.first_seq
                began, cpu = time.perf_counter(), time.process_time()
                deadline = began + 60
                while transcript.first_seq == first_seq:
                    # Scroll to the top again until the page arrives: a scroll that lands while
                    # the previous page still restores its position does not count as a request.
                    if time.perf_counter() > deadline:
                        raise TimeoutError("scrolling to the top did not load an earlier page")
                    transcript.scroll_home(animate=False, immediate=True)
                    await refreshed()
                await until(lambda: all(markdown.children for markdown in replies()))
                page_times.append(await refreshed() - began)
                page_cpu.append(time.process_time() - cpu)
            marks["pages"] = page_times
            marks["pages_cpu"] = page_cpu
            marks["widgets_after_pages"] = len(transcript.children)
            marks["rss_peak"] = peak_rss_mb()
            app.exit()
    finally:
        await gateway.aclose()
        await store.close()
    return marks


# ---------------------------------------------------------------------- the parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--pages", type=int, default=10, help="earlier pages to scroll through")
    parser.add_argument("--child", nargs=2, metavar=("DB", "SESSION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        marks = asyncio.run(child(Path(args.child[0]), args.child[1], args.pages))
        print(json.dumps(marks), flush=True)
        return 0

    folder = tempfile.TemporaryDirectory(prefix="agentkit-bench-open-")
    db_file = Path(folder.name) / "agentkit.db"
    long_id = populate(db_file, args.messages)
    print(
        f"session of {args.messages:,} messages ({db_file.stat().st_size / 1e6:.1f} MB file); "
        f"headless 140x45; fresh process per run; times from the open request"
    )
    results = []
    for number in range(args.runs + 1):
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(db_file),
                long_id,
                "--pages",
                str(args.pages),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            print(done.stdout[-2000:], done.stderr[-4000:], file=sys.stderr)
            return 2
        if number == 0:
            continue  # warm-up (file cache, .pyc)
        marks = json.loads(lines[-1])
        results.append(marks)
        pages = marks["pages"]
        print(
            f"  run {number}: first paint {marks['first_paint']:.3f} s, full page "
            f"{marks['full_page']:.3f} s ({marks['widgets']} widgets, at end: "
            f"{marks['at_end']}); {len(pages)} earlier pages: median "
            f"{statistics.median(pages):.3f} s "
            f"(CPU {statistics.median(marks['pages_cpu']):.3f} s), worst {max(pages):.3f} s "
            f"({marks['widgets_after_pages']} widgets); peak RSS MB: started "
            f"{marks['rss_started']:.0f}, opened {marks['rss_opened']:.0f}, after pages "
            f"{marks['rss_peak']:.0f}"
        )
    folder.cleanup()
    paint = statistics.median(r["first_paint"] for r in results)
    memory = max(r["rss_peak"] for r in results)
    memory_open = max(r["rss_opened"] for r in results)
    ok_paint, ok_memory = paint <= PAINT_TARGET_S, memory <= MEMORY_TARGET_MB
    print(
        f"first paint: median {paint:.3f} s   target <= 0.3 s  {'ok' if ok_paint else 'SLOW'}\n"
        f"peak RSS: {memory_open:.0f} MB after the open, {memory:.0f} MB after "
        f"{args.pages} earlier pages   target <= 250 MB  {'ok' if ok_memory else 'TOO MUCH'}"
    )
    ok = ok_paint and ok_memory
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
