"""The contenders: what each installs, and how each spells an async test and an async fixture."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Contender:
    """One plugin (or none) and the source snippets the suites are generated from."""

    name: str
    #: Requirements for ``uv pip install`` besides pytest itself ("local" means the wheels
    #: built from ``packages/``).
    requirements: tuple[str, ...]
    #: Distributions whose versions go into the report.
    dists: tuple[str, ...]
    #: The modules its pytest11 entry points import, for the import-time scenario.
    plugin_modules: tuple[str, ...]
    is_async: bool
    imports: str
    ini: str
    conftest_extra: str
    mark_function: str
    mark_module: str
    fixture_function: str
    fixture_module: str


AIOKIT = Contender(
    name="pytest-aiokit",
    requirements=("local",),
    dists=("pytest-aioloop", "pytest-ports", "pytest-aiokit"),
    plugin_modules=("pytest_aioloop.plugin",),
    is_async=True,
    imports="import pytest_aioloop",
    ini="asyncio_mode = strict",
    conftest_extra="",
    mark_function="pytest.mark.asyncio",
    mark_module='pytest.mark.asyncio(loop_scope="module")',
    fixture_function="@pytest_aioloop.fixture",
    fixture_module='@pytest_aioloop.fixture(scope="module", loop_scope="module")',
)

PYTEST_ASYNCIO = Contender(
    name="pytest-asyncio",
    requirements=("pytest-asyncio",),
    dists=("pytest-asyncio",),
    plugin_modules=("pytest_asyncio.plugin",),
    is_async=True,
    imports="import pytest_asyncio",
    # Set explicitly so that versions which warn when it is unset stay quiet.
    ini="asyncio_mode = strict\nasyncio_default_fixture_loop_scope = function",
    conftest_extra="",
    mark_function="pytest.mark.asyncio",
    mark_module='pytest.mark.asyncio(loop_scope="module")',
    fixture_function="@pytest_asyncio.fixture",
    fixture_module='@pytest_asyncio.fixture(scope="module", loop_scope="module")',
)

ANYIO = Contender(
    name="anyio",
    requirements=("anyio",),
    dists=("anyio",),
    plugin_modules=("anyio.pytest_plugin",),
    is_async=True,
    imports="",
    ini="",
    # anyio keeps one runner (loop) per backend while a fixture or test holds it; its backend
    # fixture is module-scoped, as anyio's documentation recommends.
    conftest_extra=(
        '@pytest.fixture(scope="module")\ndef anyio_backend() -> str:\n    return "asyncio"\n'
    ),
    mark_function="pytest.mark.anyio",
    mark_module="pytest.mark.anyio",
    fixture_function="@pytest.fixture",
    fixture_module='@pytest.fixture(scope="module")',
)

FLOOR = Contender(
    name="pytest (sync floor)",
    requirements=(),
    dists=(),
    plugin_modules=(),
    is_async=False,
    imports="",
    ini="",
    conftest_extra="",
    mark_function="",
    mark_module="",
    fixture_function="@pytest.fixture",
    fixture_module='@pytest.fixture(scope="module")',
)

ALL = (AIOKIT, PYTEST_ASYNCIO, ANYIO, FLOOR)
BY_NAME = {c.name: c for c in ALL}


def slug(contender: Contender) -> str:
    """Return a file-system-friendly name for ``contender``."""
    return contender.name.split(" ")[0] if contender is not FLOOR else "floor"
