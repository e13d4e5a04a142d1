"""The incremental SSE/NDJSON parsers and the tool-call assembler, without a network."""

from __future__ import annotations

import re

from app.llm.sse import LineSplitter, SSEEvent, SSEParser
from app.llm.toolcalls import ToolCallAssembler, anthropic_id, nine_alnum_id


def _feed_all(parser: SSEParser, pieces: list[bytes]) -> list[SSEEvent]:
    events = [event for piece in pieces for event in parser.feed(piece)]
    return events + parser.close()


def test_sse_fields_comments_and_multiline_data() -> None:
    body = b": hello\nevent: delta\nid: 7\ndata: one\ndata:two\nretry: 5\n\ndata: [DONE]\n\n"
    assert _feed_all(SSEParser(), [body]) == [
        SSEEvent("delta", "one\ntwo", "7"),
        SSEEvent("message", "[DONE]", "7"),
    ]


def test_sse_any_split_and_any_line_ending_give_the_same_events() -> None:
    body = 'event: a\ndata: {"x": "é"}\n\ndata: b\n\n'
    expected = _feed_all(SSEParser(), [body.encode()])
    for ending in ("\r\n", "\r"):
        raw = body.replace("\n", ending).encode()
        for size in (1, 2, 3, 7):
            pieces = [raw[i : i + size] for i in range(0, len(raw), size)]
            assert _feed_all(SSEParser(), pieces) == expected, (ending, size)


def test_sse_event_without_final_blank_line_is_flushed_at_close() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: last") == []
    assert parser.close() == [SSEEvent("message", "last", None)]


def test_sse_blank_lines_without_data_dispatch_nothing() -> None:
    assert _feed_all(SSEParser(), [b"\n\n\nevent: ping\n\n"]) == []


def test_line_splitter() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b'{"a":1}\n{"b"') == [b'{"a":1}']
    assert splitter.feed(b":2}\r") == []
    assert splitter.feed(b'\n{"c":3}') == [b'{"b":2}']
    assert splitter.close() == [b'{"c":3}']


def test_assembler_parses_once_at_the_end_and_names_idless_calls() -> None:
    calls = ToolCallAssembler()
    calls.add(0, call_id="c1", name="read_file", fragment='{"path": ')
    calls.add(0, fragment='"a.py", "start_line": 1}')
    calls.add(1, name="list_dir", fragment="")
    (first, second) = calls.finish()
    assert first.arguments == {"path": "a.py", "start_line": 1} and first.id == "c1"
    assert second.arguments == {} and re.fullmatch(r"call_[A-Za-z0-9]{9}", second.id)
    assert not calls


def test_assembler_splits_two_objects_glued_on_one_index() -> None:
    calls = ToolCallAssembler()
    calls.add(0, call_id="c1", name="list_dir", fragment='{"path": "a"}{"path": "b"}')
    first, second = calls.finish()
    assert (first.id, first.arguments) == ("c1", {"path": "a"})
    assert second.arguments == {"path": "b"} and second.id != "c1"


def test_assembler_errors_are_explicit_never_empty_arguments() -> None:
    calls = ToolCallAssembler()
    calls.add(0, call_id="a", name="x", fragment="[1, 2]")
    calls.add(1, call_id="b", fragment="{}")
    calls.add(2, call_id="c", name="y", fragment='{"a": ')
    not_object, nameless, broken = calls.finish()
    assert not_object.parse_error == "the arguments must be a JSON object"
    assert nameless.parse_error is not None and "without a tool name" in nameless.parse_error
    assert broken.parse_error is not None and broken.raw_arguments == '{"a": '


def test_id_mappings_are_deterministic_and_valid() -> None:
    assert nine_alnum_id("abcDEF123") == "abcDEF123"
    mapped = nine_alnum_id("call_1EYWDzueHEp8OsB8jJSEp7WB")
    assert re.fullmatch(r"[A-Za-z0-9]{9}", mapped) and mapped == nine_alnum_id(
        "call_1EYWDzueHEp8OsB8jJSEp7WB"
    )
    assert anthropic_id("toolu_01A-b") == "toolu_01A-b"
    assert re.fullmatch(r"[A-Za-z0-9_-]+", anthropic_id("functions.add:0"))
    assert anthropic_id("functions.add:0") != anthropic_id("functions.add_0")


FAST_PATH_CASES = [
    '{"id":"x","choices":[{"index":0,"delta":{"content":"plain "},"finish_reason":null}]}',
    '{"id":"x","choices":[{"index":0,"delta":{"content":"q\\"uote\\\\ \\n \\u00e9 \\ud83c\\udf0d"},'
    '"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"abc"}',
    '{"id":"x","choices":[{"index":0,"delta":{"role":"assistant","content":"role first"},'
    '"finish_reason":null}]}',
    '{"id": "x", "choices": [{"index": 0, "delta": {"content": "spaced json"}, '
    '"finish_reason": null}]}',
    '{"id":"x","choices":[{"index":0,"delta":{"content":"with usage"},"finish_reason":null}],'
    '"usage":{"prompt_tokens":1,"completion_tokens":2}}',
    '{"id":"x","choices":[{"index":0,"delta":{"content":"logprobs"},"logprobs":{"content":[]},'
    '"finish_reason":null}]}',
    '{"id":"x","choices":[{"index":0,"delta":{"content":"two choices"},"finish_reason":null},'
    '{"index":1,"delta":{"content":"other"},"finish_reason":null}]}',
    '{"id":"x","choices":[{"index":0,"delta":{"content":""},"finish_reason":null}]}',
]


def test_openai_text_fast_path_agrees_with_the_full_parse() -> None:
    """Whole events per read take the byte fast path, split ones the full parse: same text."""
    import json

    from app.llm.openai_chat import OpenAIDecoder
    from app.llm.types import TextDelta, UsageChunk

    for case in FAST_PATH_CASES:
        expected = json.loads(case)["choices"][0]["delta"]["content"]
        raw = f"data: {case}\n\n".encode()
        for pieces, events in (
            ([raw], 1),
            ([raw, raw], 2),
            ([raw[:9], raw[9:]], 1),
            ([raw * 2], 2),
        ):
            decoder = OpenAIDecoder("p", "m")
            chunks = [c for piece in pieces for c in decoder.feed(piece)]
            texts = [c.text for c in chunks if isinstance(c, TextDelta)]
            assert texts == ([expected] * events if expected else []), (case, pieces)
        if '"usage":{' in case:
            decoder = OpenAIDecoder("p", "m")
            out = decoder.feed(raw) + decoder.feed(b"data: [DONE]\n\n")
            assert any(isinstance(c, UsageChunk) and c.output_tokens == 2 for c in out)
