"""Benchmark: replies streamed into the TUI, at full speed and at a model's pace (not collected).

    python tests/benchmarks/bench_ui_stream.py [--tokens N] [--rounds N] [--shape markdown|plain]
        [--only lag|paced] [--rate TOKENS_PER_S] [--paced-tokens N]

The loopback fake OpenAI provider runs in its own process (this script with ``--serve``) and
sends the reply as fast as it can, one network write per SSE event. The app runs headless
(``App.run_test``, 140x45) over the real store, gateway and ``ChatService``.

How "last byte sent" is observed: the server process prints ``time.time()`` once its last
chunk (the terminating ``0\\r\\n\\r\\n``) has left its user-space buffer (``drain()`` and then
an empty transport write buffer), i.e. when the kernel has all the bytes. Both processes
read the same system clock. The app side records (same clock):

- ``engine done``: ``ChatService`` yielded ``final_answer`` (the client has read and parsed
  the last byte; a subclass of ``ChatService`` timestamps the events it yields);
- ``last token visible``: the last token (a unique word) is in the drawn lines of the live tail of
  the streaming reply and one screen refresh has followed;
- ``final render``: the reply's closing full ``update`` is done (status no longer streaming)
  and one refresh has followed.

Targets: last byte sent -> last token visible <= 0.3 s; key presses during streaming handled
within 100 ms. For the keys, a thread presses a letter (a ``Key`` event posted to the app, as
Textual's input thread does) every 40 ms while the reply streams and measures
until the letter is in the composer's text (handled), and until the refresh after that.

Shapes: ``markdown`` (default; headings, paragraphs, lists, code fences) or ``plain`` (the
fake provider's ``"tok "`` x N, one long paragraph: the worst case for Markdown appends).

Paced rows (issue #19), in the same app and the same run: a 2,000-token Markdown reply
(headings, paragraphs, lists, a code block, a table; ``paced_parts``) streamed once as fast
as the server can and once at ``--rate`` tokens per second (200: a real model's pace; the
server sleeps to an absolute schedule, so its pace does not drift). For each, the app
process's CPU time (``time.process_time``: every thread of the process) from the send until
the final render and one refresh; no key probe runs in these rounds (it costs CPU itself),
and the app is polled every 20 ms in both. Target: paced CPU <= 2x full-speed CPU. Then one
more paced round with the key probe: key press -> in the composer, p95 <= 50 ms. An idle
app's CPU over the same wall time is printed as the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from textual import events

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from _probe import KeyProbe, last_block_text, refreshed  # noqa: E402

from app.config import Settings  # noqa: E402
from app.engine.events import Event  # noqa: E402
from app.engine.service import ChatService  # noqa: E402
from app.engine.skills import BUILTIN_SKILLS_DIR, load_skills  # noqa: E402
from app.engine.turn import Emit  # noqa: E402
from app.llm.gateway import Gateway  # noqa: E402
from app.store import SessionStore  # noqa: E402
from app.ui.app import AgentKitApp  # noqa: E402
from app.ui.widgets.composer import Composer  # noqa: E402
from app.ui.widgets.message_views import AssistantMessage, RenderedMarkdown  # noqa: E402
from app.wiring import build_service  # noqa: E402
from tests.fakes.provider import FakeProvider, Reply  # noqa: E402
from tests.fakes.scripts import openai_text_events  # noqa: E402

END_WORD = "quillwortend"
VISIBLE_TARGET_S = 0.3
KEY_TARGET_S = 0.1
PACED_CPU_TARGET = 2.0
PACED_KEY_TARGET_S = 0.05
ENTER_TARGET_S = 0.05
WORDS = [
    "the",
    "gateway",
    "streams",
    "tokens",
    "from",
    "the",
    "model",
    "while",
    "the",
    "engine",
    "keeps",
    "state",
    "and",
    "the",
    "widget",
    "renders",
    "markdown",
    "as",
    "it",
    "arrives",
    "so",
    "the",
    "person",
    "can",
    "read",
    "along",
    "without",
    "waiting",
    "for",
    "the",
    "end",
]


def reply_parts(tokens: int, shape: str) -> list[str]:
    """``tokens`` text pieces (about one word each) ending with ``END_WORD``."""
    if shape == "plain":
        return ["tok "] * (tokens - 1) + [END_WORD]
    return _markdown(tokens, heading="Section", words=60, code_lines=8, tables=False)


def paced_parts(tokens: int) -> list[str]:
    """``tokens`` pieces of a Markdown reply with headings, paragraphs, lists, code blocks
    and tables, ending with ``END_WORD``."""
    return _markdown(tokens, heading="Part", words=50, code_lines=10, tables=True)


def _markdown(tokens: int, *, heading: str, words: int, code_lines: int, tables: bool) -> list[str]:
    """Sections of a heading, a paragraph of ``words`` words and a list, with a code block of
    ``code_lines`` lines in every other one (a table in the others when ``tables``)."""
    parts: list[str] = []
    section = 0
    while len(parts) < tokens:
        section += 1
        parts += ["## ", f"{heading} ", f"{section}\n\n"]
        parts += [f"{WORDS[i % len(WORDS)]} " for i in range(section, section + words)]
        parts.append("\n\n")
        for item in range(4):
            parts += ["- ", "item ", f"{item} ", "with ", "`code` ", "and ", "**bold**\n"]
        parts.append("\n")
        if section % 2:
            parts.append("```python\n")
            for line in range(code_lines):
                parts += ["def ", f"step_{line}", "(x):", " return ", "x ", "+ ", "1\n"]
            parts.append("```\n\n")
        elif tables:
            parts += ["| name ", "| kind ", "| size |\n", "| --- ", "| --- ", "| ---: |\n"]
            for row in range(8):
                parts += ["| ", f"row_{row} ", "| ", "tool ", "| ", f"{row * 7} |\n"]
            parts.append("\n")
    parts = parts[: tokens - 3]
    return [*parts, "\n\nThat is ", "all, ", END_WORD]


# ---------------------------------------------------------------------- the server process


class TimedProvider(FakeProvider):
    """The fake provider, printing when each reply's last byte has been handed to the kernel;
    replies on ``/paced/…`` go out at ``rate`` SSE events per second."""

    rate = 200.0

    async def _send(
        self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        first = time.time()
        if reply.path is not None and reply.path.startswith("/paced/"):
            finished = await self._send_paced(reply, writer)
        else:
            finished = await super()._send(reply, reader, writer)
        while writer.transport.get_write_buffer_size():
            await asyncio.sleep(0.0002)
        size = sum(len(step) for step in reply.body if isinstance(step, bytes))
        line = {"first": first, "last": time.time(), "bytes": size, "path": reply.path}
        print(json.dumps(line), flush=True)
        return finished

    async def _send_paced(self, reply: Reply, writer: asyncio.StreamWriter) -> bool:
        """One event every 1/rate s, to an absolute schedule (a late event does not delay
        the ones after it)."""
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        loop = asyncio.get_running_loop()
        began = loop.time()
        for number, step in enumerate(reply.body):
            assert isinstance(step, bytes)
            writer.write(b"%x\r\n%s\r\n" % (len(step), step))
            await writer.drain()
            delay = began + (number + 1) / self.rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


async def serve(tokens: int, shape: str, rate: float, paced_tokens: int) -> None:
    """Serve forever: the long reply on ``/chat/completions``, the paced-row reply on
    ``/fast/chat/completions`` (full speed) and ``/paced/chat/completions`` (at ``rate``);
    print the port first."""
    body = openai_text_events(reply_parts(tokens, shape), usage=(10, tokens))
    mixed = openai_text_events(paced_parts(paced_tokens), usage=(10, paced_tokens))
    tiny = openai_text_events(["Hi", " there", f" {END_WORD}"], usage=(10, 3))
    fake = TimedProvider()
    fake.rate = rate
    await fake.start()

    def refill() -> None:
        for path, sse in (
            ("/chat/completions", body),
            ("/fast/chat/completions", mixed),
            ("/paced/chat/completions", mixed),
            ("/tiny/chat/completions", tiny),
        ):
            while sum(reply.path == path for reply in fake.replies) < 2:
                fake.script(Reply(body=list(sse), path=path))

    refill()
    print(fake.port, flush=True)
    while True:
        await fake.wait_requests(len(fake.requests) + 1, within=3600)
        refill()


# ---------------------------------------------------------------------- the app side


class TimedService(ChatService):
    """The real service, timestamping the events it yields."""

    marks: dict[str, float] = {}  # noqa: RUF012 (each round sets its own)

    async def run_turn(self, *args: Any, emit: Emit, **kwargs: Any) -> None:
        """The real turn (the live-turn hub runs turns this way), each event timed first."""

        async def timed(event: Event) -> None:
            self.mark(event)
            await emit(event)

        await super().run_turn(*args, emit=timed, **kwargs)

    def mark(self, event: Event) -> None:
        """Note when the engine emitted the events the benchmark times."""
        if event.type == "token":
            self.marks.setdefault("engine_first_token", time.time())
        elif event.type == "final_answer":
            self.marks["engine_done"] = time.time()


async def one_round(
    app: AgentKitApp, service: TimedService, server: asyncio.subprocess.Process
) -> dict[str, Any]:
    """Send one message and time the reply and the key presses."""
    await app.conversation.show_new_session()
    service.marks = {}
    sent = time.time()
    await app.conversation.send("write the long answer")
    transcript = app.transcript
    while not (transcript.children and isinstance(transcript.children[-1], AssistantMessage)):
        await asyncio.sleep(0.001)
    message = transcript.children[-1]
    assert isinstance(message, AssistantMessage)
    while not message.children:  # composed on mount
        await asyncio.sleep(0.001)
    probe = KeyProbe(app)
    keys = asyncio.ensure_future(probe.run())
    while END_WORD not in last_block_text(message):
        await asyncio.sleep(0.001)
    visible = await refreshed(app)
    probe.stop.set()
    while message.status == "streaming":
        await asyncio.sleep(0.001)
    final = await refreshed(app)
    await keys
    while app.turns.live:
        await asyncio.sleep(0.001)
    assert server.stdout is not None
    served: list[dict[str, float]] = []
    with contextlib.suppress(TimeoutError):
        while True:
            served.append(json.loads(await asyncio.wait_for(server.stdout.readline(), 0.3)))
    reply = max(served, key=lambda line: line["bytes"])
    return {
        "request": sent,
        "server_first": reply["first"],
        "server_last": reply["last"],
        "bytes": reply["bytes"],
        **service.marks,
        "visible": visible,
        "final": final,
        "keys_handled": probe.handled,
        "keys_painted": probe.painted,
    }


async def measure(args: argparse.Namespace) -> bool:
    """Start the server, run the app, print one line per round and a summary per row."""
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        "--tokens",
        str(args.tokens),
        "--shape",
        args.shape,
        "--rate",
        str(args.rate),
        "--paced-tokens",
        str(args.paced_tokens),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None
    port = int(await server.stdout.readline())
    folder = tempfile.TemporaryDirectory(prefix="agentkit-bench-stream-")
    base = Path(folder.name)
    (base / "workspace").mkdir()
    url = f"http://127.0.0.1:{port}"
    settings = Settings.model_validate(
        {
            "ui": {"theme": "textual-dark"},
            "default_model": "bench/m",
            "providers": {
                "bench": {"kind": "openai", "base_url": url, "models": ["m"]},
                "fast": {"kind": "openai", "base_url": f"{url}/fast", "models": ["m"]},
                "paced": {"kind": "openai", "base_url": f"{url}/paced", "models": ["m"]},
                "tiny": {"kind": "openai", "base_url": f"{url}/tiny", "models": ["m"]},
            },
        }
    )
    store = await SessionStore.open(base / "agentkit.db")
    gateway = Gateway(settings, env={"OLLAMA_HOST": "127.0.0.1:9"})
    service = build_service(
        settings,
        store,
        gateway,
        workspace=base / "workspace",
        user_config_file=base / "config.toml",
        skills=load_skills([BUILTIN_SKILLS_DIR]),
        service_class=TimedService,
    )

    default_model = (await gateway.resolve(None)).name

    async def start_engine() -> tuple[ChatService, str]:
        return service, default_model

    # Started as ``agentkit tui`` starts it: the engine comes up after the first frame.
    app = AgentKitApp(settings=settings, store=store, engine=start_engine, export_dir=base)
    ok = True
    try:
        async with app.run_test(size=(140, 45)):
            while not (len(app.screen_stack) > 1 and isinstance(app.focused, Composer)):
                await asyncio.sleep(0.001)
            await app.engine_started()
            await refreshed(app)  # the app has finished starting up
            if args.only in (None, "lag"):
                ok &= await lag_rows(app, service, server, args)
            if args.only in (None, "paced"):
                ok &= await paced_rows(app, service, server, args)
            if args.only in (None, "enter"):
                ok &= await enter_rows(app, server, args)
    finally:
        server.terminate()
        await server.wait()
        await gateway.aclose()
        await store.close()
        folder.cleanup()
    return ok


async def lag_rows(
    app: AgentKitApp,
    service: TimedService,
    server: asyncio.subprocess.Process,
    args: argparse.Namespace,
) -> bool:
    """The long reply at full speed: last byte -> last token visible, and key presses."""
    tokens, shape = args.tokens, args.shape
    await one_round(app, service, server)  # warm-up: imports, first Markdown parse
    results = [await one_round(app, service, server) for _ in range(args.rounds)]
    print(
        f"{tokens:,}-token reply ({shape}), {results[0]['bytes'] / 1e3:.0f} kB of SSE, "
        f"server in its own process; headless 140x45; times in seconds"
    )
    lags, key_handled, key_painted = [], [], []
    for number, r in enumerate(results, 1):
        lag = r["visible"] - r["server_last"]
        lags.append(lag)
        key_handled += r["keys_handled"]
        key_painted += r["keys_painted"]
        print(
            f"  round {number}: server sent all in {r['server_last'] - r['server_first']:.3f}; "
            f"after the last byte sent: engine done +{r['engine_done'] - r['server_last']:.3f}, "
            f"last token visible +{lag:.3f}, final render +{r['final'] - r['server_last']:.3f}; "
            f"request -> first token from engine "
            f"{r['engine_first_token'] - r['request']:.3f}; "
            f"{len(r['keys_handled'])} key presses, slowest {max(r['keys_handled']):.3f}"
        )
    lag = statistics.median(lags)
    ok_visible = lag <= VISIBLE_TARGET_S
    print(
        f"last byte sent -> last token visible: median {lag:.3f} s, worst {max(lags):.3f} s"
        f"   target <= 0.3 s  {'ok' if ok_visible else 'SLOW'}"
    )
    key_handled.sort()
    key_painted.sort()
    p95 = key_handled[min(len(key_handled) - 1, math.ceil(0.95 * len(key_handled)) - 1)]
    ok_keys = key_handled[-1] <= KEY_TARGET_S
    print(
        f"key press -> in the composer ({len(key_handled)} presses during streaming): median "
        f"{statistics.median(key_handled) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, worst "
        f"{key_handled[-1] * 1000:.0f} ms (painted: median "
        f"{statistics.median(key_painted) * 1000:.0f} ms, worst {key_painted[-1] * 1000:.0f} ms)"
        f"   target <= 100 ms  {'ok' if ok_keys else 'SLOW'}"
    )
    return bool(ok_visible and ok_keys)


async def paced_round(
    app: AgentKitApp,
    service: TimedService,
    model: str,
    *,
    probe: bool = False,
    shown: bool = True,
) -> dict[str, Any]:
    """Send one message to ``model``; CPU and wall time until the final render is drawn
    (with ``probe``, the key presses' latencies too; ``shown=False``: a new session is shown
    while the turn runs, so the reply is never drawn)."""
    await app.conversation.show_new_session()
    await refreshed(app)
    app.sessions.draft.model = model
    service.marks = {}
    cpu, wall = time.process_time(), time.perf_counter()
    await app.conversation.send("write the long answer")
    transcript = app.transcript
    while not (transcript.children and isinstance(transcript.children[-1], AssistantMessage)):
        await asyncio.sleep(0.02)
    message = transcript.children[-1]
    assert isinstance(message, AssistantMessage)
    if not shown:
        await app.conversation.show_new_session()
        while app.turns.live:
            await asyncio.sleep(0.02)
        await refreshed(app)
        app.sessions.draft.model = None
        return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}
    keys = KeyProbe(app, track_paint=False) if probe else None
    pressing = asyncio.ensure_future(keys.run()) if keys is not None else None
    while message.status == "streaming" or app.turns.live or not all_drawn(message):
        await asyncio.sleep(0.02)  # (after a stream, blocks that streamed past are drawn too)
    await refreshed(app)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if keys is not None and pressing is not None:
        keys.stop.set()
        await pressing
    assert END_WORD in message.text, "the reply did not arrive whole"
    app.sessions.draft.model = None
    return {"cpu": cpu, "wall": wall, "keys": keys.handled if keys is not None else []}


def all_drawn(message: AssistantMessage) -> bool:
    """Whether every Markdown piece of the reply has been rendered."""
    return all(
        piece.drawn_text() or not piece.markdown_text.strip()
        for piece in message.children
        if isinstance(piece, RenderedMarkdown)
    )


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


async def paced_rows(
    app: AgentKitApp,
    service: TimedService,
    server: asyncio.subprocess.Process,
    args: argparse.Namespace,
) -> bool:
    """Full speed vs paced CPU of the same reply, then key presses during a paced reply."""
    await paced_round(app, service, "fast/m")  # warm-up
    rows = []
    for _ in range(args.rounds):
        fast = await paced_round(app, service, "fast/m")
        paced = await paced_round(app, service, "paced/m")
        idle_cpu = time.process_time()
        await asyncio.sleep(paced["wall"])
        idle = time.process_time() - idle_cpu
        rows.append((fast, paced, idle))
    keyed = await paced_round(app, service, "paced/m", probe=True)
    unseen = await paced_round(app, service, "paced/m", shown=False)
    await drain(server)
    print(
        f"{args.paced_tokens:,}-token Markdown reply (headings, lists, code, table): full speed "
        f"vs {args.rate:.0f} tokens/s, same app, CPU = app process time"
    )
    ratios = []
    for number, (fast, paced, idle) in enumerate(rows, 1):
        ratios.append(paced["cpu"] / fast["cpu"])
        print(
            f"  round {number}: full speed CPU {fast['cpu']:.3f} s (wall {fast['wall']:.2f}); "
            f"paced CPU {paced['cpu']:.3f} s (wall {paced['wall']:.2f}) = "
            f"{ratios[-1]:.2f}x; idle app over the same wall time {idle:.3f} s"
        )
    print(
        f"  the paced reply while another session is shown (engine, hub and app loop only): "
        f"CPU {unseen['cpu']:.3f} s (wall {unseen['wall']:.2f})"
    )
    ratio = statistics.median(ratios)
    ok_cpu = ratio <= PACED_CPU_TARGET
    handled = keyed["keys"]
    slow = p95(handled) if handled else math.inf
    ok_keys = slow <= PACED_KEY_TARGET_S
    print(
        f"paced CPU / full-speed CPU: median {ratio:.2f}x   target <= {PACED_CPU_TARGET:.0f}x  "
        f"{'ok' if ok_cpu else 'SLOW'}\n"
        f"key press -> in the composer during the paced reply ({len(handled)} presses): median "
        f"{statistics.median(handled) * 1000:.0f} ms, p95 {slow * 1000:.0f} ms, worst "
        f"{max(handled) * 1000:.0f} ms   target p95 <= 50 ms  {'ok' if ok_keys else 'SLOW'}"
    )
    return ok_cpu and ok_keys


async def enter_rows(
    app: AgentKitApp, server: asyncio.subprocess.Process, args: argparse.Namespace
) -> bool:
    """Enter in the composer of a new session -> the server has the request (the server's
    clock: when it has read the request and starts its reply; both processes read the same
    system clock). The person has typed the message first (the app may get ready meanwhile)."""
    assert server.stdout is not None
    await drain(server)
    waits = []
    first = 0.0
    for number in range(args.rounds + 1):
        await app.conversation.show_new_session()
        app.sessions.draft.model = "tiny/m"
        composer = app.main.query_one(Composer)
        composer.text = "hello, what can you do?"
        await refreshed(app)
        await asyncio.sleep(0.3)  # the person looks at what they typed
        enter = events.Key("enter", None)
        enter.set_sender(app)
        pressed = time.time()
        composer.post_message(enter)
        served = json.loads(await asyncio.wait_for(server.stdout.readline(), 10))
        while served["first"] < pressed:  # a line about an earlier request: not this one
            served = json.loads(await asyncio.wait_for(server.stdout.readline(), 10))
        while app.turns.live:
            await asyncio.sleep(0.01)
        app.sessions.draft.model = None
        if number:  # the first send of the app also builds the provider's client
            waits.append(served["first"] - pressed)
        else:
            first = served["first"] - pressed
    median = statistics.median(waits)
    ok = median <= ENTER_TARGET_S
    print(
        f"Enter -> the provider has the request (first message of a new session, "
        f"{len(waits)} rounds): median {median * 1000:.0f} ms, worst {max(waits) * 1000:.0f} "
        f"ms   target <= 50 ms  {'ok' if ok else 'SLOW'}; the app's first send: "
        f"{first * 1000:.0f} ms"
    )
    return ok


async def drain(server: asyncio.subprocess.Process) -> None:
    """Read the server's lines about replies not looked at."""
    assert server.stdout is not None
    with contextlib.suppress(TimeoutError):
        while True:
            await asyncio.wait_for(server.stdout.readline(), 0.3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shape", choices=["markdown", "plain"], default="markdown")
    parser.add_argument("--only", choices=["lag", "paced", "enter"], help="run one row group only")
    parser.add_argument("--rate", type=float, default=200.0, help="paced tokens per second")
    parser.add_argument("--paced-tokens", type=int, default=2_000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.tokens, args.shape, args.rate, args.paced_tokens))
        return 0
    ok = asyncio.run(measure(args))
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
