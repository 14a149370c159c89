"""NTU RGB+D benchmarks and their official splits (spec section 3), as pure functions of sample names.

- NTU-60 (setups 1-17, actions 1-60): cross-subject ``xsub`` (training subjects below) and cross-view
  ``xview`` (train cameras 2 and 3, test camera 1).
- NTU-120 (setups 1-32, actions 1-120): ``xsub`` (53 training subjects) and cross-setup ``xset`` (train even
  setup ids, test odd ones).

Verified sizes from the official available-sample lists: NTU-60 xsub 40,091 / 16,487, xview 37,646 / 18,932;
NTU-120 xsub 63,026 / 50,919, xset 54,468 / 59,477.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skelact.data.formats.ntu_skeleton import NtuName, parse_ntu_name
from skelact.data.prepare.job import SampleTable
from skelact.errors import ConfigError

# Training performers of the cross-subject protocol (official code of NTU, PYSKL, MMAction2, CTR-GCN).
TRAIN_SUBJECTS_60: tuple[int, ...] = (
    1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38,
)  # fmt: skip
TRAIN_SUBJECTS_120: tuple[int, ...] = (
    *TRAIN_SUBJECTS_60,
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92,
    93, 94, 95, 97, 98, 100, 103,
)  # fmt: skip
TRAIN_CAMERAS: tuple[int, ...] = (2, 3)


@dataclass(frozen=True)
class NtuBenchmark:
    name: str
    max_setup: int
    max_action: int
    protocols: tuple[str, ...]

    def contains(self, sample: NtuName) -> bool:
        return sample.setup <= self.max_setup and sample.action <= self.max_action


BENCHMARKS: dict[str, NtuBenchmark] = {
    "ntu60": NtuBenchmark("ntu60", max_setup=17, max_action=60, protocols=("xsub", "xview")),
    "ntu120": NtuBenchmark("ntu120", max_setup=32, max_action=120, protocols=("xsub", "xset")),
}


def get_benchmark(name: str) -> NtuBenchmark:
    if name not in BENCHMARKS:
        raise ConfigError(f"unknown NTU benchmark {name!r}", hint=f"choose one of: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


def name_fields(names: Sequence[str | NtuName]) -> np.ndarray:
    """(N, 5) int64 array of setup, camera, performer, replication, action; a bad name raises FormatError."""
    fields = np.empty((len(names), 5), dtype=np.int64)
    for i, name in enumerate(names):
        r = name if isinstance(name, NtuName) else parse_ntu_name(name)
        fields[i] = r.setup, r.camera, r.performer, r.replication, r.action
    return fields


def training_mask(
    names: Sequence[str | NtuName] | np.ndarray, protocol: str, benchmark: str = "ntu120"
) -> np.ndarray:
    """Boolean mask: True where the sample is in `protocol`'s training set (False = test).

    `names` may also be the (N, 5) array of `name_fields`, to parse many names once.
    """
    fields = names if isinstance(names, np.ndarray) and names.ndim == 2 else name_fields(names)
    setup, camera, subject = fields[:, 0], fields[:, 1], fields[:, 2]
    if protocol == "xsub":
        subjects = TRAIN_SUBJECTS_60 if benchmark == "ntu60" else TRAIN_SUBJECTS_120
        return np.isin(subject, subjects)
    if protocol == "xview":
        return np.isin(camera, TRAIN_CAMERAS)
    if protocol == "xset":
        return setup % 2 == 0
    raise ConfigError(f"unknown NTU protocol {protocol!r}", hint="use xsub, xview or xset")


def ntu_split_indices(names: Sequence[str | NtuName], benchmark: str) -> dict[str, np.ndarray]:
    """``<protocol>_train`` / ``<protocol>_test`` index arrays for every protocol of `benchmark`.

    Samples outside the benchmark (e.g. an NTU-120 action in an NTU-60 list) belong to no split.
    """
    bench = get_benchmark(benchmark)
    fields = name_fields(names)
    inside = (fields[:, 0] <= bench.max_setup) & (fields[:, 4] <= bench.max_action)
    splits: dict[str, np.ndarray] = {}
    for protocol in bench.protocols:
        train = training_mask(fields, protocol, benchmark)
        splits[f"{protocol}_train"] = np.flatnonzero(inside & train)
        splits[f"{protocol}_test"] = np.flatnonzero(inside & ~train)
    return splits


class NtuSplits:
    """Picklable split function for `PrepareJob`: the official splits from the kept samples' ids."""

    def __init__(self, benchmark: str) -> None:
        self.benchmark = get_benchmark(benchmark).name

    def __call__(self, table: SampleTable) -> dict[str, np.ndarray]:
        return ntu_split_indices(table.ids, self.benchmark)
