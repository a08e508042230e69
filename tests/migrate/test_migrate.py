"""Tests of ``python -m pytest_aioloop migrate``: in-process calls of the CLI on tmp_path trees."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import urllib.request
from pathlib import Path, PurePosixPath

import pytest

from pytest_aioloop.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
DOCS_PAGE = ROOT / "docs" / "howto" / "migrate-from-pytest-asyncio.md"

#: pytest-asyncio 1.5.0's sdist, whose own test suite is the real tree migrated below.
SDIST = "pytest_asyncio-1.5.0.tar.gz"
SDIST_URL = (
    "https://files.pythonhosted.org/packages/2c/de/"
    "80724f9b5b9eca1a654179cae6edc51aaa0a355a9834a736e2a188b91780/" + SDIST
)
SDIST_SHA256 = "92c8fa83ca419fd0d4bd6a34df6520dae435841d3733c319343249492adf37f7"
#: The compatibility oracle's rename (its run.py), which migrate must match on Python files.
ORACLE_RENAME = re.compile(r"\bpytest_asyncio\b")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def migrate(
    capsys: pytest.CaptureFixture[str], *args: str, expect: int | None = 0
) -> tuple[str, str]:
    """Run the CLI in-process in the current directory; return (stdout, stderr)."""
    status = main(["migrate", *args])
    out, err = capsys.readouterr()
    if expect is not None:
        assert status == expect, out + err
    return out, err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check_rewrite(
    capsys: pytest.CaptureFixture[str], root: Path, name: str, before: str, after: str
) -> str:
    """Write ``before`` to ``name``, migrate the tree, check ``after``; return stdout."""
    write(root, {name: before})
    out, _ = migrate(capsys)
    assert (root / name).read_text(encoding="utf-8") == textwrap.dedent(after)
    return out


# -- Python files --------------------------------------------------------------------------------


def test_python_module_references(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = '''\
        """Fixtures for the pytest-asyncio suite; see pytest_asyncio.fixture."""
        import pytest_asyncio  # pytest_asyncio's decorator; pytest-asyncio is the project
        import pytest_asyncio as pa
        from pytest_asyncio import fixture, is_async_test
        from pytest_asyncio.plugin import PytestDeprecationWarning

        pytest_plugins = ["pytest_asyncio", "pytester"]
        my_pytest_asyncio = pytest_asyncio_ish = 1


        def pytest_asyncio_loop_factories(config, item):
            return None


        def pytest_collection_modifyitems(items):
            return [i for i in items if pytest_asyncio.is_async_test(i)]


        @pytest_asyncio.fixture(loop_scope="module")
        async def client():
            yield f"{pytest_asyncio.__name__}-{{pytest_asyncio}}"
        '''
    after = '''\
        """Fixtures for the pytest-asyncio suite; see pytest_aioloop.fixture."""
        import pytest_aioloop  # pytest_aioloop's decorator; pytest-asyncio is the project
        import pytest_aioloop as pa
        from pytest_aioloop import fixture, is_async_test
        from pytest_aioloop.plugin import PytestDeprecationWarning

        pytest_plugins = ["pytest_aioloop", "pytester"]
        my_pytest_asyncio = pytest_asyncio_ish = 1


        def pytest_asyncio_loop_factories(config, item):
            return None


        def pytest_collection_modifyitems(items):
            return [i for i in items if pytest_aioloop.is_async_test(i)]


        @pytest_aioloop.fixture(loop_scope="module")
        async def client():
            yield f"{pytest_aioloop.__name__}-{{pytest_aioloop}}"
        '''
    out = check_rewrite(capsys, project, "tests/conftest.py", before, after)
    assert "rewrote tests/conftest.py (11 renames of pytest_asyncio)" in out


def test_python_pytester_sources_and_plugin_options(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = '''\
        def test_it(pytester):
            pytester.makeconftest("pytest_plugins = 'pytest_asyncio'")
            pytester.makepyfile(
                """
                import pytest_asyncio

                @pytest_asyncio.fixture
                async def f(): ...

                def pytest_asyncio_loop_factories(config, item): ...
                """
            )
            pytester.runpytest("-p", "asyncio", "-p", "no:asyncio", "-p pytest_asyncio.plugin")
            pytester.runpytest("-p asyncio", "-pasyncio", "asyncio", "--strict-markers")
            result.stdout.fnmatch_lines(["*/pytest_asyncio/plugin.py:*"])
        '''
    after = '''\
        def test_it(pytester):
            pytester.makeconftest("pytest_plugins = 'pytest_aioloop'")
            pytester.makepyfile(
                """
                import pytest_aioloop

                @pytest_aioloop.fixture
                async def f(): ...

                def pytest_asyncio_loop_factories(config, item): ...
                """
            )
            pytester.runpytest("-p", "aioloop", "-p", "no:asyncio", "-p pytest_aioloop.plugin")
            pytester.runpytest("-p aioloop", "-paioloop", "asyncio", "--strict-markers")
            result.stdout.fnmatch_lines(["*/pytest_aioloop/plugin.py:*"])
        '''
    out = check_rewrite(capsys, project, "tests/test_it.py", before, after)
    assert "(5 renames of pytest_asyncio, 3 -p options)" in out


def test_python_requirement_strings_count_only_in_noxfile_and_setup_py(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project,
        {
            "noxfile.py": """\
                import nox

                TEST = ["pytest>=8", "pytest-asyncio>=0.23", "Pytest.Asyncio[testing]"]


                @nox.session
                def tests(session: nox.Session) -> None:
                    session.install("pytest-asyncio; python_version < '3.14'", *TEST)
                    session.run("pytest", "-p", "asyncio", "-p", "pytest_asyncio")
                """,
            "setup.py": 'setup(tests_require=["pytest_asyncio==0.21.1"])\n',
            "docs/conf.py": 'project = "pytest-asyncio"\nversion("pytest-asyncio>=1")\n',
        },
    )
    out, _ = migrate(capsys)
    assert (project / "noxfile.py").read_text() == textwrap.dedent(
        """\
        import nox

        TEST = ["pytest>=8", "pytest-aioloop", "pytest-aioloop"]


        @nox.session
        def tests(session: nox.Session) -> None:
            session.install("pytest-aioloop; python_version < '3.14'", *TEST)
            session.run("pytest", "-p", "aioloop", "-p", "pytest_aioloop")
        """
    )
    assert (project / "setup.py").read_text() == 'setup(tests_require=["pytest-aioloop"])\n'
    # Elsewhere a string is prose or a distribution name, not a dependency declaration.
    assert (project / "docs/conf.py").read_text().count("pytest-asyncio") == 2
    assert (
        "  noxfile.py:3: pytest-asyncio>=0.23 -> pytest-aioloop (version specifier >=0.23 "
        "dropped: pytest-aioloop has its own versions)"
    ) in out
    assert (
        "  noxfile.py:3: Pytest.Asyncio[testing] -> pytest-aioloop (extras [testing] dropped: "
        "pytest-aioloop has none)"
    ) in out
    assert "  setup.py:1: pytest_asyncio==0.21.1 -> pytest-aioloop" in out


def test_python_encoding_newlines_and_bom_are_kept(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crlf = b"import pytest_asyncio\r\nx = 'pytest_asyncio'\r\n"
    latin1 = "# -*- coding: latin-1 -*-\nimport pytest_asyncio  # é\n".encode("latin-1")
    bom = b"\xef\xbb\xbfimport pytest_asyncio\n"
    (project / "crlf.py").write_bytes(crlf)
    (project / "latin1.py").write_bytes(latin1)
    (project / "bom.py").write_bytes(bom)
    migrate(capsys)
    assert (project / "crlf.py").read_bytes() == crlf.replace(b"asyncio", b"aioloop")
    assert (project / "latin1.py").read_bytes() == latin1.replace(b"asyncio", b"aioloop")
    assert (project / "bom.py").read_bytes() == bom.replace(b"asyncio", b"aioloop")


# -- dependency declarations ---------------------------------------------------------------------


def test_pyproject_toml(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = """\
        [project]
        name = "demo"
        dependencies = ["httpx"]
        optional-dependencies.test = [
            "pytest>=8.4",
            "Pytest_Asyncio[testing] >= 0.23, <2 ; python_version >= '3.10'",  # async tests
        ]

        [dependency-groups]
        dev = [{ include-group = "test" }, 'pytest-asyncio']

        [tool.pdm.dev-dependencies]
        test = ["pytest-asyncio~=0.24"]

        [tool.hatch.envs.test]
        dependencies = [
          "pytest-asyncio==0.24.0",
        ]

        [tool.uv]
        dev-dependencies = ["pytest.asyncio"]

        [tool.poetry.group.test.dependencies]
        pytest-asyncio = "^0.23"

        [tool.poetry.dev-dependencies]
        "pytest_asyncio" = { version = ">=0.21", python = "^3.10" }

        [tool.poetry.group.ci.dependencies.pytest-asyncio]
        version = "0.21.1"

        [tool.pytest.ini_options]
        addopts = ["-ra", "-p", "asyncio", "-p", "no:asyncio", "-p pytest_asyncio.plugin"]
        required_plugins = "pytest-asyncio>=0.23 pytest-xdist"
        asyncio_mode = "auto"
        asyncio_default_fixture_loop_scope = "function"
        """
    after = """\
        [project]
        name = "demo"
        dependencies = ["httpx"]
        optional-dependencies.test = [
            "pytest>=8.4",
            "pytest-aioloop ; python_version >= '3.10'",  # async tests
        ]

        [dependency-groups]
        dev = [{ include-group = "test" }, 'pytest-aioloop']

        [tool.pdm.dev-dependencies]
        test = ["pytest-aioloop"]

        [tool.hatch.envs.test]
        dependencies = [
          "pytest-aioloop",
        ]

        [tool.uv]
        dev-dependencies = ["pytest-aioloop"]

        [tool.poetry.group.test.dependencies]
        pytest-aioloop = "*"

        [tool.poetry.dev-dependencies]
        pytest-aioloop = { version = "*", python = "^3.10" }

        [tool.poetry.group.ci.dependencies.pytest-aioloop]
        version = "*"

        [tool.pytest.ini_options]
        addopts = ["-ra", "-p", "aioloop", "-p", "no:asyncio", "-p pytest_aioloop.plugin"]
        required_plugins = "pytest-aioloop pytest-xdist"
        asyncio_mode = "auto"
        asyncio_default_fixture_loop_scope = "function"
        """
    out = check_rewrite(capsys, project, "pyproject.toml", before, after)
    assert "rewrote pyproject.toml (9 dependencies, 2 -p options)" in out
    for line in (
        "  pyproject.toml:6: Pytest_Asyncio[testing] >= 0.23, <2 -> pytest-aioloop (version "
        "specifier >= 0.23, <2 dropped: pytest-aioloop has its own versions; extras [testing] "
        "dropped: pytest-aioloop has none)",
        "  pyproject.toml:10: pytest-asyncio -> pytest-aioloop",
        '  pyproject.toml:24: pytest-asyncio -> pytest-aioloop (version "^0.23" -> "*": '
        "pytest-aioloop has its own versions)",
        "note: pyproject.toml:33: -p no:asyncio left as is: it keeps pytest-asyncio out and does "
        "not disable pytest-aioloop (-p no:aioloop does)",
    ):
        assert line in out.splitlines()


def test_setup_cfg(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = """\
        [metadata]
        name = demo

        [options]
        install_requires =
            pytest-asyncio>=0.21  # the plugin
            attrs
        tests_require = pytest_asyncio

        [options.extras_require]
        test =
            pytest
            pytest-asyncio==0.23.5; python_version<"3.12"

        [tool:pytest]
        addopts = -p asyncio --strict-markers
        asyncio_mode = strict
        """
    after = """\
        [metadata]
        name = demo

        [options]
        install_requires =
            pytest-aioloop  # the plugin
            attrs
        tests_require = pytest-aioloop

        [options.extras_require]
        test =
            pytest
            pytest-aioloop; python_version<"3.12"

        [tool:pytest]
        addopts = -p aioloop --strict-markers
        asyncio_mode = strict
        """
    out = check_rewrite(capsys, project, "setup.cfg", before, after)
    assert "rewrote setup.cfg (3 dependencies, 1 -p option)" in out


def test_tox_ini(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = """\
        [tox]
        env_list = py311, lint

        [testenv]
        deps =
            pytest
            py311: pytest-asyncio>=0.23
            -r requirements.txt
        commands = pytest -p asyncio -p no:asyncio {posargs}

        [testenv:lint]
        deps = ruff

        [pytest]
        required_plugins = pytest-asyncio>=0.23
        """
    after = """\
        [tox]
        env_list = py311, lint

        [testenv]
        deps =
            pytest
            py311: pytest-aioloop
            -r requirements.txt
        commands = pytest -p aioloop -p no:asyncio {posargs}

        [testenv:lint]
        deps = ruff

        [pytest]
        required_plugins = pytest-aioloop
        """
    out = check_rewrite(capsys, project, "tox.ini", before, after)
    assert "rewrote tox.ini (2 dependencies, 1 -p option)" in out
    assert "note: tox.ini:9: -p no:asyncio left as is" in out


def test_pytest_ini(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = """\
        [pytest]
        addopts =
            -p asyncio
            -p pytest_asyncio
        asyncio_mode = auto
        """
    after = """\
        [pytest]
        addopts =
            -p aioloop
            -p pytest_aioloop
        asyncio_mode = auto
        """
    check_rewrite(capsys, project, "pytest.ini", before, after)


def test_tox_toml_pytest_toml_and_poetry_sources(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project,
        {
            "tox.toml": """\
                [env_run_base]
                deps = ["pytest-asyncio>=0.23"]
                commands = [["pytest", "-p", "asyncio", { replace = "posargs", extend = true }]]
                """,
            "pytest.toml": """\
                [pytest]
                addopts = ["-p", "pytest_asyncio", "--strict-markers"]
                """,
            "pyproject.toml": """\
                [tool.poetry.group.test.dependencies]
                pytest-asyncio = { git = "https://github.com/pytest-dev/pytest-asyncio.git" }
                """,
        },
    )
    out, _ = migrate(capsys)
    assert (project / "tox.toml").read_text() == textwrap.dedent(
        """\
        [env_run_base]
        deps = ["pytest-aioloop"]
        commands = [["pytest", "-p", "aioloop", { replace = "posargs", extend = true }]]
        """
    )
    assert (project / "pytest.toml").read_text() == textwrap.dedent(
        """\
        [pytest]
        addopts = ["-p", "pytest_aioloop", "--strict-markers"]
        """
    )
    assert "pytest-asyncio = { git" in (project / "pyproject.toml").read_text()
    assert (
        "note: pyproject.toml:2: pytest-asyncio from a git, path or url source, left as is: "
        "replace it with pytest-aioloop by hand"
    ) in out.splitlines()


@pytest.mark.parametrize(
    "name",
    ["requirements.txt", "requirements-dev.in", "test-requirements.txt", "requirements/ci.txt"],
)
def test_requirements_files(project: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    before = """\
        # test dependencies
        -r base.txt
        pytest>=8
        pytest-asyncio==0.23.5  # pinned
        Pytest_Asyncio ; sys_platform == "linux"
        pytest.asyncio>=0.21 \\
            --no-binary :all:
        git+https://github.com/pytest-dev/pytest-asyncio.git#egg=pytest-asyncio
        """
    after = """\
        # test dependencies
        -r base.txt
        pytest>=8
        pytest-aioloop  # pinned
        pytest-aioloop ; sys_platform == "linux"
        pytest-aioloop \\
            --no-binary :all:
        git+https://github.com/pytest-dev/pytest-asyncio.git#egg=pytest-asyncio
        """
    out = check_rewrite(capsys, project, name, before, after)
    assert f"rewrote {Path(name)} (3 dependencies)" in out
    assert (
        f"note: {Path(name)}:8: still mentions pytest-asyncio; not a dependency or a -p option, "
        "so left as is"
    ) in out


def test_hashed_requirements_are_left_to_the_lock_tool(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = "pytest-asyncio==0.23.5 \\\n    --hash=sha256:0123\n"
    write(project, {"requirements.txt": locked})
    out, _ = migrate(capsys)
    assert (project / "requirements.txt").read_text() == locked
    assert "note: requirements.txt:1: a hashed (locked) requirement, left as is" in out
    assert "0 files rewritten, 1 unchanged" in out


@pytest.mark.parametrize(
    "spelling",
    ["pytest-asyncio", "pytest_asyncio", "Pytest-Asyncio", "PYTEST.ASYNCIO", "pytest--_asyncio"],
)
def test_every_pep503_spelling_is_a_dependency(
    project: Path, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    write(project, {"requirements.txt": f"{spelling}>=0.21\npytest-asyncio-extra\n"})
    migrate(capsys)
    assert (project / "requirements.txt").read_text() == "pytest-aioloop\npytest-asyncio-extra\n"


# -- pytest-aiokit for the port fixtures -----------------------------------------------------------


@pytest.mark.parametrize(
    ("test_file", "use"),
    [
        ("def test_a(unused_tcp_port): ...\n", "1 uses unused_tcp_port"),
        (
            "def test_a(request):\n    request.getfixturevalue('unused_udp_port_factory')\n",
            "2 uses unused_udp_port_factory",
        ),
        (
            "def test_a(pytester):\n    pytester.makepyfile('def test(unused_udp_port): ...')\n",
            "2 uses unused_udp_port",
        ),
    ],
    ids=["parameter", "getfixturevalue", "pytester-source"],
)
def test_port_fixtures_need_pytest_aiokit(
    project: Path, capsys: pytest.CaptureFixture[str], test_file: str, use: str
) -> None:
    write(
        project,
        {
            "pyproject.toml": '[project]\ndependencies = ["pytest-asyncio>=0.23"]\n',
            "requirements.txt": "pytest-asyncio\n",
            "tests/test_net.py": test_file,
            "pytest.ini": "[pytest]\nrequired_plugins = pytest-asyncio\n",
        },
    )
    out, _ = migrate(capsys)
    assert (project / "pyproject.toml").read_text() == (
        '[project]\ndependencies = ["pytest-aiokit"]\n'
    )
    assert (project / "requirements.txt").read_text() == "pytest-aiokit\n"
    # required_plugins names the plugin's distribution, which pytest-aiokit installs.
    assert (project / "pytest.ini").read_text() == "[pytest]\nrequired_plugins = pytest-aioloop\n"
    assert (
        f"pytest-aiokit rather than pytest-aioloop: {Path('tests/test_net.py')}:{use}, a port "
        "fixture that pytest-aioloop alone does not provide "
        "(pytest-aiokit is pytest-aioloop with pytest-ports)"
    ) in out.splitlines()


@pytest.mark.parametrize(
    "test_file",
    [
        "# unused_tcp_port is not used here\ndef test_a(): ...\n",
        "import pytest\n\n@pytest.fixture\ndef unused_tcp_port(): ...\n\n"
        "def test_a(unused_tcp_port): ...\n",
    ],
    ids=["comment", "defined-by-the-suite"],
)
def test_port_fixtures_in_comments_or_defined_by_the_suite_do_not(
    project: Path, capsys: pytest.CaptureFixture[str], test_file: str
) -> None:
    write(project, {"requirements.txt": "pytest-asyncio\n", "tests/test_net.py": test_file})
    out, _ = migrate(capsys)
    assert (project / "requirements.txt").read_text() == "pytest-aioloop\n"
    assert "pytest-aiokit" not in out


def test_explicit_dependency_file_looks_at_its_directory_for_port_fixtures(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project,
        {
            "pkg/requirements.txt": "pytest-asyncio\n",
            "pkg/tests/test_net.py": "def test_a(unused_tcp_port): ...\n",
        },
    )
    migrate(capsys, "pkg/requirements.txt")
    assert (project / "pkg/requirements.txt").read_text() == "pytest-aiokit\n"
    assert (project / "pkg/tests/test_net.py").read_text() == "def test_a(unused_tcp_port): ...\n"


# -- modes, exit codes and the files walked -------------------------------------------------------

SMALL_TREE = {
    "pyproject.toml": '[project]\ndependencies = ["pytest-asyncio>=0.23"]\n',
    "tests/test_a.py": "import pytest_asyncio\n",
    "tests/test_b.py": "import pytest\n",
}


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        path.relative_to(root).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_diff_prints_a_patch_and_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, SMALL_TREE)
    before = _snapshot(project)
    out, err = migrate(capsys, "--diff")
    assert _snapshot(project) == before
    assert out == textwrap.dedent(
        """\
        --- pyproject.toml
        +++ pyproject.toml
        @@ -1,2 +1,2 @@
         [project]
        -dependencies = ["pytest-asyncio>=0.23"]
        +dependencies = ["pytest-aioloop"]
        --- tests/test_a.py
        +++ tests/test_a.py
        @@ -1 +1 @@
        -import pytest_asyncio
        +import pytest_aioloop
        """
    )
    assert err.splitlines() == [
        "would rewrite pyproject.toml (1 dependency)",
        "  pyproject.toml:2: pytest-asyncio>=0.23 -> pytest-aioloop (version specifier >=0.23 "
        "dropped: pytest-aioloop has its own versions)",
        f"would rewrite {Path('tests/test_a.py')} (1 rename of pytest_asyncio)",
        "2 files would be rewritten, 1 unchanged",
    ]


def test_diff_marks_a_missing_newline_at_the_end(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "a.py").write_text("import pytest_asyncio")
    out, _ = migrate(capsys, "--diff")
    assert out.endswith(
        "-import pytest_asyncio\n\\ No newline at end of file\n"
        "+import pytest_aioloop\n\\ No newline at end of file\n"
    )


def test_check_exit_codes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, SMALL_TREE)
    before = _snapshot(project)
    out, _ = migrate(capsys, "--check", expect=1)
    assert _snapshot(project) == before
    assert out.splitlines()[-1] == "2 files would be rewritten, 1 unchanged"
    migrate(capsys, "--check", "--diff", expect=1)
    migrate(capsys)
    out, _ = migrate(capsys, "--check", expect=0)
    assert out == "0 files would be rewritten, 3 unchanged\n"


def test_running_twice_changes_nothing_the_second_time(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project,
        {
            **SMALL_TREE,
            "setup.cfg": "[options]\ninstall_requires = pytest-asyncio\n",
            "tox.ini": "[testenv]\ndeps = pytest-asyncio\ncommands = pytest -p asyncio\n",
            "requirements.txt": "pytest-asyncio==0.23\n",
            "noxfile.py": 'session.install("pytest-asyncio")\nsession.run("-p", "asyncio")\n',
        },
    )
    first, _ = migrate(capsys)
    assert "6 files rewritten, 1 unchanged" in first
    after_first = _snapshot(project)
    second, _ = migrate(capsys)
    assert second == "0 files rewritten, 7 unchanged\n"
    assert _snapshot(project) == after_first


def test_files_that_need_no_change_are_not_touched(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, SMALL_TREE)
    untouched = project / "tests" / "test_b.py"
    os.utime(untouched, ns=(1_000_000_000, 1_000_000_000))
    migrate(capsys)
    assert untouched.stat().st_mtime_ns == 1_000_000_000


def test_skipped_directories_and_explicit_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    skipped = [
        ".git/hook.py",
        ".nox/a/x.py",
        ".tox/py/x.py",
        ".venv/x.py",
        "venv/x.py",
        "env/x.py",  # a virtualenv: it holds pyvenv.cfg
        "node_modules/x.py",
        "build/x.py",
        "dist/x.py",
        "demo.egg-info/x.py",
        "lib/site-packages/x.py",
        "src/__pycache__/x.py",
        "README.md",
        "notes.txt",
    ]
    write(project, dict.fromkeys(skipped, "import pytest_asyncio\n"))
    write(project, {"env/pyvenv.cfg": "home = /usr\n", "src/pkg/mod.py": "import pytest_asyncio\n"})
    out, _ = migrate(capsys)
    assert out.splitlines() == [
        f"rewrote {Path('src/pkg/mod.py')} (1 rename of pytest_asyncio)",
        "1 file rewritten, 0 unchanged",
    ]
    for name in skipped:
        assert (project / name).read_text() == "import pytest_asyncio\n", name
    # Files named on the command line are migrated wherever they are, read by their suffix.
    out, _ = migrate(capsys, "build/x.py", "notes.txt", "src/pkg/mod.py")
    assert (project / "build/x.py").read_text() == "import pytest_aioloop\n"
    assert out.splitlines()[-1] == "1 file rewritten, 2 unchanged"


def test_unreadable_files_are_reported_and_the_others_still_done(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project,
        {
            "a_bad.py": 'x = """never closed\nimport pytest_asyncio\n',
            "pyproject.toml": '[project\ndependencies = ["pytest-asyncio"]\n',
            "b_good.py": "import pytest_asyncio\n",
        },
    )
    (project / "requirements.txt").write_bytes(b"pytest-asyncio  # \xff\n")
    (project / "c_latin1.py").write_bytes(b"x = '\xe9'\n")  # not UTF-8, and no coding cookie
    out, err = migrate(capsys, ".", "missing", expect=1)
    assert (project / "b_good.py").read_text() == "import pytest_aioloop\n"
    assert (project / "a_bad.py").read_text().endswith("import pytest_asyncio\n")
    assert err.splitlines() == [
        "error: missing: no such file or directory",
        "error: a_bad.py: line 1: EOF in multi-line string; skipped",
        "error: c_latin1.py: cannot decode: invalid or missing encoding declaration; skipped",
        "error: pyproject.toml: line 1: not valid TOML (expected ']'); skipped",
        "error: requirements.txt: cannot decode as utf-8: byte 0xff at offset 18; skipped",
    ]
    assert out.splitlines()[-1] == "1 file rewritten, 0 unchanged, 5 skipped with errors"


