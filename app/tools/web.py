"""The web_fetch tool: one HTTP(S) GET with size and time limits, HTML reduced to text.

Redirects are followed only within the same scheme and host, so the approval policy (which
decides by domain) always saw the site that is actually read; a redirect elsewhere is
reported to the model, which may fetch that URL in a new, separately approved call.
"""

from __future__ import annotations

import httpx
from pydantic import Field

from app.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolResult
from app.tools.htmltext import html_to_text

MAX_BYTES = 2_000_000
FETCH_TIMEOUT = 30.0
MAX_REDIRECTS = 5
USER_AGENT = "AgentKit-TUI/0.1 (web_fetch tool)"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class WebFetchArgs(ToolArgs):
    """Arguments of web_fetch."""

    url: str = Field(description="An http:// or https:// URL.")


def check_url(raw: str) -> httpx.URL:
    """Parse ``raw`` as an absolute http(s) URL with a host, or raise a ToolError saying why not."""
    try:
        url = httpx.URL(raw.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise ToolError(f"Invalid URL {raw!r}: {exc}.") from None
    if url.scheme not in ("http", "https"):
        raise ToolError(
            f"Only http:// and https:// URLs can be fetched, not {url.scheme or 'a relative'} "
            f"URL {raw!r}."
        )
    if not url.host:
        raise ToolError(f"URL {raw!r} has no host.")
    return url


def _decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


class WebFetchTool(Tool[WebFetchArgs]):
    """Fetch a web page or text document and return it as text."""

    name = "web_fetch"
    description = (
        "Fetch a URL with HTTP GET and return its content as text (HTML is reduced to "
        f"readable text with link targets). At most {MAX_BYTES // 1_000_000} MB are read."
    )
    Args = WebFetchArgs
    access = "network"

    def __init__(
        self,
        *,
        max_bytes: int = MAX_BYTES,
        timeout: float = FETCH_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.transport = transport

    def approval_text(self, args: WebFetchArgs, ctx: ToolContext) -> str:
        """The URL to be fetched."""
        return args.url.strip()

    def timeout_for(self, args: WebFetchArgs, ctx: ToolContext) -> float | None:
        """The whole fetch, redirects included, must finish within this many seconds."""
        return min(self.timeout, ctx.timeout)

    async def run(self, args: WebFetchArgs, ctx: ToolContext) -> ToolResult:
        """GET the URL (same-site redirects only) and turn the body into text."""
        url = check_url(args.url)
        headers = {"User-Agent": USER_AGENT, "Accept": "text/html,text/plain,*/*;q=0.8"}
        timeout = httpx.Timeout(self.timeout)
        async with httpx.AsyncClient(
            headers=headers, timeout=timeout, follow_redirects=False, transport=self.transport
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                try:
                    async with client.stream("GET", url) as response:
                        if not response.is_redirect:
                            body, complete = await self._read(response)
                            return self._result(url, response, body, complete)
                        target = url.join(response.headers.get("location", ""))
                except httpx.TimeoutException:
                    raise ToolError(f"Timed out fetching {url}.") from None
                except httpx.HTTPError as exc:
                    raise ToolError(f"Could not fetch {url}: {type(exc).__name__}: {exc}") from None
                if (target.scheme, target.host, target.port) != (url.scheme, url.host, url.port):
                    return ToolResult(
                        output=(
                            f"{url} redirects to {target}, a different site, so it was not "
                            "followed. Call web_fetch with that URL to read it."
                        ),
                        metadata={"status": response.status_code, "redirect": str(target)},
                    )
                url = target
        raise ToolError(f"Too many redirects (more than {MAX_REDIRECTS}) from {args.url}.")

    async def _read(self, response: httpx.Response) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= self.max_bytes:
                return b"".join(chunks)[: self.max_bytes], False
        return b"".join(chunks), True

    def _result(
        self, url: httpx.URL, response: httpx.Response, body: bytes, complete: bool
    ) -> ToolResult:
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        looks_text = content_type.startswith(_TEXT_TYPES) or content_type.endswith(
            ("+json", "+xml")
        )
        if not content_type:
            looks_text = b"\0" not in body[:1024]
        metadata: dict[str, object] = {
            "status": response.status_code,
            "url": str(url),
            "content_type": content_type,
            "bytes": len(body),
        }
        if looks_text:
            text = _decode(body, response.charset_encoding)
            if content_type in _HTML_TYPES or (not content_type and "<html" in text[:2000]):
                text = html_to_text(text, str(url))
        else:
            text = f"(binary content of type {content_type}, {len(body):,} bytes, not shown)"
        if not complete:
            text += f"\n[download stopped at {self.max_bytes:,} bytes]"
            metadata["complete"] = False
        header = f"{url} — HTTP {response.status_code} {response.reason_phrase}".rstrip()
        return ToolResult(
            output=f"{header} · {content_type or 'unknown type'}\n\n{text or '(empty body)'}",
            is_error=response.status_code >= 400,
            metadata=metadata,
        )
