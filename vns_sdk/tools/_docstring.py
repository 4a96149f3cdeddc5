"""Read a tool's description and its parameters' descriptions from the function's docstring.

Google, NumPy and Sphinx (reST) docstrings are recognised through `docstring_parser`, the style is
detected per docstring. Google ``Keyword Args:`` sections count as parameters too.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

import docstring_parser
from docstring_parser import epydoc, google, numpydoc, rest
from docstring_parser.common import Docstring, ParseError

__all__ = ["ParsedDocstring", "parse_docstring"]

# Google sections that describe parameters but that docstring_parser does not know by default.
_GOOGLE_SECTIONS = [
    *google.DEFAULT_SECTIONS,
    google.Section("Keyword Args", "param", google.SectionType.MULTIPLE),
    google.Section("Keyword Arguments", "param", google.SectionType.MULTIPLE),
    google.Section("Kwargs", "param", google.SectionType.MULTIPLE),
    google.Section("Other Parameters", "param", google.SectionType.MULTIPLE),
]
_GOOGLE = google.GoogleParser(sections=_GOOGLE_SECTIONS)
_GOOGLE_TITLES = frozenset(f"{section.title}:" for section in _GOOGLE_SECTIONS)

# A line that starts a list item keeps its own line when paragraphs are reflowed.
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s")


@dataclass(frozen=True)
class ParsedDocstring:
    """What a docstring says about a tool.

    Attributes:
        description: The summary and the long description (paragraphs kept, lines joined), without the
            sections (Args, Returns, Raises, ...); ``None`` for an empty docstring.
        params: Parameter name -> description.
    """

    description: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def _flow(text: str) -> str:
    """Join the lines of each paragraph with spaces; keep blank lines between paragraphs and list items."""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        lines: list[str] = []
        for raw in block.splitlines():
            line = raw.strip()
            if lines and line and not _LIST_ITEM.match(line):
                lines[-1] += " " + line
            elif line:
                lines.append(line)
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _parse(text: str) -> Docstring:
    # docstring_parser's own AUTO mode, with the extended Google parser: the style that finds the most
    # sections wins.
    lines = text.split("\n")
    if lines[0].strip() in _GOOGLE_TITLES:
        # A docstring that opens with "Args:" (no summary) loses the section's indentation to cleandoc
        # when nothing else sits at the left margin: indent its items again, and start with a blank line.
        body = lines[1:]
        if not any(line.strip() in _GOOGLE_TITLES and not line[:1].isspace() for line in body):
            body = ["    " + line if line.strip() else line for line in body]
        text = "\n".join(["", lines[0], *body])
    results: list[Docstring] = []
    for parser in (rest.parse, _GOOGLE.parse, numpydoc.parse, epydoc.parse):
        try:
            results.append(parser(text))
        except ParseError:
            continue
    if not results:
        return docstring_parser.Docstring()
    return max(results, key=lambda doc: len(doc.meta))


def parse_docstring(doc: str | None) -> ParsedDocstring:
    """Parse a function's docstring into a tool description and parameter descriptions."""
    if not doc or not doc.strip():
        return ParsedDocstring()
    parsed = _parse(inspect.cleandoc(doc))
    short = parsed.short_description or ""
    long = parsed.long_description or ""
    if short and long:
        # A summary wrapped over several lines comes back split after its first line.
        joiner = "\n\n" if parsed.blank_after_short_description else " "
        text = short + joiner + long
    else:
        text = short or long
    params = {p.arg_name: _flow(p.description) for p in parsed.params if p.description}
    return ParsedDocstring(description=_flow(text) or None, params=params)