def test_an_explicit_file_of_another_kind_is_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, {"README.md": "pytest_asyncio\n"})
    _, err = migrate(capsys, "README.md", expect=1)
    assert err == "error: README.md: not a Python, TOML, INI or requirements file\n"


# -- the command line ----------------------------------------------------------------------------


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_aioloop import __version__

    for argv, needle in (
        (["--help"], "migrate   rewrite a project from pytest-asyncio to pytest-aioloop"),
        (["migrate", "--help"], "names that only start with pytest_asyncio (the hook"),
        (["--version"], f"pytest-aioloop {__version__}"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0
        assert needle in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "the following arguments are required: COMMAND" in capsys.readouterr().err


def test_python_dash_m(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text("import pytest_asyncio\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest_aioloop", "migrate", "--check", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[-1] == "1 file would be rewritten, 0 unchanged"


def test_the_command_imports_neither_pytest_nor_asyncio(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text("import pytest_asyncio\n")
    code = (
        "import sys; from pytest_aioloop.__main__ import main; "
        f"status = main(['migrate', {str(tmp_path)!r}]); "
        "heavy = sorted({'pytest', 'asyncio'} & set(sys.modules)); "
        "assert not heavy, f'imported: {heavy}'; sys.exit(status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "test_a.py").read_text() == "import pytest_aioloop\n"


def test_version_imports_neither_pytest_nor_asyncio() -> None:
    from pytest_aioloop import __version__

    code = """\
        import runpy, sys
        sys.argv = ["pytest_aioloop", "--version"]  # python -m pytest_aioloop --version
        try:
            runpy.run_module("pytest_aioloop", run_name="__main__", alter_sys=True)
        finally:
            print(sorted({"pytest", "asyncio"} & set(sys.modules)))
        """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"pytest-aioloop {__version__}", "[]"]


# -- a real tree: pytest-asyncio 1.5.0's sdist ----------------------------------------------------


def _sdist() -> bytes:
    """Return the sdist, from the oracle's or this test's cache, or else from PyPI."""
    cache = Path(tempfile.gettempdir()) / "aiokit-tests" / SDIST
    for path in (ROOT / "tests" / "asyncio_suites" / "oracle" / ".work" / "cache" / SDIST, cache):
        if path.is_file():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() == SDIST_SHA256:
                return data
    request = urllib.request.Request(SDIST_URL, headers={"User-Agent": "aiokit-tests"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            downloaded: bytes = response.read()
    except OSError as error:
        pytest.fail(
            f"cannot download {SDIST_URL}: {error}. This test needs the network once; or put "
            f"the file (sha256 {SDIST_SHA256}) at {cache}",
            pytrace=False,
        )
    digest = hashlib.sha256(downloaded).hexdigest()
    assert digest == SDIST_SHA256, f"{SDIST_URL}: sha256 {digest}, expected {SDIST_SHA256}"
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_name(f"{SDIST}.{os.getpid()}.part")
    partial.write_bytes(downloaded)
    os.replace(partial, cache)  # atomic: parallel runs never see half a file
    return downloaded


def _extract(data: bytes, target: Path) -> dict[PurePosixPath, bytes]:
    files: dict[PurePosixPath, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            parts = PurePosixPath(member.name).parts[1:]  # below the top directory
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is None or not parts or ".." in parts:
                continue
            files[PurePosixPath(*parts)] = handle.read()
    for name, content in files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(content)
    return files


def test_pytest_asyncio_own_suite(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The whole sdist: Python files come out as the oracle's rename makes them, nothing else."""
    original = _extract(_sdist(), project)
    out, err = migrate(capsys)
    assert err == ""
    expected_changes = set()
    python_files = 0
    for name, content in original.items():
        new = (project / name).read_bytes()
        if name.suffix != ".py" or "pytest_asyncio.egg-info" in name.parts:
            assert new == content, name  # its configuration declares no pytest-asyncio
            continue
        python_files += 1
        text = content.decode()
        assert new.decode() == ORACLE_RENAME.sub("pytest_aioloop", text), name
        assert ORACLE_RENAME.search(new.decode()) is None, name
        hooks = "pytest_asyncio_loop_factories"
        assert new.decode().count(hooks) == text.count(hooks), name
        if new != content:
            expected_changes.add(name)
    assert python_files > 50
    rewritten = {
        PurePosixPath(Path(line.split()[1]).as_posix())
        for line in out.splitlines()
        if line.startswith("rewrote ")
    }
    assert rewritten == expected_changes
    assert len(rewritten) == 30
    assert "test_loop_factory_parametrization.py (44 renames of pytest_asyncio)" in out
    assert out.splitlines()[-1] == "30 files rewritten, 36 unchanged"
    again, _ = migrate(capsys)
    assert again.splitlines()[-1] == "0 files rewritten, 66 unchanged"


# -- the how-to's example ------------------------------------------------------------------------


def _docs_section() -> str:
    page = DOCS_PAGE.read_text(encoding="utf-8")
    start = page.index("## Migrate in one command")
    return page[start : page.index("\n## ", start + 1)]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)


def test_docs_example_is_real_output(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The how-to's diff shows whole files: rebuild them from its old side, and rerun it."""
    section = _docs_section()
    (diff,) = _blocks(section, "diff")
    for patch in re.split(r"^(?=--- )", diff, flags=re.MULTILINE)[1:]:
        header, _, hunk = patch.partition("\n@@ -1,")
        name = header.removeprefix("--- ").split("\n")[0]
        old = [line[1:] for line in hunk.splitlines()[1:] if line[:1] in (" ", "-")]
        write(project, {name: "".join(f"{line}\n" for line in old)})
    out, err = migrate(capsys, "--diff")
    assert out == diff
    (messages,) = [block for block in _blocks(section, "text") if "would rewrite" in block]
    assert err == messages
