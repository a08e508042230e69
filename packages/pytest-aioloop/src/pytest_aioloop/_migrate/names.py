"""What ``migrate`` renames: the module, the ``-p`` plugin names, the distribution."""

from __future__ import annotations

import re

OLD_MODULE = "pytest_asyncio"
NEW_MODULE = "pytest_aioloop"
#: The distribution that replaces pytest-asyncio.
NEW_DISTRIBUTION = "pytest-aioloop"
#: pytest-aioloop with pytest-ports: what a suite that uses the port fixtures needs.
KIT_DISTRIBUTION = "pytest-aiokit"
#: pytest-asyncio's fixtures that pytest-aioloop alone does not provide.
PORT_FIXTURES = (
    "unused_tcp_port",
    "unused_udp_port",
    "unused_tcp_port_factory",
    "unused_udp_port_factory",
)

# The same word boundaries as ``\bpytest_asyncio\b``: ``pytest_asyncio_loop_factories`` and
# ``my_pytest_asyncio`` are other names.
MODULE = re.compile(rf"\b{OLD_MODULE}\b")
# ``-p asyncio`` and ``-p pytest_asyncio[.plugin]``; not ``-p no:asyncio`` nor ``--p``.
P_OPTION = re.compile(rf"(?<![\w-])(-p\s*)(asyncio|{OLD_MODULE})(?![\w:])")
P_NAMES = {"asyncio": "aioloop", OLD_MODULE: NEW_MODULE}
NO_ASYNCIO = re.compile(r"(?<![\w-])no:asyncio\b")
# A line of a configuration file that names pytest-asyncio in any PEP 503 spelling.
MENTION = re.compile(r"\bpytest[-_.]+asyncio\b", re.IGNORECASE)
NO_ASYNCIO_NOTE = (
    "-p no:asyncio left as is: it keeps pytest-asyncio out and does not disable "
    "pytest-aioloop (-p no:aioloop does)"
)


def is_pytest_asyncio(name: str) -> bool:
    """Return whether a distribution name is pytest-asyncio's, in any PEP 503 spelling."""
    return re.sub(r"[-_.]+", "-", name).lower() == "pytest-asyncio"
