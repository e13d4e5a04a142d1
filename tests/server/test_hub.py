"""A connection's outgoing queue: order kept, waiting tokens of one turn merged, a client
too far behind let go."""

from __future__ import annotations

import json

from app.server.hub import Subscriber, encode


async def drain(subscriber: Subscriber) -> list[dict[str, object]]:
    subscriber.end()
    out = []
    while (text := await subscriber.next()) is not None:
        out.append(json.loads(text))
    return out


async def test_waiting_tokens_of_one_turn_are_merged_in_order() -> None:
    subscriber = Subscriber(on_overflow=lambda: None)
    first, second = object(), object()
    subscriber.put('{"type":"connected","session_id":"s"}')
    subscriber.put_token(first, "a")
    subscriber.put_token(first, "b")
    subscriber.put_token(second, "X")  # another turn: its own message
    subscriber.put_token(first, "c")
    subscriber.put('{"type":"pong"}')
    subscriber.put_token(first, "d")
    assert await drain(subscriber) == [
        {"type": "connected", "session_id": "s"},
        {"type": "token", "content": "ab"},
        {"type": "token", "content": "X"},
        {"type": "token", "content": "c"},
        {"type": "pong"},
        {"type": "token", "content": "d"},
    ]
    assert await subscriber.next() is None  # stays ended


async def test_a_token_taken_by_the_sender_is_not_merged_with_later_ones() -> None:
    subscriber = Subscriber(on_overflow=lambda: None)
    turn = object()
    subscriber.put_token(turn, "one ")
    assert json.loads(await subscriber.next() or "") == {"type": "token", "content": "one "}
    subscriber.put_token(turn, "two")
    assert await drain(subscriber) == [{"type": "token", "content": "two"}]


async def test_a_client_too_far_behind_is_let_go() -> None:
    dropped: list[bool] = []
    subscriber = Subscriber(on_overflow=lambda: dropped.append(True), max_chars=10)
    turn = object()
    subscriber.put_token(turn, "12345")
    subscriber.put_token(turn, "678")
    assert not dropped
    subscriber.put_token(turn, "90ab")
    subscriber.put('{"type":"pong"}')
    assert dropped == [True] and subscriber.overflowed
    assert await drain(subscriber) == [{"type": "token", "content": "12345678"}]


def test_tokens_encode_as_the_wire_shape() -> None:
    from app.engine.events import TokenEvent, to_wire

    event = TokenEvent(content='quote " and é and \\n')
    assert json.loads(encode(event)) == to_wire(event)
