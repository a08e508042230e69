"""Run nox, the project's task runner, from an environment of its own (``.nox-env/``).

``python3 noxw.py`` runs every default session (what CI runs); ``python3 noxw.py -s demo`` runs
the example suite; any other arguments go to nox (``python3 noxw.py --list``). The first run
creates ``.nox-env/`` with ``venv`` and installs nox (with uv) into it, so nothing is installed
into your Python: this works with a system Python that forbids it (PEP 668, as on Debian and
Ubuntu), pyenv's, python.org's or Homebrew's. It needs Python 3.10 or newer and, on Debian or
Ubuntu, the ``python3-venv`` package.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
ENV = ROOT / ".nox-env"
#: What the environment holds; changing it makes the next run reinstall.
REQUIREMENTS = ("nox[uv]>=2025.2.9",)
STAMP = ENV / "noxw-installed.txt"


def _python() -> Path:
    return ENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ready() -> bool:
    try:
        return _python().exists() and STAMP.read_text() == "\n".join(REQUIREMENTS)
    except OSError:
        return False


def _create() -> None:
    print(f"noxw: creating {ENV.name}/ with nox (first run only)", file=sys.stderr)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(ENV)
    except (OSError, subprocess.CalledProcessError) as exc:
        sys.exit(
            f"noxw: could not create {ENV}: {exc}.\n"
            "On Debian or Ubuntu, install the venv module first: sudo apt-get install python3-venv"
        )
    pip = [str(_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    result = subprocess.run([*pip, *REQUIREMENTS], check=False)
    if result.returncode != 0:
        sys.exit(f"noxw: could not install {' '.join(REQUIREMENTS)} into {ENV}.")
    STAMP.write_text("\n".join(REQUIREMENTS))


def main() -> int:
    """Create the environment if needed, then run nox in it with this command's arguments."""
    if sys.version_info < (3, 10):  # noqa: UP036 - run by any python3, so say it clearly
        sys.exit("noxw: Python 3.10 or newer is needed.")
    if not _ready():
        _create()
    command = [str(_python()), "-m", "nox", "--noxfile", str(ROOT / "noxfile.py"), *sys.argv[1:]]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
