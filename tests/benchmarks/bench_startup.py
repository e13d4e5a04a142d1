"""Benchmark: start-up to an interactive composer with 1,000 sessions (not collected by pytest).

    python tests/benchmarks/bench_startup.py [--runs N] [--sessions N] [--no-tmux]

Prepares an ``AGENTKIT_HOME`` whose database holds 1,000 sessions of 10 messages each
(bulk-filled with raw sqlite3 through the real schema and triggers), then times two ways:

(a) headless: a fresh ``python -c`` process runs ``agentkit tui`` through ``app.cli.main``
    (settings, store, and the engine started after the first frame, exactly as ``cmd_tui``
    does) with ``AgentKitApp.run_async`` swapped for ``run_test`` (no terminal). Interactive
    means: the composer has focus, the sidebar lists sessions, the newest session is shown,
    and one refresh has followed. Measured from just before the spawn (parent clock); the
    child also reports where the time went, and when the engine was up (a message sent
    before then is shown and sent once it is), and the process's CPU time at both (ratios
    of CPU time are printed too: they move less when other work shares the machine). The
    child pauses the cyclic collector before its first import, as ``app.cli.main`` does.
(b) real terminal: ``agentkit tui`` in a detached 140x45 tmux session on a private tmux
    socket; ``tmux capture-pane -p`` is polled until the status line says ``idle`` and the
    sidebar shows its session count, then until the status line names the model (engine
    up). Measured from ``tmux new-session`` to those captures (polling adds up to one
    capture, about 2-5 ms). The tmux server is killed afterwards.

Each run of the app is paired with a run of a one-widget Textual hello-world started the same
way (headless: the same ``python -c`` child shape, timed to its first refresh; tmux: the same
new-session, polled until its text shows), runs interleaved, so the machine's load is shared.
Targets (issue #19): launch -> first usable frame <= 1.5x the hello-world, engine up <= 2x
(medians of the per-pair ratios); and interactive <= 0.8 s. Both runs use the demo model
(no API keys; ``OLLAMA_HOST`` points at a closed port, so the Ollama probe is refused at once,
as on a machine without Ollama).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from _fill import add_messages, add_sessions, bulk, sentence  # noqa: E402

TARGET_S = 0.8
SIZE = (140, 45)
MESSAGES_PER_SESSION = 10
# The child: ``agentkit tui`` with run_async replaced by a headless run that reports and quits.
CHILD = """
import sys, time
spawned = float(sys.argv[1]); began = time.time()
import gc
gc.disable()  # as app.cli.main does before its first import (the app turns it back on)
import asyncio, json
from app import cli
from app.ui.app import AgentKitApp
from app.ui.widgets.composer import Composer
from textual.widgets import OptionList
imported = time.time()
marks = {}

def ready(app):
    if len(app.screen_stack) < 2 or app.current is None:
        return False
    return (
        isinstance(app.focused, Composer)
        and app.sidebar.query_one(OptionList).option_count > 0
        and len(app.transcript.children) > 0
    )

async def headless(self, **_ignored):
    marks["assembled"] = time.time()
    async with self.run_test(size=(%d, %d)) as pilot:
        while not ready(self):
            await asyncio.sleep(0.001)
        marks["ready"] = time.time()
        painted = asyncio.Event()
        self.call_after_refresh(painted.set)
        await painted.wait()
        marks["painted"], marks["cpu_painted"] = time.time(), time.process_time()
        await self.engine_started()
        marks["engine"], marks["cpu_engine"] = time.time(), time.process_time()
        print(json.dumps({
            "spawned": spawned, "began": began, "imported": imported, **marks,
            "options": self.sidebar.query_one(OptionList).option_count,
        }), flush=True)
        self.exit()

AgentKitApp.run_async = headless
sys.exit(cli.main(["tui"]))
"""
# The hello-world: one widget, timed the same way (spawn -> imports -> first refresh).
HELLO_CHILD = """
import sys, time
spawned = float(sys.argv[1]); began = time.time()
import asyncio, json
from textual.app import App
from textual.widgets import Static
imported = time.time()

