"""A function killed in the middle of a lazy import must not poison the process's module cache:
Lambda discards the sandbox, so the next invocation imports the package from scratch."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from flowops.local.runtime.lambdas import _forget_modules_imported_since


class _Killed(BaseException):
    """Stands in for the asynchronous FunctionKilled raised at the function's timeout."""


@pytest.fixture
def lazy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    package = tmp_path / "lazypkg_for_kill_test"
    package.mkdir()
    (package / "done.py").write_text("VALUE = 42\n")
    # The package binds its finished submodule, then is "killed" before its import completes.
    (package / "__init__.py").write_text(
        "import os\nfrom lazypkg_for_kill_test import done\n"
        "if os.environ.get('KILL_DURING_IMPORT') == '1':\n"
        "    raise __import__('builtins')._KillForTest\n"
        "ANSWER = done.VALUE\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import builtins

    monkeypatch.setattr(builtins, "_KillForTest", _Killed, raising=False)
    yield package
    for name in [n for n in sys.modules if n.startswith("lazypkg_for_kill_test")]:
        del sys.modules[name]


def test_a_kill_mid_import_leaves_no_orphaned_submodule(
    lazy_package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a call that is killed while its lazy import of a package is half done
    before = frozenset(sys.modules)
    monkeypatch.setenv("KILL_DURING_IMPORT", "1")
    with pytest.raises(_Killed):
        importlib.import_module("lazypkg_for_kill_test")
    assert "lazypkg_for_kill_test.done" in sys.modules  # the orphan a real kill leaves behind
    assert "lazypkg_for_kill_test" not in sys.modules

    # When the runtime cleans up after the kill
    _forget_modules_imported_since(before)

    # Then the next invocation imports the package whole, its submodule bound as an attribute
    monkeypatch.setenv("KILL_DURING_IMPORT", "0")
    package = importlib.import_module("lazypkg_for_kill_test")
    assert package.ANSWER == 42
    assert package.done.VALUE == 42


def test_complete_modules_imported_meanwhile_keep_their_identity(lazy_package: Path) -> None:
    # Given a module another thread imported completely during the killed call
    before = frozenset(sys.modules)
    package = importlib.import_module("lazypkg_for_kill_test")

    # When the runtime cleans up after a kill
    _forget_modules_imported_since(before)

    # Then that module is kept as it is
    assert sys.modules["lazypkg_for_kill_test"] is package
    assert sys.modules["lazypkg_for_kill_test.done"] is package.done
