"""What a French reader sees of a page (text nodes, spoken attributes) and its typography faults."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Not prose: code, scripts, data blocks, what the user typed.
_SKIPPED = {"script", "style", "code", "pre", "textarea", "svg", "kbd", "samp", "template"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
_SPOKEN = {"aria-label", "title", "placeholder", "alt", "aria-description"}

FAULTS = {
    "pluriel en (s)": re.compile(r"\((?:s|es|x|e|nt)\)"),
    "apostrophe droite": re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])"),
    # « : ; ! ? » closing a clause take a narrow no-break space (U+202F) or a no-break space before them.
    "espace avant : ; ! ?": re.compile(r"(?:(?<=[^\W\d_])|(?<=[ »)]))[:;!?](?=\s|$)"),
}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.pieces: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            self.open.append(tag)
        self.pieces.extend(v for k, v in attrs if k in _SPOKEN and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if data.strip() and not _SKIPPED.intersection(self.open):
            self.pieces.append(data)


def texts(html: str) -> list[str]:
    """The page's text nodes and spoken attributes, in order."""
    parser = _Text()
    parser.feed(html)
    return parser.pieces


def faults(html: str) -> list[tuple[str, str]]:
    """Each typography fault of the page: (rule, the text around it)."""
    found = []
    for piece in texts(html):
        for rule, pattern in FAULTS.items():
            for m in pattern.finditer(piece):
                found.append((rule, " ".join(piece[max(0, m.start() - 40) : m.end() + 20].split())))
    return found