class Hello(App):
    def compose(self):
        yield Static("hello world")

async def main():
    app = Hello()
    assembled = time.time()
    async with app.run_test(size=(%d, %d)):
        painted = asyncio.Event()
        app.call_after_refresh(painted.set)
        await painted.wait()
        print(json.dumps({"spawned": spawned, "began": began, "imported": imported,
                          "assembled": assembled, "painted": time.time(),
                          "cpu_painted": time.process_time()}), flush=True)
        app.exit()

asyncio.run(main())
"""
HELLO_SCRIPT = """
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("hello world")

Hello().run()
"""
RATIO_TARGET = 1.5
ENGINE_RATIO_TARGET = 2.0


def populate(db_file: Path, sessions: int) -> None:
    """Make the schema through the real store, then bulk-insert sessions and messages."""
    rng = random.Random(11)
    now = datetime.now(UTC)
    with bulk(db_file) as raw:
        for number in range(sessions):
            session_id = uuid.UUID(int=rng.getrandbits(128)).hex
            # Spread over the last ~3 weeks so every recency group shows up.
            stamp = (now - timedelta(minutes=30 * (sessions - number))).isoformat(
                timespec="microseconds"
            )
            add_sessions(raw, [(session_id, stamp)])
            rows = []
            for seq in range(1, MESSAGES_PER_SESSION + 1):
                role = "user" if seq % 2 else "assistant"
                text = sentence(rng, 10 if role == "user" else 60)
                if role == "assistant" and seq % 4 == 0:
                    text += "\n\n- one point\n- another point\n\n```python\nprint('hello')\n```\n"
                rows.append((session_id, seq, role, text, stamp))
            add_messages(raw, rows)


def child_env(home: Path) -> dict[str, str]:
    """The environment of the app under test: its own home, the demo model, no keys, and
    byte-code caching on (as on a user's machine: pip compiles an installed package; this
    sandbox sets PYTHONDONTWRITEBYTECODE, which would recompile every module of the app from
    source on each start, ~0.2 s). The cache goes to a private folder, not the repository."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AGENTKIT_")
        and not key.endswith("_API_KEY")
        and key != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        AGENTKIT_HOME=str(home),
        OLLAMA_HOST="127.0.0.1:9",
        PYTHONPATH=str(ROOT),
        PYTHONPYCACHEPREFIX=str(home / "pycache"),
    )
    return env


