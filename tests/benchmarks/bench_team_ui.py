"""Benchmark: a team of 4 experts streaming at once into the TUI (not collected by pytest).

    python tests/benchmarks/bench_team_ui.py [--tokens N] [--rounds N] [--profile FILE]

Each round sends ``/team <task>`` in a new session of the real app (``AgentKitApp`` headless
via ``App.run_test``, 140x45, over a real ``SessionStore`` file, the ``Gateway`` and
``ChatService``). The config team ``default`` has 4 experts, each with its own model
``fakeN/m``; providers ``fake1``..``fake4`` each point at their own loopback fake OpenAI
server, in its own process (this script with ``--serve``), so the four streams are truly
concurrent. The lead's plan and the synthesis use the default model ``lead/m`` on a fifth
server: it answers the lead's request (its system prompt lists the expert ids) with 4
independent phases, one per expert (no ``depends_on``, so all 4 start at once), and the
synthesis request with a short Markdown answer. Each expert replies with ``--tokens`` text
tokens (default 1,000; ``e2w0417``-style words, 10 to a line) sent as fast as the server
can, one network write per SSE event, and no tool calls.

How "last byte sent" is observed: each server prints ``time.time()`` once a reply's last
chunk has left its user-space buffer (``drain()`` and then an empty transport write
buffer), i.e. when the kernel has all the bytes. Both processes read the same clock. On
loopback the kernel takes a whole expert reply (about 180 kB) at once, so how fast the
experts stream is set by the app reading them: the streaming window is timed on the app
side, from the first ``expert_step`` to the last ``expert_result`` the service yields.

What the app side records (same clock), with one poll every 2 ms that looks at a few
widgets only (the 4 expert ``Static`` s of the team panel, the session's ``WorkState`` and the
last few children of the transcript):

- per expert: every change of the lines the panel *drew* for it (Textual's render cache of
  its ``Static.expert``) that shows words of its own stream, and the furthest word drawn;
- ``synthesis visible``: the synthesis' last word is in the drawn lines of the reply's live
  tail in the transcript, and one screen refresh has followed;
- ``result``: the session's ``WorkState`` has folded the turn's ``result`` event.

Targets:

- key presses during the run are handled within 100 ms: a thread presses a letter (a ``Key``
  event posted to the app with ``call_soon_threadsafe``, as Textual's input thread does)
  every 40 ms from the send until the result, timed until the letter is in the composer;
  median, p95 and worst are reported, and the same for the presses made while the experts
  streamed;
- all four experts' streams render in the team panel: each expert's ``Static`` drew words of
  its own stream while it ran, each ended ``done`` with its result in ``WorkState.results``,
  and the panel shows 4 results.

Also reported (no target): wall time from the send to the result, the time from the last
provider byte (the synthesis' last byte) to the synthesis visible, the time from the last
expert byte to the synthesis visible, and how much the 4 expert streams overlapped.

Each round opens a new session and lets the welcome be drawn before it sends, as a person
would. Every wait has a time limit, so a stuck run fails with where it stuck instead of hanging.
``--profile FILE`` runs the app side under cProfile and writes the stats to FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import math
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from _probe import KeyProbe, last_block_text, refreshed  # noqa: E402
from textual.widgets import Static  # noqa: E402

from app.config import Settings  # noqa: E402
from app.engine.events import Event  # noqa: E402
from app.engine.service import ChatService  # noqa: E402
from app.engine.skills import BUILTIN_SKILLS_DIR, load_skills  # noqa: E402
from app.engine.turn import Emit  # noqa: E402
from app.llm.gateway import Gateway  # noqa: E402
from app.store import SessionStore  # noqa: E402
from app.ui.app import AgentKitApp  # noqa: E402
from app.ui.widgets.composer import Composer  # noqa: E402
from app.ui.widgets.message_views import AssistantMessage  # noqa: E402
from app.wiring import build_service  # noqa: E402
from tests.fakes.provider import FakeProvider, Reply  # noqa: E402
from tests.fakes.scripts import openai_text_events  # noqa: E402

EXPERTS = 4
NAMES = ("Ada", "Boole", "Curie", "Dirac")
SYNTH_END = "zephyrsynthend"
KEY_TARGET_S = 0.1
POLL_S = 0.002
SETTLE_S = 0.2
#: Time limits: a server's port, the app's start-up, one whole round.
SERVER_LIMIT_S = 20.0
START_LIMIT_S = 30.0
ROUND_LIMIT_S = 120.0


def expert_parts(index: int, tokens: int) -> list[str]:
    """Expert ``index``'s reply: ``tokens`` words (``e{index}w0000`` …), 10 to a line."""
    parts = [f"e{index}w{i:04d}" + ("\n" if (i + 1) % 10 == 0 else " ") for i in range(tokens - 1)]
    return [*parts, f"e{index}end"]


