"""asyncio is imported on first use: the stand-in in pytest_aioloop._compat.lazy_asyncio."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_plugin_import_and_introspection_do_not_import_asyncio() -> None:
    out = _run(
        """
        import sys
        import pytest_aioloop, pytest_aioloop.plugin
        from pytest_aioloop._fixtures import user_event_loop as fixtures
        assert not hasattr(fixtures.asyncio, "_mock_name")
        assert not hasattr(fixtures.asyncio, "__wrapped__")
        print("asyncio" in sys.modules)
        """
    )
    assert out.split() == ["False"]


def test_first_use_puts_the_real_module_in_place_everywhere() -> None:
    out = _run(
        """
        import sys
        from pytest_aioloop import plugin
        from pytest_aioloop._compat import asyncio_internals, lazy_asyncio
        from pytest_aioloop._fixtures import user_event_loop
        stand_in = user_event_loop.asyncio
        policy = asyncio_internals.get_policy()
        real = sys.modules["asyncio"]
        print(policy is real.get_event_loop_policy())
        users = lazy_asyncio.USERS
        print(all(sys.modules[name].asyncio is real for name in users if name in sys.modules))
        print(stand_in is not real)
        """
    )
    assert out.split() == ["True", "True", "True"]


def test_every_module_with_the_stand_in_is_listed() -> None:
    """A module missing from USERS would keep the stand-in (slow, and stale after re-imports)."""
    from pathlib import Path

    from pytest_aioloop._compat import lazy_asyncio

    package = Path(lazy_asyncio.__file__).parent.parent
    users = {
        ".".join(["pytest_aioloop", *path.relative_to(package).with_suffix("").parts]).removesuffix(
            ".__init__"
        )
        for path in package.rglob("*.py")
        if "from pytest_aioloop._compat.lazy_asyncio import asyncio" in path.read_text()
    }
    assert users == set(lazy_asyncio.USERS)


def test_a_private_name_read_first_works_once_asyncio_is_imported() -> None:
    # A conftest imported asyncio; the plugin's first read of it is a private name (as when
    # a sync fixture asks for the loop before any async fixture of the session runs).
    out = _run(
        """
        import asyncio
        from pytest_aioloop._compat import asyncio_internals
        print(asyncio_internals.running_loop())
        print(asyncio_internals.asyncio is asyncio)
        """
    )
    assert out.split() == ["None", "True"]
