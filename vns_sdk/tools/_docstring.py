"""Read a tool's description and its parameters' descriptions from the function's docstring.

Google, NumPy and Sphinx (reST) docstrings are recognised through `docstring_parser`, the style is
detected per docstring. Google ``Keyword Args:`` sections count as parameters too.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import docstring_parser
from docstring_parser import epydoc, google, numpydoc, rest
from docstring_parser.common import Docstring, ParseError

__all__ = ["ParsedDocstring", "parse_docstring"]

# Google sections that describe parameters but that docstring_parser does not know by default.
_GOOGLE = google.GoogleParser(
    sections=[
        *google.DEFAULT_SECTIONS,
        google.Section("Keyword Args", "param", google.SectionType.MULTIPLE),
        google.Section("Keyword Arguments", "param", google.SectionType.MULTIPLE),
        google.Section("Kwargs", "param", google.SectionType.MULTIPLE),
        google.Section("Other Parameters", "param", google.SectionType.MULTIPLE),
    ]
)


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
    """Join the lines of each paragraph with spaces; keep blank lines between paragraphs."""
    paragraphs = [" ".join(line.strip() for line in block.splitlines()) for block in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def _parse(text: str) -> Docstring:
    # docstring_parser's own AUTO mode, with the extended Google parser: the style that finds the most
    # sections wins.
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