def plan_json() -> str:
    """The lead's plan: one phase per expert, none depending on another."""
    phases = [
        {
            "id": f"p{index}",
            "title": f"Part {index}",
            "goal": f"write part {index} of the report",
            "expert": f"e{index}",
            "depends_on": [],
        }
        for index in range(1, EXPERTS + 1)
    ]
    return json.dumps({"phases": phases})


def synthesis_parts() -> list[str]:
    """The lead's final answer: a little Markdown ending with ``SYNTH_END``."""
    parts = ["## ", "Team ", "report\n\n"]
    for index in range(1, EXPERTS + 1):
        parts += ["- ", f"**{NAMES[index - 1]}** ", "wrote ", "part ", f"{index} ", "in full\n"]
    return [*parts, "\nAll ", "four ", "parts ", "are ", "done: ", SYNTH_END]


# ---------------------------------------------------------------------- the server processes


@dataclass
class KindReply(Reply):
    """A scripted reply that knows what it answers (plan, synthesis or expert)."""

    kind: str = ""


class TeamProvider(FakeProvider):
    """Answers every request at once (nothing to script ahead) and prints, per reply, when
    its last byte was handed to the kernel."""

    def __init__(self, role: str, tokens: int) -> None:
        super().__init__()
        self.role = role
        if role == "lead":
            self.plan = openai_text_events([plan_json()], usage=(200, 80))
            self.synthesis = openai_text_events(synthesis_parts(), usage=(900, 40))
        else:
            index = int(role.removeprefix("expert"))
            self.body = openai_text_events(expert_parts(index, tokens), usage=(300, tokens))

    def _take(self, path: str) -> Reply:
        if self.role != "lead":
            return KindReply(body=list(self.body), kind=self.role)
        system = str(self.requests[-1].json()["messages"][0].get("content", ""))
        if "Expert ids:" in system:
            return KindReply(body=list(self.plan), kind="plan")
        return KindReply(body=list(self.synthesis), kind="synthesis")

    async def _send(
        self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        first = time.time()
        finished = await super()._send(reply, reader, writer)
        while writer.transport.get_write_buffer_size():
            await asyncio.sleep(0.0002)
        size = sum(len(step) for step in reply.body if isinstance(step, bytes))
        kind = reply.kind if isinstance(reply, KindReply) else "?"
        line = {"kind": kind, "first": first, "last": time.time(), "bytes": size}
        print(json.dumps(line), flush=True)
        return finished


async def serve(role: str, tokens: int) -> None:
    """Serve forever; print the port first."""
    fake = TeamProvider(role, tokens)
    await fake.start()
    print(fake.port, flush=True)
    await asyncio.Event().wait()


# ---------------------------------------------------------------------- the app side


class TimedService(ChatService):
    """The real service, timestamping some of the events it yields."""

    marks: dict[str, Any]

    async def run_turn(self, *args: Any, emit: Emit, **kwargs: Any) -> None:
        """The real turn (the live-turn hub runs turns this way), each event timed first."""

        async def timed(event: Event) -> None:
            self.mark(event)
            await emit(event)

        await super().run_turn(*args, emit=timed, **kwargs)

    def mark(self, event: Event) -> None:
        """Note when the engine emitted the events the benchmark times."""
        now = time.time()
        if event.type == "team_formed":
            self.marks["engine_formed"] = now
        elif event.type == "expert_step":
            self.marks.setdefault("engine_steps", {}).setdefault(event.data.expert_id, now)
        elif event.type == "expert_result":
            self.marks.setdefault("engine_results", {})[event.data.expert_id] = now
        elif event.type == "token":
            self.marks.setdefault("engine_first_token", now)
        elif event.type == "final_answer":
            self.marks["engine_final"] = now


def drawn(widget: Static) -> str:
    """The lines Textual last rendered for ``widget`` ('' until the next frame after a
    change); reading the render cache never renders anything itself."""
    cache = getattr(widget, "_render_cache", None)
    lines = cache.lines if cache is not None else []
    return "\n".join(strip.text for strip in lines)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


@dataclass
class ExpertSeen:
    """What the panel drew for one expert."""

    updates: list[tuple[float, int]] = field(default_factory=list)  # (time, furthest word)
    last_text: str = ""

    @property
    def furthest(self) -> int:
        return max((word for _, word in self.updates), default=-1)


def furthest_word(text: str, index: int, tokens: int) -> int:
    """The furthest word of expert ``index``'s stream in ``text`` (-1: none)."""
    if f"e{index}end" in text:
        return tokens - 1
    words = [int(found) for found in re.findall(rf"e{index}w(\d{{4}})", text)]
    return max(words, default=-1)


class Stuck(Exception):
    """A round did not reach a stage in time."""


async def one_round(
    app: AgentKitApp,
    service: TimedService,
    servers: dict[str, asyncio.subprocess.Process],
    tokens: int,
) -> dict[str, Any]:
    """Send one ``/team`` message; time the panel, the synthesis and the key presses."""
    stage = "opening a new session"
    probe = KeyProbe(app, track_paint=False)
    keys: asyncio.Future[None] | None = None
    try:
        async with asyncio.timeout(ROUND_LIMIT_S):
            await app.conversation.show_new_session()
            # As a person would: the welcome is on screen before the message goes.
            await refreshed(app)
            await asyncio.sleep(SETTLE_S)
            await refreshed(app)
            service.marks = {}
            stage = "sending"
            sent, cpu_at_send = time.time(), time.process_time()
            await app.conversation.send("/team write the four-part report")
            assert app.current is not None
            session_id = app.current.id
            keys = asyncio.ensure_future(probe.run())
            stage = "waiting for the team (the lead's plan)"
            while (state := app.sessions.get(session_id).work) is None or state.kind != "team":
                await asyncio.sleep(POLL_S)
            formed = time.time()
            stage = "waiting for the panel's expert views"
            views: list[Static] = []
            while len(views) < EXPERTS:
                await asyncio.sleep(POLL_S)
                views = list(app.panel.query("#work-experts > .expert").results(Static))
            seen = [ExpertSeen() for _ in views]
            stage = "waiting for the synthesis"
            message: AssistantMessage | None = None
            visible = 0.0
            result = 0.0
            while not result:
                for index, (view, expert) in enumerate(zip(views, seen, strict=True), 1):
                    text = drawn(view)
                    if text and text != expert.last_text:
                        expert.last_text = text
                        word = furthest_word(text, index, tokens)
                        if word >= 0:
                            expert.updates.append((time.time(), word))
                if message is None:
                    for child in list(app.transcript.children)[-4:]:
                        if isinstance(child, AssistantMessage):
                            message = child
                elif not visible and SYNTH_END in last_block_text(message):
                    visible = await refreshed(app)
                    stage = "waiting for the result"
                if state.finished:
                    result, cpu = time.time(), time.process_time() - cpu_at_send
                    if state.outcome != "completed":
                        raise Stuck(f"the turn ended {state.outcome or 'without a status'}")
                    break
                await asyncio.sleep(POLL_S)
            probe.stop.set()
            stage = "waiting for the synthesis to be drawn"
            while message is None or SYNTH_END not in message.text:
                await asyncio.sleep(POLL_S)
                message = next(
                    (c for c in app.transcript.children if isinstance(c, AssistantMessage)), None
                )
            if not visible:  # the result came before the poll saw the tail drawn
                while SYNTH_END not in last_block_text(message) and message.status == "streaming":
                    await asyncio.sleep(POLL_S)
                visible = await refreshed(app)
            stage = "waiting for the key presses to arrive"
            await keys
            stage = "waiting for the turn to end"
            while app.turns.live:
                await asyncio.sleep(POLL_S)
            await refreshed(app)
            panel_results = len(app.panel.query("#work-results > .work-result"))
            stage = "reading the servers' times"
            served: dict[str, list[dict[str, Any]]] = {}
            for role, server in servers.items():
                assert server.stdout is not None
                with contextlib.suppress(TimeoutError):
                    while True:
                        line = await asyncio.wait_for(server.stdout.readline(), 0.3)
                        served.setdefault(role, []).append(json.loads(line))
    except TimeoutError:
        raise Stuck(f"stuck {stage} after {ROUND_LIMIT_S:.0f} s") from None
    finally:
        probe.stop.set()
        if keys is not None and not keys.done():
            keys.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keys
    return {
        "sent": sent,
        "formed": formed,
        "visible": visible,
        "result": result,
        "cpu": cpu,
        "served": served,
        "seen": seen,
        "state": state,
        "panel_results": panel_results,
        "keys_handled": probe.handled,
        "keys_pressed_at": probe.pressed_at,
        **service.marks,
    }


def round_report(number: int, r: dict[str, Any], tokens: int) -> dict[str, Any]:
    """Print one round; return its numbers for the summary."""
    sent = r["sent"]
    experts = [r["served"][f"expert{i}"][-1] for i in range(1, EXPERTS + 1)]
    lead = {line["kind"]: line for line in r["served"].get("lead", [])}
    last_byte = max(line["last"] for lines in r["served"].values() for line in lines)
    expert_last = max(line["last"] for line in experts)
    # The kernel takes a whole reply at once: the app's reading is the streaming.
    steps, handed = r["engine_steps"], r["engine_results"]
    streaming_from, streaming_to = min(steps.values()), max(handed.values())
    overlap = min(handed.values()) - max(steps.values())
    state = r["state"]
    ids = [f"e{i}" for i in range(1, EXPERTS + 1)]
    rendered = all(seen.updates for seen in r["seen"])
    done = all(state.experts[i].status == "done" for i in ids)
    results_ok = sorted(e for e, res in state.results if res.status == "done") == ids
    streams_ok = rendered and done and results_ok and r["panel_results"] == EXPERTS
    presses = list(zip(r["keys_pressed_at"], r["keys_handled"], strict=False))
    windows = {
        "planning": [lag for at, lag in presses if at < streaming_from],
        "experts": [lag for at, lag in presses if streaming_from <= at <= streaming_to],
        "synthesis": [lag for at, lag in presses if at > streaming_to],
    }
    print(
        f"  round {number}: send -> result {r['result'] - sent:.3f} (CPU {r['cpu']:.3f}); "
        f"lead plan served "
        f"+{lead['plan']['last'] - sent:.3f}, team in panel +{r['formed'] - sent:.3f}; "
        f"experts streamed in the app +{streaming_from - sent:.3f} .. "
        f"+{streaming_to - sent:.3f} (all 4 at once for {max(0.0, overlap):.3f} s; servers "
        f"sent their last bytes by +{expert_last - sent:.3f})"
    )
    print(
        f"           last expert_result -> synthesis requested "
        f"+{lead['synthesis']['first'] - streaming_to:.3f}, -> synthesis visible "
        f"+{r['visible'] - streaming_to:.3f}; last provider byte (synthesis) -> engine done "
        f"+{r['engine_final'] - last_byte:.3f}, -> synthesis visible "
        f"+{r['visible'] - last_byte:.3f}"
    )
    panel = "; ".join(
        f"{NAMES[i]} {len(seen.updates)}x, to word {seen.furthest + 1}"
        for i, seen in enumerate(r["seen"])
    )
    print(
        f"           panel drew: {panel}; results {r['panel_results']}/{EXPERTS} "
        f"{'ok' if streams_ok else 'MISSING'}"
    )
    keys = r["keys_handled"] or [math.nan]
    slow = [f"+{at - sent:.2f} {lag * 1000:.0f} ms" for at, lag in presses if lag > KEY_TARGET_S]
    by_window = ", ".join(
        f"{name} {len(lags)} worst {max(lags) * 1000:.0f} ms"
        for name, lags in windows.items()
        if lags
    )
    print(
        f"           keys: {len(keys)} presses, median {statistics.median(keys) * 1000:.0f} ms"
        f" ({by_window}); over 100 ms: {', '.join(slow[:8]) or 'none'}"
    )
    return {
        "wall": r["result"] - sent,
        "cpu": r["cpu"],
        "synthesis_lag": r["visible"] - last_byte,
        "expert_to_synthesis": r["visible"] - streaming_to,
        "streams_ok": streams_ok,
        "keys": r["keys_handled"],
        "streaming_keys": windows["experts"],
    }


def key_line(label: str, values: list[float]) -> str:
    if not values:
        return f"{label}: no presses"
    return (
        f"{label} ({len(values)} presses): median {statistics.median(values) * 1000:.0f} ms, "
        f"p95 {percentile(values, 0.95) * 1000:.0f} ms, worst {max(values) * 1000:.0f} ms"
    )


async def start_server(role: str, tokens: int) -> tuple[asyncio.subprocess.Process, int]:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        role,
        "--tokens",
        str(tokens),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None
    try:
        port = int(await asyncio.wait_for(server.stdout.readline(), SERVER_LIMIT_S))
    except (TimeoutError, ValueError):
        server.terminate()
        raise Stuck(f"the {role} server did not start") from None
    return server, port


async def measure(tokens: int, rounds: int) -> bool:
    """Start the servers, run the app, print per round and a summary."""
    servers: dict[str, asyncio.subprocess.Process] = {}
    folder = tempfile.TemporaryDirectory(prefix="agentkit-bench-team-")
    base = Path(folder.name)
    (base / "workspace").mkdir()
    store: SessionStore | None = None
    gateway: Gateway | None = None
    results: list[dict[str, Any]] = []
    try:
        ports = {}
        for role in ["lead", *(f"expert{i}" for i in range(1, EXPERTS + 1))]:
            servers[role], ports[role] = await start_server(role, tokens)
        providers = {
            name: {
                "kind": "openai",
                "base_url": f"http://127.0.0.1:{ports[role]}",
                "models": ["m"],
                "max_retries": 0,
            }
            for name, role in [("lead", "lead")]
            + [(f"fake{i}", f"expert{i}") for i in range(1, EXPERTS + 1)]
        }
        team = {
            "description": "four writers",
            "experts": [
                {
                    "id": f"e{i}",
                    "name": NAMES[i - 1],
                    "role": f"You write part {i}.",
                    "model": f"fake{i}/m",
                }
                for i in range(1, EXPERTS + 1)
            ],
        }
        settings = Settings.model_validate(
            {
                "ui": {"theme": "textual-dark"},
                "default_model": "lead/m",
                "providers": providers,
                "teams": {"default": team},
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
        app = AgentKitApp(
            settings=settings,
            store=store,
            service=service,
            default_model=(await gateway.resolve(None)).name,
            export_dir=base,
        )
        async with app.run_test(size=(140, 45)):
            try:
                async with asyncio.timeout(START_LIMIT_S):
                    while not (len(app.screen_stack) > 1 and isinstance(app.focused, Composer)):
                        await asyncio.sleep(0.001)
                    await refreshed(app)  # the app has finished starting up
            except TimeoutError:
                raise Stuck("the app did not start") from None
            await one_round(app, service, servers, tokens)  # warm-up: imports, first parses
            for _ in range(rounds):
                results.append(await one_round(app, service, servers, tokens))
    except Stuck as exc:
        print(f"FAIL: {exc}")
        return False
    finally:
        for server in servers.values():
            server.terminate()
            await server.wait()
        if gateway is not None:
            await gateway.aclose()
        if store is not None:
            await store.close()
        folder.cleanup()

    print(
        f"team of {EXPERTS} experts, {tokens:,} tokens each "
        f"({results[0]['served']['expert1'][-1]['bytes'] / 1e3:.0f} kB of SSE each), "
        f"5 servers in their own processes; headless 140x45; times in seconds"
    )
    numbers = [round_report(number, r, tokens) for number, r in enumerate(results, 1)]
    walls = [n["wall"] for n in numbers]
    cpus = [n["cpu"] for n in numbers]
    lags = [n["synthesis_lag"] for n in numbers]
    after_experts = [n["expert_to_synthesis"] for n in numbers]
    print(
        f"send -> result: median {statistics.median(walls):.3f} s, worst {max(walls):.3f} s "
        f"(app process CPU meanwhile: median {statistics.median(cpus):.3f} s, polling included); "
        f"last provider byte -> synthesis visible: median {statistics.median(lags):.3f} s, "
        f"worst {max(lags):.3f} s; last expert result -> synthesis visible: median "
        f"{statistics.median(after_experts):.3f} s"
    )
    ok_streams = all(n["streams_ok"] for n in numbers)
    print(
        f"all {EXPERTS} experts' streams drawn in the team panel, each done with its result "
        f"({len(numbers)} rounds)   {'PASS' if ok_streams else 'SLOW'}"
    )
    keys = [lag for n in numbers for lag in n["keys"]]
    streaming = [lag for n in numbers for lag in n["streaming_keys"]]
    ok_keys = bool(keys) and max(keys) <= KEY_TARGET_S
    print(
        key_line("key press -> in the composer, whole run", keys)
        + f"   target <= 100 ms  {'PASS' if ok_keys else 'SLOW'}"
    )
    print("  " + key_line("of which while the experts streamed", streaming))
    return ok_streams and ok_keys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000, help="tokens per expert")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", metavar="FILE", help="write cProfile stats of the app side")
    parser.add_argument("--serve", metavar="ROLE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.tokens))
        return 0
    if args.profile:
        profiler = cProfile.Profile()
        ok = profiler.runcall(asyncio.run, measure(args.tokens, args.rounds))
        profiler.dump_stats(args.profile)
    else:
        ok = asyncio.run(measure(args.tokens, args.rounds))
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
