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

import functools
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skelact.data.formats.ntu_presets import PRESETS, NtuPreset, PresetResult, apply_preset, get_preset
from skelact.data.formats.ntu_skeleton import (
    JOINT_FIELDS,
    SUFFIX,
    NtuRecording,
    find_missing_lists,
    parse_ntu_name,
    read_missing_list,
    read_ntu_skeleton,
    sample_name_of,
)
from skelact.data.prepare.job import PrepareJob
from skelact.data.prepare.ntu_classes import NTU120_CLASS_NAMES
from skelact.data.prepare.ntu_splits import BENCHMARKS, NtuSplits, get_benchmark
from skelact.data.prepare.registry import JobRecipe, register_preparer
from skelact.data.sample import SkeletonSample, SkipItem
from skelact.errors import ConfigError, FormatError
from skelact.options import Options, option

MISSING_REASON = "official missing-skeleton list"
KINECT_COLOUR_SIZE = (1080, 1920)  # (H, W) of the Kinect v2 colour frames the colorX/colorY refer to
COLOUR_XY = [JOINT_FIELDS.index("color_x"), JOINT_FIELDS.index("color_y")]


def parse_ntu_item(
    path: str,
    *,
    preset: NtuPreset,
    benchmark: str,
    missing: frozenset[str] = frozenset(),
    video_root: str | None = None,
    video_dir: str | None = None,
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
    if video_root is not None:
        meta.update(video_link(recording, result, preset, Path(video_root), video_dir))
    sample = SkeletonSample(result.keypoint, label=name.action - 1, meta=meta, sample_id=name.name)
    return [sample.validate(num_joints=25, num_channels=3, num_classes=bench.max_action, source=path)]


def video_link(
    recording: NtuRecording, result: PresetResult, preset: NtuPreset, root: Path, video_dir: str | None
) -> dict[str, Any]:
    """``video`` and ``video_box`` for the ``rgb`` modality (docs/rgb.md): the sample's ``<name>_rgb.avi``
    in `video_dir` (default: beside the .skeleton file), and the box around the kept bodies' colour-image
    joints. Linked only when stored frame t is video frame t (body-ID presets that dropped no frame)."""
    folder = Path(video_dir) if video_dir is not None else recording.path.parent
    video = folder / f"{recording.sample_name}_rgb.avi"
    aligned = preset.selection == "body_id" and result.keypoint.shape[1] == recording.num_frames
    if not video.is_file() or not aligned:
        return {}
    kept = {body for actor in result.info.get("actors", []) for body in actor}
    records = np.isin(recording.record_id, list(kept)) if kept else np.ones(recording.num_records, bool)
    colour = recording.record_joints[records][..., COLOUR_XY].reshape(-1, 2)
    colour = colour[np.abs(colour).sum(-1) > 0]
    if colour.size == 0:
        return {}
    box = np.concatenate([colour.min(0), colour.max(0)])
    try:
        name = video.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        name = str(video.resolve())
    return {
        "video": name,
        "video_box": [round(float(v), 1) for v in box],
        "video_box_size": list(KINECT_COLOUR_SIZE),
    }


def find_skeleton_files(raw: Path) -> list[str]:
    """The ``.skeleton`` files under `raw` (or `raw` itself), sorted by sample name; names must be unique."""
    if raw.is_file():
        if not raw.name.endswith(SUFFIX):
            raise ConfigError(
                f"{raw} is not a .skeleton file", hint="`raw` takes a .skeleton file or a folder"
            )
        return [str(raw)]
    files = sorted(raw.rglob(f"*{SUFFIX}"), key=lambda p: (p.name, str(p)))
    if not files:
        raise ConfigError(f"no {SUFFIX} files under {raw}", hint="`raw` takes the nturgb+d_skeletons folder")
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
            raise ConfigError(f"`preset_option` expects KEY=VALUE, got {entry!r}")
        options[key.strip()] = value.strip()
    return options


@dataclass(frozen=True, kw_only=True)
class NtuOptions(Options):
    """`skelact prepare ntu` options: whose preprocessing, which benchmark, which samples to skip."""

    preset: str = option(
        "which codebase's preprocessing to reproduce (default: pyskl; see docs of each preset)",
        "pyskl",
        choices=sorted(PRESETS),
    )
    benchmark: str | None = option(
        "ntu60 (setups 1-17, actions 1-60; xsub, xview) or ntu120 (xsub, xset); "
        "default: ntu120 if any file is beyond NTU-60, else ntu60",
        None,
        choices=sorted(BENCHMARKS),
    )
    missing_list: tuple[Path, ...] = option(
        "official list of samples without skeletons (repeatable); lists with their official names "
        "directly in --raw are used automatically",
        (),
        repeat=True,
    )
    faithful: bool = option(
        "also reproduce the reference code's known bugs, e.g. the 'previous index + 1' frame list", False
    )
    videos: Path | None = option(
        "folder of the RGB videos <name>_rgb.avi, linked to their samples for the rgb modality "
        "(default: any video beside its .skeleton file)",
        None,
    )
    preset_option: tuple[str, ...] = option(
        "override one preset parameter, e.g. length_threshold=11 or loop_pad_to=0 (repeatable)",
        (),
        metavar="KEY=VALUE",
        repeat=True,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.ntu_preset()  # unknown parameters and bad values stop here, before any file is read

    def ntu_preset(self) -> NtuPreset:
        """The preset with `faithful` and every `preset_option` applied."""
        return get_preset(
            self.preset, faithful=self.faithful, options=parse_preset_options(self.preset_option)
        )


@register_preparer("ntu")
class NtuPreparer(JobRecipe[NtuOptions]):
    name: str
    help = "NTU RGB+D 60/120 raw .skeleton files; presets ctrgcn, pyskl, agcn, mmaction; xsub/xview/xset"
    options_type = NtuOptions

    def build(self, raw: Path, options: NtuOptions) -> PrepareJob:
        raw = Path(raw)
        preset = options.ntu_preset()
        files = find_skeleton_files(raw)
        benchmark = options.benchmark or detect_benchmark(files)
        bench = get_benchmark(benchmark)
        lists = list(options.missing_list)
        for found in find_missing_lists(raw if raw.is_dir() else raw.parent):
            if all(found.resolve() != given.resolve() for given in lists):
                lists.append(found)
        missing: set[str] = set()
        for path in lists:
            if not Path(path).is_file():
                raise ConfigError(f"missing-skeleton list {path} does not exist")
            missing |= read_missing_list(path)
        listed = {sample_name_of(p) for p in files} & missing
        videos = options.videos
        if videos is not None and not Path(videos).is_dir():
            raise ConfigError(f"`videos` {videos} is not a folder")
        video_root = Path(videos) if videos is not None else (raw if raw.is_dir() else raw.parent)
        return PrepareJob(
            items=files,
            parse=functools.partial(
                parse_ntu_item,
                preset=preset,
                benchmark=bench.name,
                missing=frozenset(listed),
                video_root=str(video_root.resolve()),
                video_dir=None if videos is None else str(videos),
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
                "faithful": options.faithful,
                "online_normalize": preset.online_normalize,
                "missing_lists": [str(Path(p).resolve()) for p in lists],
                "missing_listed": len(missing),
                "label": "action id - 1",
                "video_root": str(video_root.resolve()),
            },
        )
