"""Body selection for NTU recordings: CTR-GCN/PYSKL denoising by body ID, and MS-G3D's listing-order energy.

By body ID (spec 4.1, 4.2): every body ID is a track on the timeline of frames that list at least one body.
Tracks seen in <= 11 frames are dropped (length rule); tracks that are wider than tall (x-extent > 0.8 x
y-extent) in >= 69.754 % of their frames are dropped (spread rule), otherwise their motion is recomputed on
the plausible frames only and the smaller value kept; an optional motion rule (disabled in both codebases)
drops tracks with implausible motion. Survivors are sorted by motion, largest first, and greedily merged
into at most two actors: actor 1 takes the most moving track and every later track whose frame span does
not overlap its own, otherwise actor 2 takes it if it does not overlap actor 2's span, otherwise it is
discarded. This reunites a person whom Kinect re-identified mid-take.

By listing order (spec 4.3, 4.4): the k-th body listed in a frame goes to slot k (4 slots); the 2 slots with
the largest "energy" (sum over x, y, z of the standard deviation over the slot's non-empty frames) are kept.

Quirks of the reference code that are bugs are fixed by default; `Quirks` switches each back on:

- ``contiguous_frames`` (CTR-GCN and PYSKL): a body's frame list is built as "previous index + 1", so a
  body that leaves and comes back is stored as if it never left: its later frames slide earlier in time.
  Fixed: each record stays on the frame where it was listed.
- ``actor2_span_from_zero`` (CTR-GCN and PYSKL): actor 2 starts with the virtual span [0, 0] and its span
  keeps starting at frame 0, so a fragment lying before actor 2's first fragment is discarded. Fixed:
  actor 2's span is the hull of what it actually holds.
- ``one_frame_overlap`` (CTR-GCN): spans are compared as ``min(ends) - max(starts) <= 0``, so fragments that
  share exactly one frame count as disjoint and the later one overwrites that frame. Fixed: sharing a frame
  is an overlap (PYSKL's test).
- ``per_person_shift_and_loop`` (MS-G3D/2s-AGCN and MMAction2 ``pre_normalization``): each person on its
  own is shifted to start at frame 0 (losing all its empty frames) and loop-padded from its own last frame,
  so a person who enters late or leaves early slides out of sync with the other one. Fixed: leading frames
  empty for everyone are dropped and trailing ones loop-filled for all persons together (see ntu_presets).

Where the reference code crashes, we choose: if the length rule would remove every track it is not applied;
the spread rule never removes the last remaining track (CTR-GCN's behaviour; PYSKL asserts). Motion is
computed in float64 (the references use float32); it only orders tracks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the .skeleton reader imports this module lazily: no import cycle at run time
    from skelact.data.formats.ntu_skeleton import NtuRecording


@dataclass(frozen=True)
class DenoiseRules:
    """Thresholds of CTR-GCN's ``get_raw_denoised_data.py`` (identical in PYSKL's ``ntu_preproc.py``)."""

    length_threshold: int = 11  # drop tracks listed in <= this many frames
    spread_ratio: float = 0.8  # a frame is implausible if x-extent > ratio * y-extent
    noisy_fraction: float = 0.69754  # drop a track with >= this fraction of implausible frames
    motion_rule: bool = False  # present but disabled in CTR-GCN; enabled in torch_skeleton
    motion_low: float = 0.089925
    motion_high: float = 2.0


@dataclass(frozen=True)
class Quirks:
    """Bug-for-bug switches (all off = corrected behaviour); see the module docstring."""

    contiguous_frames: bool = False
    actor2_span_from_zero: bool = False
    one_frame_overlap: bool = False
    per_person_shift_and_loop: bool = False


@dataclass(eq=False)
class BodyTrack:
    """One body ID on the timeline of non-empty frames."""

    body_id: str
    frames: np.ndarray  # int64 (n,), increasing timeline indices
    xyz: np.ndarray  # float64 (n, 25, 3)
    motion: float

    @property
    def span(self) -> tuple[int, int]:
        """First and last timeline frame (inclusive)."""
        return int(self.frames[0]), int(self.frames[-1])


def total_variance(xyz: np.ndarray) -> float:
    """CTR-GCN's "motion": the variance of all joint coordinates over all frames, summed over x, y, z."""
    return float(np.var(xyz.reshape(-1, 3), axis=0).sum())


def body_tracks(recording: NtuRecording, *, contiguous_frames: bool = False) -> tuple[list[BodyTrack], int]:
    """Tracks by body ID in order of first appearance, and the number of frames listing any body.

    Frames with no body are dropped from the timeline, as both CTR-GCN and PYSKL do while parsing.
    """
    timeline = np.cumsum(recording.body_counts > 0) - 1
    tracks = []
    for body in recording.bodies:
        frames = timeline[body.frames]
        if contiguous_frames:
            frames = frames[0] + np.arange(frames.size)
        xyz = np.ascontiguousarray(body.xyz)
        tracks.append(BodyTrack(body.body_id, frames.astype(np.int64), xyz, total_variance(xyz)))
    return tracks, int(np.count_nonzero(recording.body_counts))


