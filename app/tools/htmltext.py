"""Reduce an HTML page to readable text with the standard library's ``html.parser``.

Scripts, styles and other non-content elements are dropped; block elements become line
breaks, list items bullets, headings ``#`` lines, and links keep their absolute target in
brackets so the model can follow them with another fetch.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

_SKIP = frozenset(
    {"script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas"}
)
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl",
        "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tr", "ul",
    }
)  # fmt: skip
_SPACES = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.parts: list[str] = []
        self.title: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.in_title = False
        self.links: list[tuple[str | None, int]] = []

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag in _BLOCK:
            self._newline()
        if tag == "li":
            self.parts.append("- ")
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.parts.append("#" * int(tag[1]) + " ")
        elif tag == "pre":
            self.pre_depth += 1
        elif tag == "a":
            href = dict(attrs).get("href")
            target = urljoin(self.base_url, href) if href else None
            self.links.append((target, len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag == "a" and self.links:
            target, start = self.links.pop()
            text = "".join(self.parts[start:]).strip()
            if target and target.startswith(("http://", "https://")) and text and text != target:
                self.parts.append(f" ({target})")
        if tag in _BLOCK:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        if self.skip_depth:
            return
        if self.pre_depth:
            self.parts.append(data)
            return
        text = _SPACES.sub(" ", data)
        if not self.parts or self.parts[-1].endswith((" ", "\n")):
            text = text.lstrip(" ")
        if text:
            self.parts.append(text)


def html_to_text(html: str, base_url: str = "") -> str:
    """The readable text of an HTML document, with its title as a first line when it has one."""
    parser = _TextExtractor(base_url)
    parser.feed(html)
    parser.close()
    lines = [line.rstrip() for line in "".join(parser.parts).splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    title = _SPACES.sub(" ", "".join(parser.title)).strip()
    if title and not text.startswith(title):
        text = f"Title: {title}\n\n{text}"
    return text