def headless_run(home: Path, workspace: Path, child: str = CHILD) -> dict[str, float]:
    """One fresh process; returns the child's time marks (seconds since the epoch)."""
    spawned = time.time()
    done = subprocess.run(
        [sys.executable, "-c", child % SIZE, repr(spawned)],
        cwd=workspace,
        env=child_env(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"headless child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    marks: dict[str, float] = json.loads(lines[-1])
    return marks


def tmux_hello(home: Path, workspace: Path, socket: str) -> float:
    """Seconds from ``tmux new-session`` until the hello-world's text shows."""
    script = home.parent / "hello.py"
    script.write_text(HELLO_SCRIPT)
    env = child_env(home)
    tmux = ["tmux", "-S", socket]
    began = time.perf_counter()
    subprocess.run(
        [
            *tmux,
            "new-session",
            "-d",
            "-s",
            "hello",
            "-x",
            str(SIZE[0]),
            "-y",
            str(SIZE[1]),
            "-c",
            str(workspace),
            f"-ePYTHONPYCACHEPREFIX={env['PYTHONPYCACHEPREFIX']}",
            f"{sys.executable} {script}",
        ],
        env=env,
        check=True,
    )
    try:
        while time.perf_counter() < began + 30:
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", "hello"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if "hello world" in screen:
                return time.perf_counter() - began
        raise RuntimeError("the hello-world did not come up in tmux")
    finally:
        subprocess.run([*tmux, "kill-session", "-t", "hello"], check=False)


def tmux_run(home: Path, workspace: Path, socket: str) -> tuple[float, float, float]:
    """Seconds from ``tmux new-session`` until ``idle``, the sidebar count, and the model show."""
    agentkit = Path(sys.executable).with_name("agentkit")
    env = child_env(home)
    tmux = ["tmux", "-S", socket]
    passed = ("AGENTKIT_HOME", "OLLAMA_HOST", "PYTHONPATH", "PYTHONPYCACHEPREFIX")
    flags = [f"-e{key}={env[key]}" for key in passed]
    began = time.perf_counter()
    subprocess.run(
        [
            *tmux,
            "new-session",
            "-d",
            "-s",
            "bench",
            "-x",
            str(SIZE[0]),
            "-y",
            str(SIZE[1]),
            "-c",
            str(workspace),
            *flags,
            f"{agentkit} tui",
        ],
        env=env,
        check=True,
    )
    idle_at = listed_at = engine_at = None
    deadline = began + 30
    try:
        while time.perf_counter() < deadline and engine_at is None:
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", "bench"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            seen = time.perf_counter() - began
            if idle_at is None and "idle" in screen:
                idle_at = seen
            if listed_at is None and "sessions+" in screen and "idle" in screen:
                listed_at = seen
            if listed_at is not None and "model demo" in screen:
                engine_at = seen
        if idle_at is None or listed_at is None or engine_at is None:
            raise RuntimeError(f"the app did not come up in tmux; last screen:\n{screen}")
    finally:
        subprocess.run([*tmux, "kill-session", "-t", "bench"], check=False)
    return idle_at, listed_at, engine_at


def verdict(seconds: float) -> str:
    """ok or SLOW against the target."""
    return "ok" if seconds <= TARGET_S else "SLOW"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each kind (default 5)")
    parser.add_argument("--sessions", type=int, default=1_000)
    parser.add_argument("--no-tmux", action="store_true", help="skip the real-terminal runs")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="agentkit-bench-startup-"))
    home, workspace = folder / "home", folder / "workspace"
    home.mkdir()
    workspace.mkdir()
    ok = True
    try:
        began = time.perf_counter()
        populate(home / "agentkit.db", args.sessions)
        print(
            f"database: {args.sessions:,} sessions x {MESSAGES_PER_SESSION} messages "
            f"(built in {time.perf_counter() - began:.1f} s); terminal {SIZE[0]}x{SIZE[1]}"
        )
        headless_run(home, workspace)  # warm the OS file cache and .pyc files once

        print("\n(a) headless (run_test), fresh process each run, seconds from spawn:")
        totals, ratios, engine_ratios, cpu_ratios, cpu_engine_ratios = [], [], [], [], []
        for number in range(args.runs):
            hello = headless_run(home, workspace, HELLO_CHILD)
            hello_total = hello["painted"] - hello["spawned"]
            marks = headless_run(home, workspace)
            total = marks["painted"] - marks["spawned"]
            totals.append(total)
            ratios.append(total / hello_total)
            engine_ratios.append((marks["engine"] - marks["spawned"]) / hello_total)
            cpu_ratios.append(marks["cpu_painted"] / hello["cpu_painted"])
            cpu_engine_ratios.append(marks["cpu_engine"] / hello["cpu_painted"])
            print(
                f"  run {number + 1}: {total:.3f}  = interpreter "
                f"{marks['began'] - marks['spawned']:.3f} + imports "
                f"{marks['imported'] - marks['began']:.3f} + cli/store/gateway "
                f"{marks['assembled'] - marks['imported']:.3f} + mount to ready "
                f"{marks['ready'] - marks['assembled']:.3f} + refresh "
                f"{marks['painted'] - marks['ready']:.3f}   ({marks['options']:.0f} sidebar rows)"
                f"; engine up at {marks['engine'] - marks['spawned']:.3f}; hello-world "
                f"{hello_total:.3f} (imports {hello['imported'] - hello['began']:.3f})"
                f" -> {ratios[-1]:.2f}x, engine {engine_ratios[-1]:.2f}x; CPU "
                f"{marks['cpu_painted']:.3f} vs {hello['cpu_painted']:.3f} -> {cpu_ratios[-1]:.2f}x"
            )
        median = statistics.median(totals)
        ratio, engine_ratio = statistics.median(ratios), statistics.median(engine_ratios)
        ok &= median <= TARGET_S and ratio <= RATIO_TARGET and engine_ratio <= ENGINE_RATIO_TARGET
        print(
            f"  median {median:.3f} s, best {min(totals):.3f} s"
            f"   target <= 0.8 s  {verdict(median)}\n"
            f"  first usable frame / hello-world: median {ratio:.2f}x   target <= 1.5x  "
            f"{'ok' if ratio <= RATIO_TARGET else 'SLOW'}; engine up / hello-world: median "
            f"{engine_ratio:.2f}x   target <= 2x  "
            f"{'ok' if engine_ratio <= ENGINE_RATIO_TARGET else 'SLOW'}\n"
            f"  the same in CPU time (less sensitive to a busy machine): first frame median "
            f"{statistics.median(cpu_ratios):.2f}x, engine up "
            f"{statistics.median(cpu_engine_ratios):.2f}x"
        )

        if args.no_tmux or shutil.which("tmux") is None:
            print("\n(b) tmux: skipped")
        else:
            socket = str(folder / "tmux.sock")  # a private server, removed with the folder
            print(
                f"\n(b) real terminal: tmux {SIZE[0]}x{SIZE[1]}, `agentkit tui`, "
                "seconds from start:"
            )
            idles, listed, engines, tmux_ratios, tmux_engine_ratios = [], [], [], [], []
            # A session that outlives the runs: the server would exit with each run's last
            # session, and the next run's new-session could race its shutdown.
            keeper = ["tmux", "-S", socket, "new-session", "-d", "-s", "keep", "sleep 3600"]
            subprocess.run(keeper, check=True)
            try:
                for number in range(args.runs):
                    hello_at = tmux_hello(home, workspace, socket)
                    idle_at, listed_at, engine_at = tmux_run(home, workspace, socket)
                    idles.append(idle_at)
                    listed.append(listed_at)
                    engines.append(engine_at)
                    tmux_ratios.append(listed_at / hello_at)
                    tmux_engine_ratios.append(engine_at / hello_at)
                    print(
                        f"  run {number + 1}: status 'idle' {idle_at:.3f}, "
                        f"sidebar filled {listed_at:.3f}, engine up {engine_at:.3f}; "
                        f"hello-world {hello_at:.3f} -> {tmux_ratios[-1]:.2f}x, "
                        f"engine {tmux_engine_ratios[-1]:.2f}x"
                    )
            finally:
                subprocess.run(
                    ["tmux", "-S", socket, "kill-server"], check=False, capture_output=True
                )
            median = statistics.median(listed)
            ratio = statistics.median(tmux_ratios)
            engine_ratio = statistics.median(tmux_engine_ratios)
            ok &= median <= TARGET_S and ratio <= RATIO_TARGET
            ok &= engine_ratio <= ENGINE_RATIO_TARGET
            print(
                f"  median: 'idle' {statistics.median(idles):.3f} s, sidebar filled "
                f"{median:.3f} s   target <= 0.8 s  {verdict(median)}; engine up "
                f"{statistics.median(engines):.3f} s\n"
                f"  first usable frame / hello-world: median {ratio:.2f}x   target <= 1.5x  "
                f"{'ok' if ratio <= RATIO_TARGET else 'SLOW'}; engine up / hello-world: "
                f"median {engine_ratio:.2f}x   target <= 2x  "
                f"{'ok' if engine_ratio <= ENGINE_RATIO_TARGET else 'SLOW'}"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("\nall targets met" if ok else "\nsome targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
