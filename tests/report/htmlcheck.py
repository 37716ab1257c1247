"""Parsing helpers for the HTML report tests: collect elements, attributes, text and scripts of a page."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "srcset", "poster", "data", "background"}


class Page(HTMLParser):
    """Collects elements, attributes, text, the style sheet and script bodies of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.style = ""
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)
        if tag == "script":
            self.scripts.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "style":
            self.style += data
        elif self.stack and self.stack[-1] == "script":
            self.scripts[-1] += data
        else:
            self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def with_class(self, tag: str, cls: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and cls in (a.get("class") or "").split()]

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def csp_of(page: Page) -> str:
    (meta,) = page.find("meta", **{"http-equiv": "Content-Security-Policy"})
    value = meta["content"]
    assert value is not None
    return value


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def assert_inert(html: str) -> None:
    """The page runs nothing but its own hashed script and loads nothing from anywhere."""
    page = parse(html)
    csp = csp_of(page)
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["img-src"] == "data:"
    assert directives["style-src"] == "'unsafe-inline'"
    hashes = re.findall(r"'sha256-[A-Za-z0-9+/=]+'", directives["script-src"])
    assert directives["script-src"] == " ".join(hashes), "script-src allows hashes only"
    assert len(page.scripts) == 1, "exactly one script element: ours"
    assert sha256_source(page.scripts[0]) in hashes, "the script's text hashes to the CSP's hash"
    assert all(not a for t, a in page.tags if t == "script"), "the script has no src or other attribute"
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            if name in URL_ATTRS:
                assert value is not None
                assert value.startswith("#"), f"<{tag} {name}={value!r}> must stay inside the document"
                assert not re.match(r"\s*(https?:|//|javascript:)", value, re.I)
            if name == "style" and value:
                assert "url(" not in value and "expression(" not in value and "@import" not in value
    for tag in ("iframe", "object", "embed", "img", "link", "base", "form", "frame", "video", "audio"):
        assert not page.find(tag), f"unexpected <{tag}>"
    for attrs in page.find("meta"):
        assert attrs.get("http-equiv") != "refresh"
    assert "url(" not in page.style
    assert "@import" not in page.style
    assert "expression(" not in page.style
