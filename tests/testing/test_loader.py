"""`load_app`: the references scenario files, the ``vns_app`` ini option and test code name apps with."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vns_sdk.exceptions import ConfigurationError
from vns_sdk.testing import load_app

APP = 'from vns_sdk import VNSApp\n\napp = VNSApp(webhook_token="whk-loader-test-0123456789")\nname = {name!r}\n'


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """A folder for apps; the imports and ``sys.path`` entries the test makes are undone afterwards."""
    path, modules = list(sys.path), set(sys.modules)
    yield tmp_path
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_two_app_files_of_the_same_name_never_shadow_each_other(folder: Path) -> None:
    one = write(folder / "one" / "app.py", APP.format(name="one"))
    two = write(folder / "two" / "app.py", APP.format(name="two"))
    assert load_app("one/app.py:name", base_dir=folder) == "one"
    assert load_app("two/app.py:name", base_dir=folder) == "two"
    # The same file is imported once: the app and its module-level objects belong together.
    assert load_app("one/app.py", base_dir=folder) is load_app("one", base_dir=folder)
    assert getattr(sys.modules.get("app"), "__file__", None) not in (str(one), str(two))


def test_a_file_inside_a_package_imports_by_its_dotted_name(folder: Path) -> None:
    write(folder / "desk" / "__init__.py", "")
    write(folder / "desk" / "names.py", "GREETING = 'hello'\n")
    write(folder / "desk" / "app.py", APP.format(name="desk") + "from .names import GREETING\n")
    assert load_app("desk/app.py:GREETING", base_dir=folder) == "hello"
    assert load_app("desk.app:app", base_dir=folder) is sys.modules["desk.app"].app


def test_attributes_may_be_dotted(folder: Path) -> None:
    write(folder / "agent.py", APP.format(name="agent") + "class Book:\n    pages = 3\n")
    assert load_app("agent.py:Book.pages", base_dir=folder) == 3


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("agent.py:nothing", "module 'agent' has no attribute 'nothing'; it defines: app"),
        ("missing.py", "missing.py: no such file"),
        ("no_such_module_here:app", "cannot import module 'no_such_module_here'"),
        ("agent.py:not-a-name", "'not-a-name' is not a Python name"),
        ("broken.py", "importing 'broken' failed: NameError: name 'undefined' is not defined (broken.py, line 1)"),
    ],
)
def test_a_reference_to_nothing_is_a_configuration_error(folder: Path, reference: str, message: str) -> None:
    write(folder / "agent.py", APP.format(name="agent"))
    write(folder / "broken.py", "undefined\n")
    with pytest.raises(ConfigurationError) as caught:
        load_app(reference, base_dir=folder)
    assert message in str(caught.value)
