"""A minimal DOM: the element tree of an HTML page (as Chromium's ``--dump-dom``
serialises it), enough to find elements by attribute and read their text.

Built on :class:`html.parser.HTMLParser`; void elements take no children and an
end tag closes every element opened after its start tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)


@dataclass
class Node:
    """An element of a serialised DOM, enough to find markers and read their text."""

    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def iter(self) -> Iterator[Node]:
        """This element and every element below it, in document order."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed([c for c in node.children if isinstance(c, Node)]))

    def text(self) -> str:
        parts: list[str] = []
        stack: list[Node | str] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                parts.append(item)
            else:
                stack.extend(reversed(item.children))
        return "".join(parts)

    def find_all(self, attr: str, value: str | re.Pattern[str] | None = None) -> list[Node]:
        """Elements carrying ``attr`` (equal to, or fully matching, ``value`` if given)."""
        found = []
        for node in self.iter():
            got = node.attrs.get(attr)
            if got is None:
                continue
            if value is None or (
                got == value if isinstance(value, str) else value.fullmatch(got) is not None
            ):
                found.append(node)
        return found

    def find(self, attr: str, value: str | re.Pattern[str] | None = None) -> Node | None:
        found = self.find_all(attr, value)
        return found[0] if found else None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self._stack[-1].children.append(node)
        if tag not in _VOID:
            self._stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)


def parse_dom(html: str) -> Node:
    """The element tree of ``html`` (as Chromium's ``--dump-dom`` serialises it)."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
