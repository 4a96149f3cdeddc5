"""Run the code a Markdown page shows, as a reader would: top to bottom, every block.

The blocks are found by pytest-examples. What a block is, the page says in the open:

* ```` ```python ````: a program of its own, run in a fresh namespace (its ``test_*`` functions that take
  no argument are called after it runs, sync or async);
* ```` ```python title="shop.py" ````: a file the reader saves (any language: ``order.vns.yaml``,
  ``Dockerfile``). Files are written to one folder per page, which the page's other blocks import from
  (``from shop import app``). When the page has ``test_*.py`` files, pytest runs that folder in a
  subprocess, as the reader would; otherwise every Python file is imported once;
* ``<!-- test: continue -->`` on the line before a block: it goes on from the previous untitled block, in
  its namespace (a page that builds one app step by step);
* ``<!-- test: skip (the reason) -->`` on the line before a block: not run (say why).

The markers are HTML comments, so a page reads the same on the site and in the repository.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pytest_examples import find_examples

__all__ = ["Block", "PageRun", "blocks", "run_page"]

ROOT = Path(__file__).resolve().parents[1]
_FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
_MARKER = re.compile(r"<!--\s*test:\s*(?P<what>continue|skip)\b[^>]*-->")
_TITLE = re.compile(r"""title=(["'])(?P<title>[^"']+)\1""")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page.

    Attributes:
        page: The Markdown file.
        line: The line of the opening fence (1-based), for messages.
        language: The fence's language (``python``, ``yaml``, ...), lower case.
        title: The file name the block is saved as, if it has one.
        marker: ``continue``, ``skip`` or None.
        source: The code, dedented.
    """

    page: Path
    line: int
    language: str
    title: str | None
    marker: str | None
    source: str

    @property
    def where(self) -> str:
        try:
            page = self.page.relative_to(ROOT)
        except ValueError:
            page = self.page
        return f"{page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """Every fenced block of the page, Python blocks as pytest-examples finds them."""
    text = page.read_text(encoding="utf-8")
    python = {example.start_line: example for example in find_examples(page)}
    found = []
    for fence in _FENCE.finditer(text):
        line = text[: fence.start()].count("\n") + 1
        info = fence["info"].strip()
        language = info.split(" ", 1)[0].lstrip("{.").lower() if info else ""
        before = text[: fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _MARKER.search(before)
        title = _TITLE.search(info)
        example = python.get(line)
        source = example.source if example is not None else _dedent(fence["body"], len(fence["indent"]))
        found.append(
            Block(
                page=page,
                line=line,
                language=language,
                title=title["title"] if title else None,
                marker=marker["what"] if marker else None,
                source=source,
            )
        )
    return found


def _dedent(body: str, indent: int) -> str:
    return "\n".join(line[indent:] for line in body.splitlines()) + "\n"


@dataclass
class PageRun:
    """What running a page left: the namespace of each untitled Python block, and the page's files."""

    namespaces: dict[int, dict[str, Any]]
    folder: Path

    def namespace(self, containing: str) -> dict[str, Any]:
        """The namespace of the (last) block whose code contains `containing`."""
        for namespace in reversed(list(self.namespaces.values())):
            if containing in namespace["__source__"]:
                return namespace
        raise LookupError(f"no block holds {containing!r}")


def run_page(page: Path, folder: Path) -> PageRun:
    """Run every block of `page`: files are written to `folder`, programs run in this process.

    Raises:
        AssertionError: A block failed (the message names the page and line), or the page's tests did.
    """
    __tracebackhide__ = True
    page_blocks = blocks(page)
    folder.mkdir(parents=True, exist_ok=True)
    files = [block for block in page_blocks if block.title]
    for block in files:
        (folder / block.title).parent.mkdir(parents=True, exist_ok=True)
        (folder / block.title).write_text(block.source, encoding="utf-8")
    namespaces: dict[int, dict[str, Any]] = {}
    with _importable(folder), _event_loop():
        previous: dict[str, Any] | None = None
        for block in page_blocks:
            if block.title or block.marker == "skip" or block.language not in ("python", "py"):
                continue
            if block.marker == "continue":
                assert previous is not None, f"{block.where}: `continue` on the first block of the page"
                namespace = previous
            else:
                namespace = _module(f"docs_{page.stem.replace('-', '_')}_{block.line}")
            _run_block(block, namespace)
            namespace["__source__"] = namespace.get("__source__", "") + block.source
            namespaces[block.line] = previous = namespace
        python_files = [block for block in files if block.title and block.title.endswith(".py")]
        tests = [block for block in python_files if Path(block.title or "").name.startswith("test_")]
        if tests:
            _pytest(page, folder)
        else:
            for block in python_files:
                if block.marker != "skip":
                    _run_block(block, _module(f"docs_{page.stem.replace('-', '_')}_{block.line}"))
    return PageRun(namespaces=namespaces, folder=folder)


def _module(name: str) -> dict[str, Any]:
    # A real module, so that what inspects a function's module (pydantic resolving annotations) finds it.
    module = ModuleType(name)
    sys.modules[name] = module
    return module.__dict__


def _run_block(block: Block, namespace: dict[str, Any]) -> None:
    __tracebackhide__ = True
    before = set(namespace)
    code = compile(block.source, block.where, "exec")
    try:
        exec(code, namespace)
        for name in sorted(set(namespace) - before):
            test = namespace[name]
            if name.startswith("test_") and callable(test) and not inspect.signature(test).parameters:
                result = test()
                if inspect.iscoroutine(result):
                    asyncio.run(result)
    except Exception as exc:
        raise AssertionError(f"{block.where}: the block fails: {type(exc).__name__}: {exc}") from exc


@contextmanager
def _event_loop() -> Iterator[None]:
    """A current event loop for the page, closed afterwards: what an ASGI adapter (Mangum) takes at import."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        asyncio.set_event_loop(None)
        loop.close()


@contextmanager
def _importable(folder: Path) -> Iterator[None]:
    """The page's files importable by their names, and forgotten afterwards (two pages may both have shop.py)."""
    before = set(sys.modules)
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules.get(name), "__file__", None) or ""
            if origin.startswith(str(folder)) or name.startswith("docs_"):
                del sys.modules[name]


def _pytest(page: Path, folder: Path) -> None:
    __tracebackhide__ = True
    # The reader's environment: none of ours (no token set for them, no pytest options of this run).
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VNS_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{page.name}: the page's tests fail under pytest:\n{result.stdout}{result.stderr}"
