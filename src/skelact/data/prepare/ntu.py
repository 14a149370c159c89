"""`skelact prepare ntu`: NTU RGB+D 60/120 raw ``.skeleton`` files to a store, with a codebase's preset.

    skelact prepare ntu --raw nturgb+d_skeletons --out data/ntu60 --benchmark ntu60 --preset pyskl

Items are the ``.skeleton`` files under --raw (searched recursively, sorted by name). Samples named in an
official missing-skeleton list (--missing-list, or a list with its official file name directly in --raw)
are skipped unread; so are samples outside the benchmark (NTU-60 = setups 1-17, actions 1-60) and files in
which no frame lists a body. Everything skipped is counted and listed with its reason.
Presets (ntu_presets): ``pyskl`` (default), ``ctrgcn``, ``agcn``, ``mmaction``; ``--faithful`` switches the
reference code's known bugs back on, ``--preset-option KEY=VALUE`` changes any threshold. The store's
provenance records the preset with every parameter.
"""

from __future__ import annotations

import argparse
import functools
import itertools
from collections.abc import Iterable
from pathlib import Path

from skelact.data.formats.ntu_skeleton import (
    SUFFIX,
    find_missing_lists,
    parse_ntu_name,
    read_missing_list,
    read_ntu_skeleton,
    sample_name_of,
)
from skelact.data.prepare.job import PrepareJob
from skelact.data.prepare.ntu_classes import NTU120_CLASS_NAMES
from skelact.data.prepare.ntu_presets import PRESETS, NtuPreset, apply_preset, get_preset
from skelact.data.prepare.ntu_splits import BENCHMARKS, NtuSplits, get_benchmark
from skelact.data.prepare.registry import register_preparer
from skelact.data.sample import SkeletonSample, SkipItem
from skelact.errors import ConfigError, FormatError

MISSING_REASON = "official missing-skeleton list"


def parse_ntu_item(
    path: str, *, preset: NtuPreset, benchmark: str, missing: frozenset[str] = frozenset()
) -> list[SkeletonSample]:
    """Worker entry point: one ``.skeleton`` file to one sample (or SkipItem / FormatError)."""
    name = parse_ntu_name(Path(path).name, path=path)
    if name.name in missing:
        raise SkipItem(MISSING_REASON)
    bench = get_benchmark(benchmark)
    if not bench.contains(name):
        raise SkipItem(
            f"not in {bench.name} (setup {name.setup}, action {name.action}; "
            f"{bench.name} has setups 1-{bench.max_setup}, actions 1-{bench.max_action})"
        )
    recording = read_ntu_skeleton(path)
    result = apply_preset(recording, preset)
    meta = {
        "subject": name.performer,
        "view": name.camera,
        "setup": name.setup,
        "replication": name.replication,
        "action": name.action,
        "source": str(path),
        "num_bodies": int(result.info.get("num_bodies", 0)),
        "raw_frames": recording.num_frames,
    }
    sample = SkeletonSample(result.keypoint, label=name.action - 1, meta=meta, sample_id=name.name)
    return [sample.validate(num_joints=25, num_channels=3, num_classes=bench.max_action, source=path)]


def find_skeleton_files(raw: Path) -> list[str]:
    """The ``.skeleton`` files under `raw` (or `raw` itself), sorted by sample name; names must be unique."""
    if raw.is_file():
        if not raw.name.endswith(SUFFIX):
            raise ConfigError(
                f"{raw} is not a .skeleton file", hint="--raw takes a .skeleton file or a folder"
            )
        return [str(raw)]
    files = sorted(raw.rglob(f"*{SUFFIX}"), key=lambda p: (p.name, str(p)))
    if not files:
        raise ConfigError(f"no {SUFFIX} files under {raw}", hint="--raw takes the nturgb+d_skeletons folder")
    for before, after in itertools.pairwise(files):
        if before.name == after.name:
            raise ConfigError(f"sample {before.name} is present twice: {before} and {after}")
    return [str(p) for p in files]


def detect_benchmark(files: Iterable[str]) -> str:
    """``ntu120`` if any file is beyond NTU-60 (setup > 17 or action > 60), else ``ntu60`` (as PYSKL does)."""
    ntu60 = BENCHMARKS["ntu60"]
    for path in files:
        try:
            name = parse_ntu_name(Path(path).name)
        except FormatError:
            continue  # reported when the file is parsed
        if not ntu60.contains(name):
            return "ntu120"
    return "ntu60"


def parse_preset_options(entries: Iterable[str]) -> dict[str, str]:
    options = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--preset-option expects KEY=VALUE, got {entry!r}")
        options[key.strip()] = value.strip()
    return options


@register_preparer("ntu")
class NtuPreparer:
    name: str
    help = "NTU RGB+D 60/120 raw .skeleton files; presets ctrgcn, pyskl, agcn, mmaction; xsub/xview/xset"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--preset",
            choices=sorted(PRESETS),
            default="pyskl",
            help="which codebase's preprocessing to reproduce (default: pyskl; see docs of each preset)",
        )
        parser.add_argument(
            "--benchmark",
            choices=sorted(BENCHMARKS),
            default=None,
            help="ntu60 (setups 1-17, actions 1-60; xsub, xview) or ntu120 (xsub, xset); "
            "default: ntu120 if any file is beyond NTU-60, else ntu60",
        )
        parser.add_argument(
            "--missing-list",
            type=Path,
            action="append",
            default=None,
            help="official list of samples without skeletons (repeatable); lists with their official names "
            "directly in --raw are used automatically",
        )
        parser.add_argument(
            "--faithful",
            action="store_true",
            help="also reproduce the reference code's known bugs, e.g. the 'previous index + 1' frame list",
        )
        parser.add_argument(
            "--preset-option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override one preset parameter, e.g. length_threshold=11 or loop_pad_to=0 (repeatable)",
        )

    def build(self, raw: Path, options: argparse.Namespace) -> PrepareJob:
        raw = Path(raw)
        preset = get_preset(
            getattr(options, "preset", "pyskl"),
            faithful=getattr(options, "faithful", False),
            options=parse_preset_options(getattr(options, "preset_option", None) or []),
        )
        files = find_skeleton_files(raw)
        benchmark = getattr(options, "benchmark", None) or detect_benchmark(files)
        bench = get_benchmark(benchmark)
        lists = list(getattr(options, "missing_list", None) or [])
        for found in find_missing_lists(raw if raw.is_dir() else raw.parent):
            if all(found.resolve() != given.resolve() for given in lists):
                lists.append(found)
        missing: set[str] = set()
        for path in lists:
            if not Path(path).is_file():
                raise ConfigError(f"missing-skeleton list {path} does not exist")
            missing |= read_missing_list(path)
        listed = {sample_name_of(p) for p in files} & missing
        return PrepareJob(
            items=files,
            parse=functools.partial(
                parse_ntu_item, preset=preset, benchmark=bench.name, missing=frozenset(listed)
            ),
            layout="ntu25",
            class_names=NTU120_CLASS_NAMES[: bench.max_action],
            splits=NtuSplits(bench.name),
            val_groups="subject",
            provenance={
                "recipe": "ntu",
                "format": "ntu-skeleton",
                "raw": str(raw.resolve()),
                "benchmark": bench.name,
                "protocols": list(bench.protocols),
                "preset": preset.name,
                "preset_parameters": preset.provenance(),
                "faithful": bool(getattr(options, "faithful", False)),
                "online_normalize": preset.online_normalize,
                "missing_lists": [str(Path(p).resolve()) for p in lists],
                "missing_listed": len(missing),
                "label": "action id - 1",
            },
        )
