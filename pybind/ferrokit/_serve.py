"""``python -m ferrokit serve PATH ...``: runs the ``ferrokit-serve`` binary.

The server is a Rust program shipped inside the package (next to the native
library); Python only finds it and replaces itself with it (``os.execv``), so
signals such as SIGTERM reach the server directly.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

BINARY = "ferrokit-serve"


def server_binary() -> Path:
    """Path of the ``ferrokit-serve`` binary.

    ``FERROKIT_SERVE_BINARY`` overrides; otherwise the copy inside the package,
    else one on ``PATH``.

    Example::

        >>> server_binary().name
        'ferrokit-serve'
    """
    override = os.environ.get("FERROKIT_SERVE_BINARY")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent / BINARY
    if here.is_file():
        return here
    found = shutil.which(BINARY)
    if found:
        return Path(found)
    raise FileNotFoundError(
        f"{BINARY} is not in the installed package ({here}); rebuild ferrokit "
        "(`pip install .` or `make build`, which build it with cargo)"
    )


def main(argv: list[str]) -> int:
    """Replaces this process with ``ferrokit-serve argv...`` (returns only on error).

    Example::

        python -m ferrokit serve model.fk --port 8080
    """
    try:
        exe = server_binary()
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(str(exe), [str(exe), *argv])
    return 0  # pragma: no cover (execv does not return)