def implausible_frames(xyz: np.ndarray, spread_ratio: float) -> np.ndarray:
    """(n,) bool: frames where the skeleton is wider (x) than `spread_ratio` times its height (y)."""
    extent = xyz.max(axis=1) - xyz.min(axis=1)  # (n, 3)
    return extent[:, 0] > spread_ratio * extent[:, 1]


def denoise(tracks: list[BodyTrack], rules: DenoiseRules) -> tuple[list[BodyTrack], list[tuple[str, str]]]:
    """Apply the length, spread (and optional motion) rules; return survivors sorted by motion, largest
    first, and ``(body_id, reason)`` for every dropped track. A single track is returned untouched."""
    dropped: list[tuple[str, str]] = []
    if len(tracks) <= 1:
        return list(tracks), dropped
    kept = [t for t in tracks if t.frames.size > rules.length_threshold]
    if kept:
        dropped += [
            (t.body_id, f"length {t.frames.size} <= {rules.length_threshold}")
            for t in tracks
            if all(t is not k for k in kept)
        ]
    else:
        kept = list(tracks)  # the references crash here; keep everyone rather than nothing
    if len(kept) > 1:
        survivors = []
        for position, track in enumerate(kept):
            remaining = len(survivors) + len(kept) - position
            if remaining == 1:  # CTR-GCN stops once one body is left
                survivors.append(track)
                continue
            noisy = implausible_frames(track.xyz, rules.spread_ratio)
            count = int(noisy.sum())
            if count == 0:
                survivors.append(track)
            elif count / noisy.size >= rules.noisy_fraction:
                dropped.append((track.body_id, f"spread: {count}/{noisy.size} frames wider than tall"))
            else:
                track.motion = min(track.motion, total_variance(track.xyz[~noisy]))
                survivors.append(track)
        kept = survivors
    kept.sort(key=lambda t: -t.motion)
    if rules.motion_rule and len(kept) > 1:
        first, rest = kept[0], kept[1:]
        kept = [first] + [t for t in rest if rules.motion_low <= t.motion <= rules.motion_high]
        dropped += [
            (t.body_id, f"motion {t.motion:.4g} outside range") for t in rest if all(t is not k for k in kept)
        ]
    return kept, dropped


def merge_actors(
    tracks: list[BodyTrack], num_frames: int, quirks: Quirks = Quirks(), max_actors: int = 2
) -> tuple[np.ndarray, list[list[str]], list[str]]:
    """Greedy non-overlap merge of motion-sorted tracks into (max_actors, num_frames, 25, 3).

    Returns the array, the body IDs per actor, and the IDs discarded because they overlapped every actor.
    """
    actors = np.zeros((max_actors, num_frames, 25, 3), dtype=np.float64)
    spans: list[tuple[int, int] | None] = [None] * max_actors
    members: list[list[str]] = [[] for _ in range(max_actors)]
    discarded: list[str] = []
    for track in tracks:
        start, end = track.span
        for a in range(max_actors):
            span = spans[a]
            if span is not None and _overlap(span, (start, end), quirks.one_frame_overlap):
                continue
            actors[a, track.frames] = track.xyz
            members[a].append(track.body_id)
            if span is None:
                anchored = a > 0 and quirks.actor2_span_from_zero
                spans[a] = (0 if anchored else start, end)
            else:
                spans[a] = (min(span[0], start), max(span[1], end))
            break
        else:
            discarded.append(track.body_id)
    return actors, members, discarded


def _overlap(span: tuple[int, int], other: tuple[int, int], one_frame_overlap: bool) -> bool:
    shared = min(span[1], other[1]) - max(span[0], other[0])
    return shared > 0 if one_frame_overlap else shared >= 0


def listing_energy(slots: np.ndarray) -> np.ndarray:
    """MS-G3D's per-slot energy: sum over x, y, z of the std over the slot's non-empty frames (0 if none)."""
    energy = np.zeros(slots.shape[0])
    for k, slot in enumerate(slots):
        present = np.any(slot != 0, axis=(1, 2))
        if present.any():
            energy[k] = slot[present].reshape(-1, 3).std(axis=0).sum()
    return energy


def top_energy_slots(recording: NtuRecording, max_bodies: int = 4, keep: int = 2) -> np.ndarray:
    """(k, num_frames, 25, 3): the `keep` listing slots with the most energy, largest first, all-zero slots
    left out (k <= keep). Ties are broken as ``energy.argsort()[::-1]`` in MS-G3D/MMAction2, except that a
    listed body whose energy is 0 (every joint identical in every frame; never seen in NTU) still ranks
    before empty slots, which the reference would pick instead."""
    slots = recording.listing_xyz(max_bodies)
    order = np.argsort(listing_energy(slots))[::-1]
    present = np.any(slots[order] != 0, axis=(1, 2, 3))
    order = np.concatenate([order[present], order[~present]])[:keep]
    chosen = slots[order]
    return chosen[np.any(chosen != 0, axis=(1, 2, 3))]
