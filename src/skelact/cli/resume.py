"""Which run `skelact fit --ckpt_path` resumes, and from which file.

A run is `ROOT/version_N/`: `checkpoints/`, `config.yaml`, `metrics.csv` and the TensorBoard events. A resumed
run continues in that same directory, not in a new `version_N`: its checkpoint folder stays the folder the
checkpoint recorded, so `ModelCheckpoint` restores its best score and files (Lightning restores them only
when the folder is unchanged) and the resumed run selects what the uninterrupted run would have.

`--ckpt_path` for `fit` takes:

- `last`: the run under ROOT that holds `checkpoints/last.ckpt`. ROOT is `--trainer.default_root_dir` from the
  command line, else from the last `--config` file that sets it, else `runs`. No such run, or several, is a
  one-line error naming what was looked for (Lightning alone would start a new run with a warning).
- a run directory `ROOT/version_N` (or its `checkpoints/` folder): that run's `last.ckpt`.
- a file inside `ROOT/version_N/checkpoints/`: that run, from that file.
- any other file (Lightning's `hpc_ckpt_N.ckpt` of a SLURM requeue, a copied file): the run whose checkpoint
  folder the file records, if that folder exists; else a new `version_N` under ROOT, where model selection
  starts afresh (Lightning warns that the folder changed).

Under SLURM, a requeued job runs the same command without `--ckpt_path`, and Lightning resumes from the newest
`ROOT/hpc_ckpt_N.ckpt` by itself; `skelact fit` then resumes that file's run in the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skelact.errors import ConfigError
from skelact.inference.pipeline import load_checkpoint

RUN_NAME = re.compile(r"version_\d+")
HPC_NAME = re.compile(r"hpc_ckpt_(\d+)\.ckpt")
LAST = "last.ckpt"


@dataclass(frozen=True)
class Resume:
    """The checkpoint file to resume from and the run directory to continue (None: a new run)."""

    checkpoint: str
    run_dir: Path | None


def run_of(checkpoint: Path) -> Path | None:
    """The run directory a checkpoint file belongs to (`.../version_N/checkpoints/FILE`), else None."""
    folder = checkpoint.parent
    if folder.name == "checkpoints" and RUN_NAME.fullmatch(folder.parent.name):
        return folder.parent
    return None


def recorded_run(checkpoint: dict[str, Any]) -> Path | None:
    """The existing run whose checkpoint folder a loaded checkpoint's ModelCheckpoint state records."""
    for state in (checkpoint.get("callbacks") or {}).values():
        dirpath = state.get("dirpath") if isinstance(state, dict) else None
        if isinstance(dirpath, str) and Path(dirpath).is_dir():
            run = run_of(Path(dirpath) / LAST)
            if run is not None:
                return run
    return None


def newest_hpc_checkpoint(root: str) -> str | None:
    """`ROOT/hpc_ckpt_N.ckpt` with the largest N (what Lightning resumes a requeued SLURM job from)."""
    found = [
        (int(m.group(1)), p) for p in Path(root).glob("hpc_ckpt_*.ckpt") if (m := HPC_NAME.fullmatch(p.name))
    ]
    return str(max(found)[1]) if found else None


def runs_with_last(root: Path) -> list[Path]:
    """The runs under `root` that hold a last.ckpt, oldest version first."""
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if RUN_NAME.fullmatch(p.name) and (p / "checkpoints" / LAST).is_file()]
    return sorted(runs, key=lambda p: int(p.name.split("_", 1)[1]))


def resolve_resume(ckpt_path: str, root: str) -> Resume:
    """Where `skelact fit --ckpt_path CKPT_PATH` resumes; `root` is the configured runs directory."""
    if ckpt_path == "last":
        runs = runs_with_last(Path(root))
        looked = f"{Path(root) / 'version_*' / 'checkpoints' / LAST}"
        if not runs:
            raise ConfigError(
                f"--ckpt_path last: no run to resume, nothing matches {looked}",
                hint="start the run without --ckpt_path, or set --trainer.default_root_dir to the run's root",
            )
        if len(runs) > 1:
            names = ", ".join(p.name for p in runs)
            raise ConfigError(
                f"--ckpt_path last is ambiguous: {root} holds several runs with a {LAST} ({names})",
                hint=f"name the run, e.g. --ckpt_path {runs[-1]}",
            )
        return Resume(str(runs[0] / "checkpoints" / LAST), runs[0])
    path = Path(ckpt_path)
    if path.is_dir():
        folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
        last = folder / LAST
        if not last.is_file():
            raise ConfigError(
                f"--ckpt_path {ckpt_path}: {last} does not exist", hint="is it a run directory?"
            )
        return Resume(str(last), run_of(last))
    run = run_of(path)
    if run is None and path.is_file():
        run = recorded_run(load_checkpoint(path))  # weights only; a bad file is one clear error
    return Resume(ckpt_path, run)
