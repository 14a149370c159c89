"""NTU preparation presets: each reference codebase's offline steps, from one recording to (M, T, 25, 3).

- ``ctrgcn``: bodies by ID, denoised, merged into 2 actors; frames where both actors are empty dropped;
  centred once on the spine middle of actor 1's first valid frame (missing stays zero). Online: ``none``.
- ``pyskl``: as ctrgcn for who is kept; leading/trailing empty frames trimmed, actor 2 put first if actor 1
  is absent in frame 0; no offline centring. Online: ``center_align`` (PYSKL's PreNormalize3D).
- ``agcn``: top-2 energy by listing order; leading empty frames dropped, loop-padded to 300; centred on the
  spine middle of each frame, spine turned to +z and shoulders to +x. Online: ``none``.
- ``mmaction``: as agcn, but kept at the file's frame count. Online: ``center_align``.

(spec 4.1-4.4, 4.6.) The store holds only the actors kept (M = 1 or 2): padding a missing second actor with
zeros (or a copy, CTR-GCN's NTU-120 files) is the clip builder's job. Frame counts, joint values and the
order of actors follow the reference code; `Quirks` (see ntu_denoise) switch their known bugs back on.

MMAction2's converter (``tools/data/skeleton/gen_ntu_rgbd_raw.py``, read at 1.x) runs MS-G3D's
``pre_normalization`` on 300-frame buffers and then crops each sample back to its own frame count; the
spec's summary (4.3) omits that step, the preset follows the code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from skelact.data.formats.ntu_denoise import (
    DenoiseRules,
    Quirks,
    body_tracks,
    denoise,
    merge_actors,
    top_energy_slots,
)
from skelact.data.sample import SkipItem
from skelact.data.transforms.normalize import align_3d, center
from skelact.errors import ConfigError
from skelact.skeleton import get_layout

if TYPE_CHECKING:  # the .skeleton reader imports this module lazily: no import cycle at run time
    from skelact.data.formats.ntu_skeleton import NtuRecording

Selection = Literal["body_id", "listing"]
EmptyFrames = Literal["drop", "trim", "loop"]
Centering = Literal["none", "first_valid_frame", "per_frame"]


@dataclass(frozen=True)
class NtuPreset:
    """One codebase's NTU preprocessing. Every field goes into the store's provenance."""

    name: str
    description: str
    selection: Selection
    empty_frames: EmptyFrames
    center: Centering
    align: bool
    online_normalize: str  # the datamodule `normalize:` value that completes this preset
    rules: DenoiseRules = field(default_factory=DenoiseRules)
    quirks: Quirks = field(default_factory=Quirks)
    faithful_quirks: tuple[str, ...] = ()  # the Quirks fields that `--faithful` switches on
    max_actors: int = 2
    max_listed_bodies: int = 4  # listing selection: Kinect slots read per frame
    swap_if_first_absent: bool = False  # PYSKL: actor 2 goes first if actor 1 is absent in frame 0
    loop_pad_to: int = 0  # listing selection: loop-pad to this many frames (0 = the file's frame count)

    def faithful(self) -> NtuPreset:
        """The same preset with the reference code's bugs switched back on."""
        quirks = dataclasses.replace(self.quirks, **{name: True for name in self.faithful_quirks})
        return dataclasses.replace(self, quirks=quirks)

    def with_options(self, options: dict[str, str]) -> NtuPreset:
        """Override parameters by name (``length_threshold``, ``loop_pad_to``, ``contiguous_frames``, ...)."""
        preset, rules, quirks = _fields_of(self), _fields_of(self.rules), _fields_of(self.quirks)
        changes: dict[str, dict[str, Any]] = {"preset": {}, "rules": {}, "quirks": {}}
        for key, text in options.items():
            for group, fields in (("rules", rules), ("quirks", quirks), ("preset", preset)):
                if key in fields and key not in ("name", "rules", "quirks", "faithful_quirks"):
                    changes[group][key] = _convert(key, text, fields[key])
                    break
            else:
                known = sorted(
                    set(rules) | set(quirks) | set(preset) - {"name", "rules", "quirks", "faithful_quirks"}
                )
                raise ConfigError(
                    f"unknown NTU preset option {key!r}", hint=f"known options: {', '.join(known)}"
                )
        result = dataclasses.replace(
            self,
            rules=dataclasses.replace(self.rules, **changes["rules"]),
            quirks=dataclasses.replace(self.quirks, **changes["quirks"]),
            **changes["preset"],
        )
        result.check()
        return result

    def check(self) -> None:
        if self.selection not in ("body_id", "listing"):
            raise ConfigError(f"selection must be body_id or listing, got {self.selection!r}")
        if self.empty_frames not in ("drop", "trim", "loop"):
            raise ConfigError(f"empty_frames must be drop, trim or loop, got {self.empty_frames!r}")
        if self.center not in ("none", "first_valid_frame", "per_frame"):
            raise ConfigError(f"center must be none, first_valid_frame or per_frame, got {self.center!r}")
        if self.max_actors < 1 or self.max_listed_bodies < 1 or self.loop_pad_to < 0:
            raise ConfigError("max_actors and max_listed_bodies must be >= 1 and loop_pad_to >= 0")

    def provenance(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PRESETS: dict[str, NtuPreset] = {
    "ctrgcn": NtuPreset(
        name="ctrgcn",
        description="CTR-GCN/SGN: denoise by body ID, 2 actors, drop empty frames, centre once on actor 1",
        selection="body_id",
        empty_frames="drop",
        center="first_valid_frame",
        align=False,
        online_normalize="none",
        faithful_quirks=("contiguous_frames", "actor2_span_from_zero", "one_frame_overlap"),
    ),
    "pyskl": NtuPreset(
        name="pyskl",
        description="PYSKL ntu_preproc: denoise by body ID, 2 actors, trim empty ends; centre+rotate online",
        selection="body_id",
        empty_frames="trim",
        center="none",
        align=False,
        online_normalize="center_align",
        swap_if_first_absent=True,
        faithful_quirks=("contiguous_frames", "actor2_span_from_zero"),
    ),
    "agcn": NtuPreset(
        name="agcn",
        description="MS-G3D/2s-AGCN ntu_gendata: top-2 energy by listing order, loop-pad to 300, "
        "centre per frame, rotate",
        selection="listing",
        empty_frames="loop",
        center="per_frame",
        align=True,
        online_normalize="none",
        loop_pad_to=300,
        faithful_quirks=("per_person_shift_and_loop",),
    ),
    "mmaction": NtuPreset(
        name="mmaction",
        description="MMAction2 gen_ntu_rgbd_raw: as agcn, kept at the file's length; PreNormalize3D online",
        selection="listing",
        empty_frames="loop",
        center="per_frame",
        align=True,
        online_normalize="center_align",
        loop_pad_to=0,
        faithful_quirks=("per_person_shift_and_loop",),
    ),
}


def get_preset(name: str, *, faithful: bool = False, options: dict[str, str] | None = None) -> NtuPreset:
    if name not in PRESETS:
        raise ConfigError(f"unknown NTU preset {name!r}", hint=f"choose one of: {', '.join(PRESETS)}")
    preset = PRESETS[name].faithful() if faithful else PRESETS[name]
    return preset.with_options(options) if options else preset


@dataclass
class PresetResult:
    keypoint: np.ndarray  # float32 (M, T, 25, 3)
    info: dict[str, Any]


def apply_preset(recording: NtuRecording, preset: NtuPreset) -> PresetResult:
    """Run `preset` on one recording. A recording with no body raises `SkipItem`."""
    if not recording.has_body:
        raise SkipItem("no body in any frame (an empty sample)")
    if preset.selection == "body_id":
        keypoint, info = _by_body_id(recording, preset)
    else:
        keypoint, info = _by_listing(recording, preset)
    layout = get_layout("ntu25")
    if preset.center != "none":
        keypoint = center(keypoint, layout, mode=preset.center)
    if preset.align:
        keypoint = align_3d(keypoint, layout)
    return PresetResult(np.ascontiguousarray(keypoint, dtype=np.float32), info)


def _by_body_id(recording: NtuRecording, preset: NtuPreset) -> tuple[np.ndarray, dict[str, Any]]:
    tracks, timeline = body_tracks(recording, contiguous_frames=preset.quirks.contiguous_frames)
    kept, dropped = denoise(tracks, preset.rules)
    info: dict[str, Any] = {"num_bodies": len(tracks), "dropped": dropped}
    if len(kept) == 1:  # both references keep a lone body's own frames, in order, and nothing else
        info["actors"] = [[kept[0].body_id]]
        return kept[0].xyz[None], info
    actors, members, discarded = merge_actors(kept, timeline, preset.quirks, preset.max_actors)
    info["actors"], info["discarded"] = members, discarded
    present = np.any(actors != 0, axis=(2, 3))  # (A, T)
    frames = present.any(axis=0)
    if preset.empty_frames == "drop":
        actors = actors[:, frames]
    elif preset.empty_frames == "trim":
        index = np.flatnonzero(frames)
        actors = actors[:, index[0] : index[-1] + 1]
    else:
        raise ConfigError(f"empty_frames={preset.empty_frames!r} is not available with body-ID selection")
    if preset.swap_if_first_absent and actors.shape[0] > 1:
        first = np.any(actors[:, 0] != 0, axis=(1, 2))
        if not first[0] and first[1]:
            actors = actors[[1, 0, *range(2, actors.shape[0])]]
            info["swapped"] = True
    return _nonempty_actors(actors, recording), info


def _by_listing(recording: NtuRecording, preset: NtuPreset) -> tuple[np.ndarray, dict[str, Any]]:
    persons = top_energy_slots(recording, preset.max_listed_bodies, preset.max_actors)
    persons = _nonempty_actors(persons, recording)
    target = preset.loop_pad_to or recording.num_frames
    info: dict[str, Any] = {"num_bodies": len(recording.bodies), "slots_kept": int(persons.shape[0])}
    if persons.shape[1] > target:  # the references crash on > 300 frames; NTU has none
        info["truncated_from"] = int(persons.shape[1])
        persons = persons[:, :target]
    if preset.empty_frames != "loop":
        raise ConfigError(f"empty_frames={preset.empty_frames!r} is not available with listing selection")
    if preset.quirks.per_person_shift_and_loop:
        return loop_pad_each_person(persons, target), info
    return loop_pad_together(persons, target), info


def _nonempty_actors(actors: np.ndarray, recording: NtuRecording) -> np.ndarray:
    keep = np.any(actors != 0, axis=(1, 2, 3))
    if not keep.any():
        raise SkipItem("every body's joints are all zero")
    return actors[keep]


def loop_pad_each_person(persons: np.ndarray, length: int) -> np.ndarray:
    """MS-G3D's ``pre_normalization`` padding, person by person (the faithful variant).

    A person whose first frame is empty has all its non-empty frames moved to the front; then, from its
    first frame after which it never appears again, the frames before are repeated to fill `length`.
    """
    out = np.zeros((persons.shape[0], length, *persons.shape[2:]), dtype=persons.dtype)
    out[:, : persons.shape[1]] = persons[:, :length]
    for person in out:
        present = np.any(person != 0, axis=(1, 2))
        if not present.any():
            continue
        if not present[0]:
            frames = person[present].copy()
            person[:] = 0
            person[: len(frames)] = frames
            present = np.zeros_like(present)
            present[: len(frames)] = True
        end = int(np.flatnonzero(present)[-1]) + 1
        if end < length:
            person[end:] = np.resize(person[:end], (length - end, *person.shape[1:]))
    return out


def loop_pad_together(persons: np.ndarray, length: int) -> np.ndarray:
    """The corrected padding: drop leading frames where nobody is present, then fill every frame after the
    last one with anybody present by repeating the sequence from its start, for all persons at once (so
    they stay in step); empty frames in the middle stay empty, as in the reference."""
    present = np.flatnonzero(np.any(persons != 0, axis=(0, 2, 3)))
    core = persons[:, present[0] : present[-1] + 1]
    core = core[:, :length]
    out = np.zeros((persons.shape[0], length, *persons.shape[2:]), dtype=persons.dtype)
    reps = -(-length // core.shape[1])
    out[:] = np.concatenate([core] * reps, axis=1)[:, :length]
    return out


def _fields_of(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _convert(key: str, text: str, current: Any) -> Any:
    """Parse an option value to the type of the current value."""
    try:
        if isinstance(current, bool):
            lowered = text.strip().lower()
            if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(text)
            return lowered in ("1", "true", "yes", "on")
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        return text
    except ValueError:
        raise ConfigError(f"NTU preset option {key}={text!r}: expected a {type(current).__name__}") from None
