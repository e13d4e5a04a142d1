"""Property tests of the stream decoders: wherever the network cuts a body, even inside a
multi-byte UTF-8 character or between the two halves of a UTF-16 surrogate pair, the text
that comes out is the text of the body read in one piece."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.llm.anthropic import AnthropicDecoder
from app.llm.errors import LLMError
from app.llm.ollama import OllamaDecoder
from app.llm.openai_chat import OpenAIDecoder
from app.llm.surrogates import ChunkCleaner, SurrogateJoiner, fix_surrogates
from app.llm.transport import Decoder
from app.llm.types import Chunk, FinishChunk, TextDelta, ThinkingDelta

Encode = Callable[[Any], bytes]

# Letters of every UTF-8 length (1–4 bytes), control characters, and surrogate halves.
WIDE = st.sampled_from(["a", "é", "€", "\U0001f600", "\U0001f9d1", "\n", '"', "\\"])
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
ANY_CHAR = st.one_of(st.characters(), WIDE, SURROGATE, st.sampled_from(["\ud83d", "\ude00"]))
# Parts are joined from drawn characters: ``st.text`` would leave surrogates out.
PARTS = st.lists(st.lists(ANY_CHAR, max_size=6).map("".join), min_size=1, max_size=12)
PARTS_WITHOUT_SURROGATES = st.lists(
    st.text(st.one_of(st.characters(exclude_categories=["Cs"]), WIDE), max_size=6),
    min_size=1,
    max_size=12,
)
CUTS = st.lists(st.floats(min_value=0, max_value=1), max_size=30)


def _json(escaped: bool) -> Encode:
    def encode(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=escaped, separators=(",", ":")).encode()

    return encode


def openai_body(parts: list[str], encode: Encode) -> bytes:
    events = [
        {"choices": [{"index": 0, "delta": {"content": part}, "finish_reason": None}]}
        for part in parts
    ]
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return b"".join(b"data: " + encode(e) + b"\n\n" for e in events) + b"data: [DONE]\n\n"


def anthropic_body(parts: list[str], encode: Encode) -> bytes:
    def delta(index: int, kind: str, key: str, text: str) -> tuple[str, dict[str, Any]]:
        return ("content_block_delta", {"index": index, "delta": {"type": kind, key: text}})

    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"message": {"usage": {"input_tokens": 1}}}),
        ("content_block_start", {"index": 0, "content_block": {"type": "thinking"}}),
        *[
            (
                "content_block_delta",
                {"index": 0, "delta": {"type": "thinking_delta", "thinking": t}},
            )
            for t in parts
        ],
        ("content_block_stop", {"index": 0}),
        ("content_block_start", {"index": 1, "content_block": {"type": "text", "text": ""}}),
        *[delta(1, "text_delta", "text", part) for part in parts],
        ("content_block_stop", {"index": 1}),
        ("message_delta", {"delta": {"stop_reason": "end_turn"}}),
        ("message_stop", {}),
    ]
    return b"".join(
        b"event: " + name.encode() + b"\ndata: " + encode({"type": name, **data}) + b"\n\n"
        for name, data in events
    )


def ollama_body(parts: list[str], encode: Encode) -> bytes:
    lines = [encode({"message": {"role": "assistant", "content": p}, "done": False}) for p in parts]
    lines.append(encode({"message": {"content": ""}, "done": True, "done_reason": "stop"}))
    return b"\n".join(lines) + b"\n"


DECODERS: dict[str, tuple[Callable[[], Decoder], Callable[[list[str], Encode], bytes]]] = {
    "openai": (lambda: OpenAIDecoder("fake", "fake/m"), openai_body),
    "anthropic": (lambda: AnthropicDecoder("fake", "fake/m"), anthropic_body),
    "ollama": (lambda: OllamaDecoder("fake", "fake/m"), ollama_body),
}


def pieces(body: bytes, cuts: list[float]) -> list[bytes]:
    """``body`` cut at the given fractions of its length (any byte, any number of times)."""
    points = sorted({int(fraction * len(body)) for fraction in cuts})
    edges = [0, *points, len(body)]
    return [body[start:end] for start, end in itertools.pairwise(edges)]


def decode(kind: str, chunks_of_body: list[bytes]) -> tuple[str, str]:
    """Answer and thinking text, as the gateway passes them on (through the cleaner)."""
    make, _build = DECODERS[kind]
    decoder = make()
    cleaner = ChunkCleaner()
    out: list[Chunk] = []
    for piece in chunks_of_body:
        for chunk in decoder.feed(piece):
            out += cleaner.clean(chunk)
        assert decoder.error is None
    for chunk in decoder.close():
        out += cleaner.clean(chunk)
    out += cleaner.flush()
    assert isinstance(out[-1], FinishChunk)
    text = "".join(c.text for c in out if isinstance(c, TextDelta))
    thinking = "".join(c.text for c in out if isinstance(c, ThinkingDelta))
    for value in (text, thinking):
        value.encode("utf-8")  # never raises: every surrogate is paired or replaced
    return text, thinking


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(sorted(DECODERS)), parts=PARTS, cuts=CUTS)
def test_escaped_surrogates_cut_anywhere_give_the_text_of_one_piece(
    kind: str, parts: list[str], cuts: list[float]
) -> None:
    body = DECODERS[kind][1](parts, _json(True))
    whole = decode(kind, [body])
    assert decode(kind, pieces(body, cuts)) == whole
    expected = fix_surrogates("".join(parts))
    assert whole[0] == expected
    if kind == "anthropic":
        assert whole[1] == expected


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(sorted(DECODERS)), parts=PARTS_WITHOUT_SURROGATES, cuts=CUTS)
def test_raw_utf8_cut_inside_characters_gives_the_text_of_one_piece(
    kind: str, parts: list[str], cuts: list[float]
) -> None:
    body = DECODERS[kind][1](parts, _json(False))
    text, _thinking = decode(kind, pieces(body, cuts))
    assert text == "".join(parts)


@given(parts=PARTS)
def test_the_joiner_matches_cleaning_the_whole_text(parts: list[str]) -> None:
    joiner = SurrogateJoiner()
    joined = "".join(joiner.push(part) for part in parts) + joiner.flush()
    whole = fix_surrogates("".join(parts))
    assert joined == whole
    assert not any("\ud800" <= char <= "\udfff" for char in joined)


def test_pairs_are_joined_and_halves_replaced() -> None:
    assert fix_surrogates("a\ud83d\ude00b") == "a\U0001f600b"
    assert fix_surrogates("\ude00\ud83d") == "\ufffd\ufffd"
    assert fix_surrogates("\ud83dx\ud83d") == "\ufffdx\ufffd"
    assert fix_surrogates("plain é \U0001f600") == "plain é \U0001f600"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "choices",
        "delta",
        "content",
        "tool_calls",
        "function",
        "arguments",
        "name",
        "id",
        "index",
        "usage",
        "finish_reason",
        "type",
        "text",
        "message",
        "done",
        "done_reason",
        "thinking",
        "content_block",
        "input",
        "partial_json",
        "stop_reason",
        "prompt_eval_count",
        "error",
    ]
)
# Objects shaped like the protocols' events, with values of any type in any place.
EVENT_LIKE = st.recursive(
    JSON_VALUES,
    lambda inner: st.dictionaries(KEYS, inner, max_size=5) | st.lists(inner, max_size=3),
    max_leaves=20,
)
ANTHROPIC_NAMES = st.sampled_from(
    [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "message",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(sorted(DECODERS)),
    events=st.lists(EVENT_LIKE, max_size=6),
    names=st.lists(ANTHROPIC_NAMES, min_size=6, max_size=6),
)
def test_events_of_any_shape_give_chunks_or_a_typed_error(
    kind: str, events: list[Any], names: list[str]
) -> None:
    encode = _json(True)
    if kind == "anthropic":
        body = b"".join(
            b"event: " + name.encode() + b"\ndata: " + encode(event) + b"\n\n"
            for name, event in zip(names, events, strict=False)
        )
    elif kind == "openai":
        body = b"".join(b"data: " + encode(event) + b"\n\n" for event in events)
    else:
        body = b"".join(encode(event) + b"\n" for event in events)
    decoder = DECODERS[kind][0]()
    try:
        decoder.feed(body)
        if decoder.error is None:
            decoder.close()
    except LLMError:
        pass  # a typed error is a fine end; anything else fails the test
