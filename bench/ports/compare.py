"""Compare pytest-ports with pytest-asyncio's and anyio's port finders, side by side.

Runs the port-collision scenarios (plus the IPv6-disabled check) for each algorithm in the same run,
each in a fresh ``unshare -rn`` network namespace, and prints duplicate and steal counts. Needs
pytest-asyncio, anyio, pytest-xdist and pytest-ports in the running Python::

    uv venv /tmp/benchvenv
    uv pip install -p /tmp/benchvenv pytest pytest-xdist pytest-asyncio anyio \
        ./packages/pytest-ports
    /tmp/benchvenv/bin/python bench/ports/compare.py
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("scenarios.py")
ALGOS = ("pytest-ports", "pytest-asyncio", "anyio")


def run(scenario: str, algo: str, size: int) -> dict[str, object]:
    """Run one scenario (in its own namespace, see scenarios.py) and return its result."""
    out = subprocess.run(
        [sys.executable, str(SCRIPT), scenario, algo, "--size", str(size)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return result


ROWS = (
    ("procs", 2000, "4 processes x 2000 TCP ports: ports held by 2+ processes", "duplicates"),
    ("xdist", 2000, "pytest -n 4, 2000 tests: ports handed to 2+ workers", "duplicates"),
    ("steal-tcp", 700, "range 40000-40999, 200 TCP ports + 700 connections: taken", "stolen"),
    ("steal-udp", 300, "range 40000-40999, 200 UDP ports + 300 UDP sockets: taken", "stolen"),
    ("noipv6", 100, "disable_ipv6=1 on lo: seconds for 100 ports", "seconds"),
)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def main() -> None:
    parser = argparse.ArgumentParser(description="pytest-ports vs pytest-asyncio vs anyio")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell (default 1)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    args = parser.parse_args()
    print(f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print("# " + ", ".join(f"{d} {_version(d)}" for d in ALGOS))
    header = ["scenario", *ALGOS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    print("\n".join(lines), flush=True)
    for scenario, full_size, label, field in ROWS:
        size = max(full_size // 20, 5) if args.smoke else full_size
        cells = [label]
        for algo in ALGOS:
            values = []
            for _ in range(args.repeat):
                result = run(scenario, algo, size)
                if result.get("hung"):
                    values.append("hung (>10 s)")
                else:
                    values.append(str(result.get(field, result)))
            cells.append(", ".join(values))
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    if os.environ.get("PORTS_BENCH_OUT"):  # e.g. for CI artifacts
        Path(os.environ["PORTS_BENCH_OUT"]).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
