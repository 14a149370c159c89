"""Running `skelact` commands from the benchmark scripts, and finding what their runs wrote.

Not a benchmark itself: the scripts beside it import it (`python benchmarks/<script>.py` puts this folder
on the import path).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def skelact(*args: str) -> None:
    """`skelact ARGS` in a child process (stdout dropped), the command printed to stderr first."""
    command = [sys.executable, "-m", "skelact.cli.main", *args]
    print("+ skelact " + " ".join(args), file=sys.stderr, flush=True)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def last_ckpt(root: Path) -> Path:
    """The last.ckpt of the newest version_N run under `root`; exits naming `root` where there is none."""
    found = sorted(root.glob("version_*/checkpoints/last.ckpt"), key=lambda p: int(p.parts[-3][8:]))
    if not found:
        raise SystemExit(f"no last.ckpt under {root}")
    return found[-1]


def latest_test_metrics(root: Path) -> dict[str, Any] | None:
    """The metrics.json of the newest `skelact test` under `root` (version_N/test), None before any."""
    found = sorted(root.glob("version_*/test/metrics.json"), key=lambda p: int(p.parts[-3][8:]))
    return json.loads(found[-1].read_text()) if found else None
