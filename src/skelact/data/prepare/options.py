"""What every store-writing recipe is told besides its own options: where to read and write, and how."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from skelact.errors import ConfigError
from skelact.options import Options, option


@dataclass(frozen=True, kw_only=True)
class NoOptions(Options):
    """For a recipe with nothing to choose (layout, classes and splits fixed by its files)."""


@dataclass(frozen=True, kw_only=True)
class CarveOptions(Options):
    """The validation carve. A recipe whose own split is random inherits this too, so that one seed
    drives both (on the command line one ``--seed`` sets the runner's and the recipe's)."""

    val_fraction: float = option(
        "fraction of each training split carved out as validation, by subject where known (0 = none)", 0.1
    )
    val_by: Literal["auto", "subject", "class"] = option(
        "how validation is carved: 'subject' takes whole subjects (needs a subject for every clip); 'class' "
        "takes the fraction from every class, for data with few subjects, where whole subjects overshoot "
        "the fraction and leave classes without validation clips; 'auto' is 'subject' when the clips name "
        "two or more subjects, else 'class'",
        "auto",
    )
    seed: int = option("seed of the validation carve", 0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"`val_fraction` must be in [0, 1), got {self.val_fraction}")


@dataclass(frozen=True, kw_only=True)
class RunOptions(CarveOptions):
    """The runner's options (`skelact.data.prepare.runner.run_job`)."""

    raw: Path = option("raw file or folder to read")
    out: Path = option("directory of the new store")
    workers: int | None = option("parsing processes (default: all CPU cores)", None)
    skip_bad: bool = option(
        "list malformed inputs in the summary and the store's provenance instead of stopping", False
    )
    overwrite: bool = option("replace an existing store", False)
    dtype: Literal["float32", "float16"] = option(
        "storage type of keypoints and scores: float32 keeps the reader's values exactly; float16 halves "
        "the size but rounds to about 3 significant digits, which shifts motion features (docs/results.md)",
        "float32",
    )
    progress: bool = option("no progress bar", True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.workers is not None and self.workers < 1:
            raise ConfigError("`workers` must be at least 1")
