"""A separate process that writes to a store, for the crash and multi-process tests.

Usage: python writer_process.py DB SESSION MODE [COUNT]
  append    append COUNT (or endless) user messages, printing each seq once committed
  streaming start a streaming assistant reply, save a partial text, print "ready", sleep
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from app.store import SessionStore


async def main(db: str, session_id: str, mode: str, count: int | None) -> None:
    store = await SessionStore.open(Path(db))
    if mode == "append":
        number = 0
        while count is None or number < count:
            number += 1
            message = await store.append_message(session_id, "user", f"{mode} {number}")
            print(f"{message.seq} {message.content}", flush=True)
    elif mode == "streaming":
        reply = await store.append_message(session_id, "assistant", "", status="streaming")
        await store.update_message(reply.id, content="The answer is forty")
        print(f"ready {reply.id}", flush=True)
        await asyncio.sleep(3600)
    await store.close()


if __name__ == "__main__":
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], limit))
