"""Store -> other toolboxes' files: a PYSKL annotation pickle, a CTR-GCN npz.

So that a store prepared by skelact can be fed to PYSKL / MMAction2 or CTR-GCN-family code (and results
compared on identical data), and so that the readers can be checked by exact round trips.

Split names follow `skelact.data.formats.pyskl_pickle`: the store's ``<p>_test`` is PYSKL's ``<p>_val``,
``splitK_train``/``splitK_test`` are ``trainK``/``testK``, ``test`` is ``val``. By default the *official*
splits are exported: ``<p>_train_full`` (the whole official training set) as PYSKL's ``<p>_train``, and the
validation carved by skelact (``<p>_val``, which PYSKL has no name for) is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path

from skelact.data.formats.ctrgcn_npz import SECOND_ACTOR_BY_DATASET, SecondActor, write_ctrgcn_npz
from skelact.data.formats.pyskl_pickle import pyskl_split_name, sample_to_annotation, write_pyskl_pickle
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError

StoreLike = SkeletonStore | str | PathLike[str]


class _LazySamples(Sequence):
    """Samples of one split read on demand, so exporting NTU does not hold every sample in memory."""

    def __init__(self, store: SkeletonStore, indices: Sequence[int]) -> None:
        self.store, self.indices = store, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.store[int(self.indices[i])]


def _open(store: StoreLike) -> SkeletonStore:
    return store if isinstance(store, SkeletonStore) else SkeletonStore(store)


def pyskl_split_selection(
    store_splits: Sequence[str], splits: Sequence[str] | Mapping[str, str] | None
) -> dict[str, str]:
    """{store split: PYSKL name}. None = the official splits; a list = those splits under their mapped names;
    a mapping = explicit names."""
    if isinstance(splits, Mapping):
        chosen = dict(splits)
    else:
        names = list(store_splits) if splits is None else list(splits)
        chosen = {}
        for name in names:
            full = f"{name}_full"
            if splits is None and full in store_splits:
                continue  # the reduced training split; its _full twin is exported under the official name
            if name.endswith("train_full"):
                target = pyskl_split_name(name[: -len("_full")])
            else:
                target = pyskl_split_name(name)
            if target is None:
                if splits is None:
                    continue  # carved validation: no PYSKL name
                raise ConfigError(
                    f"split {name!r} is a validation split carved by skelact; PYSKL has no name for it "
                    "(its '*_val' means test)",
                    hint="pass a mapping {store split: PYSKL name} to export it under a name of your choice",
                )
            chosen[name] = target
    unknown = [name for name in chosen if name not in store_splits]
    if unknown:
        raise ConfigError(f"the store has no split {unknown[0]!r} (it has {', '.join(store_splits)})")
    targets = list(chosen.values())
    clash = next((t for t in targets if targets.count(t) > 1), None)
    if clash is not None:
        raise ConfigError(f"two store splits would both be written as PYSKL split {clash!r}")
    return chosen


def export_pyskl(
    store: StoreLike,
    path: str | PathLike[str],
    splits: Sequence[str] | Mapping[str, str] | None = None,
    *,
    dtype: str | None = None,
) -> Path:
    """Write every sample of `store` as a PYSKL annotation pickle with the selected splits; return the path.

    Keypoints are written as `dtype`, by default the store's own storage type, so the round trip is exact.
    ``"float16"`` gives files like PYSKL's releases (rounding a float32 store's values).
    """
    store = _open(store)
    dtype = store.dtype if dtype is None else dtype
    selection = pyskl_split_selection(list(store.splits), splits)
    ids = store.sample_ids
    annotations = [sample_to_annotation(sample, dtype=dtype) for sample in store]
    split = {target: [ids[i] for i in store.split(name)] for name, target in selection.items()}
    return write_pyskl_pickle(path, annotations, split)


def export_ctrgcn_npz(
    store: StoreLike,
    path: str | PathLike[str],
    train_split: str,
    test_split: str,
    dataset: str,
    *,
    second_actor: SecondActor | None = None,
    max_frames: int | None = None,
    extras: bool = True,
) -> Path:
    """Write two splits of an NTU-25 3D store as CTR-GCN's npz (``x_train`` from `train_split`, ``x_test``
    from `test_split`); return the path.

    `dataset` (``ntu60`` / ``ntu120``) picks the official second-actor convention (zeros / a copy of actor
    1) unless `second_actor` overrides it. One-hot width = the store's class count. See `write_ctrgcn_npz`.
    """
    store = _open(store)
    if dataset not in SECOND_ACTOR_BY_DATASET:
        raise ConfigError(f"dataset must be one of {', '.join(SECOND_ACTOR_BY_DATASET)}, got {dataset!r}")
    if store.layout.name != "ntu25" or store.num_channels != 3:
        raise ConfigError(
            f"a CTR-GCN npz holds NTU-25 3D skeletons; the store is {store.layout.name} "
            f"with {store.num_channels} coordinates"
        )
    parts = {
        "train": _LazySamples(store, store.split(train_split)),
        "test": _LazySamples(store, store.split(test_split)),
    }
    return write_ctrgcn_npz(
        path,
        parts,
        num_classes=store.num_classes,
        second_actor=second_actor or SECOND_ACTOR_BY_DATASET[dataset],
        max_frames=max_frames,
        class_names=store.class_names,
        extras=extras,
    )
