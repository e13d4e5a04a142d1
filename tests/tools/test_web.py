"""web_fetch against a real loopback HTTP server (no network), and the HTML-to-text reducer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.tools.base import ToolContext, execute
from app.tools.htmltext import html_to_text
from app.tools.web import WebFetchTool

PAGE = b"""<!doctype html><html><head><title>Demo page</title>
<style>body { color: red }</style><script>alert("x")</script></head>
<body><h1>Hello</h1><p>First   paragraph with <a href="/docs">the docs</a>.</p>
<ul><li>one</li><li>two &amp; three</li></ul><pre>  keep
    spacing</pre><noscript>no js</noscript></body></html>"""


class Handler(BaseHTTPRequestHandler):
    release: threading.Event

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/page":
            self._send(200, PAGE, "text/html; charset=utf-8")
        elif self.path == "/text":
            self._send(200, "plain text é".encode(), "text/plain; charset=utf-8")
        elif self.path == "/big":
            self._send(200, b"a" * 50_000, "text/plain")
        elif self.path == "/latin1":
            self._send(200, "café".encode("latin-1"), "text/plain; charset=iso-8859-1")
        elif self.path == "/odd-charset":
            self._send(200, b"ok", "text/plain; charset=x-klingon")
        elif self.path == "/binary":
            self._send(200, b"\x89PNG\0\0", "image/png")
        elif self.path == "/missing":
            self._send(404, b"not here", "text/plain")
        elif self.path == "/hop":
            self._send(302, b"", "text/plain", Location="/text")
        elif self.path == "/away":
            port = self.headers.get("Host", "").rsplit(":", 1)[-1]
            self._send(302, b"", "text/plain", Location=f"http://localhost:{port}/text")
        elif self.path == "/slow":
            self.release.wait(10)
            self._send(200, b"late", "text/plain")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that time out on /slow hang up; that is the point


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A threaded loopback HTTP server shared by this module; yields its base URL."""
    release = threading.Event()
    handler = type("BoundHandler", (Handler,), {"release": release})
    httpd = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def web_ctx(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> ToolContext:
    """A context with room for whole pages, and no proxy between us and the loopback server."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    return ToolContext(workspace=workspace, timeout=10.0, max_output_chars=100_000)


async def test_html_is_reduced_to_text(server: str, web_ctx: ToolContext) -> None:
    result = await execute(WebFetchTool(), {"url": f"{server}/page"}, web_ctx)
    assert not result.is_error
    assert result.output.splitlines()[0] == f"{server}/page — HTTP 200 OK · text/html"
    body = result.output.split("\n\n", 1)[1]
    assert body.startswith("Title: Demo page\n\n# Hello\nFirst paragraph with the docs")
    assert f"the docs ({server}/docs)." in body
    assert "- one\n- two & three" in body
    assert "  keep\n    spacing" in body
    assert "alert" not in body and "color" not in body and "no js" not in body


async def test_plain_text_binary_and_errors(server: str, web_ctx: ToolContext) -> None:
    tool = WebFetchTool()
    text = await execute(tool, {"url": f"{server}/text"}, web_ctx)
    assert text.output.endswith("\n\nplain text é") and text.metadata["status"] == 200
    latin = await execute(tool, {"url": f"{server}/latin1"}, web_ctx)
    assert latin.output.endswith("\n\ncafé")
    odd = await execute(tool, {"url": f"{server}/odd-charset"}, web_ctx)
    assert not odd.is_error and odd.output.endswith("\n\nok")
    binary = await execute(tool, {"url": f"{server}/binary"}, web_ctx)
    assert "binary content of type image/png" in binary.output
    missing = await execute(tool, {"url": f"{server}/missing"}, web_ctx)
    assert missing.is_error and "HTTP 404" in missing.output


async def test_size_limit_stops_the_download(server: str, web_ctx: ToolContext) -> None:
    result = await execute(WebFetchTool(max_bytes=1_000), {"url": f"{server}/big"}, web_ctx)
    assert "[download stopped at 1,000 bytes]" in result.output
    assert result.metadata["bytes"] == 1_000


async def test_time_limit(server: str, web_ctx: ToolContext) -> None:
    result = await execute(WebFetchTool(timeout=0.3), {"url": f"{server}/slow"}, web_ctx)
    assert result.is_error and "timed out" in result.output.lower()


async def test_redirects_only_within_the_same_site(server: str, web_ctx: ToolContext) -> None:
    tool = WebFetchTool()
    hop = await execute(tool, {"url": f"{server}/hop"}, web_ctx)
    assert hop.output.startswith(f"{server}/text — HTTP 200")
    away = await execute(tool, {"url": f"{server}/away"}, web_ctx)
    assert not away.is_error and "a different site, so it was not followed" in away.output
    assert away.metadata["redirect"].startswith("http://localhost:")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "Only http:// and https://"),
        ("ftp://example.com/x", "Only http:// and https://"),
        ("/relative/path", "Only http:// and https://"),
        ("http://", "no host"),
    ],
)
async def test_only_http_urls(web_ctx: ToolContext, url: str, message: str) -> None:
    result = await execute(WebFetchTool(), {"url": url}, web_ctx)
    assert result.is_error and message in result.output


async def test_connection_refused_is_a_tool_error(web_ctx: ToolContext) -> None:
    result = await execute(WebFetchTool(), {"url": "http://127.0.0.1:9/"}, web_ctx)
    assert result.is_error and "Could not fetch" in result.output


def test_html_to_text_edge_cases() -> None:
    assert html_to_text("<p>a</p><p>b</p>") == "a\nb"
    assert html_to_text("<div>x<br>y</div>") == "x\ny"
    assert html_to_text("<a href='mailto:x@y'>mail</a>") == "mail"
    assert html_to_text("<h2>Sub</h2>text", "http://h/") == "## Sub\ntext"
    assert html_to_text("<svg><text>drawn</text></svg>ok") == "ok"
    assert html_to_text("") == ""
