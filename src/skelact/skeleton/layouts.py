"""The built-in layouts. Joint orders, bone parents and graphs follow
shared/specs/formats-and-preprocessing.md section 1; each factory's docstring says where its lists come
from."""

from __future__ import annotations

import dataclasses

from skelact.errors import LayoutError
from skelact.skeleton.layout import Layout, get_layout, register_layout


def _edges_from_parents(parents: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """Graph edges equal to the bones, without the root's self-bone."""
    return tuple((j, p) for j, p in enumerate(parents) if j != p)


# PSUMNet's NTU part bones (specs/psumnet.md 3.1), (child, parent) by position in the part, 0-based. "body"
# takes the layout's bones, which equal PSUMNet's NTU body pairs.
_NTU25_PART_BONES = {
    # 1-based: 2->1, 3->2, 4->3, 5->4, 6->5, 7->5, 8->1, ..., 12->11, 13->11 (tip and thumb on the hand)
    "hands": ((1, 0), (2, 1), (3, 2), (4, 3), (5, 4), (6, 4),
              (7, 0), (8, 7), (9, 8), (10, 9), (11, 10), (12, 10)),
    # the corrected list 2->1, 3->2, 4->3, 5->4, 6->1, 7->6, 8->7, 9->8 (1-based)
    "legs": ((1, 0), (2, 1), (3, 2), (4, 3), (5, 0), (6, 5), (7, 6), (8, 7)),
}  # fmt: skip

# coco17 streams [design choice]: "body" takes the graph's tree (hips on the shoulders, rooted at the nose),
# not the bones' (hips on the nose), so the stream's bones and graph agree with what GCNs use on COCO.
_COCO17_PART_BONES = {
    "body": ((1, 0), (2, 0), (3, 1), (4, 2), (5, 0), (6, 0), (7, 5), (8, 6), (9, 7), (10, 8),
             (11, 5), (12, 6), (13, 11), (14, 12), (15, 13), (16, 14)),
    "hands": ((1, 0), (2, 1), (3, 2), (4, 0), (5, 4), (6, 5)),
    "legs": ((1, 0), (2, 1), (3, 0), (4, 3), (5, 4)),
}  # fmt: skip


@register_layout("ntu25")
def ntu25() -> Layout:
    """NTU RGB+D / Kinect v2, 25 joints. Bones as in CTR-GCN, PYSKL, MS-G3D (identical lists); the graph is
    CTR-GCN's (the bones minus the root's self-loop). PYSKL's graph hangs the hand tips on the hands
    instead."""
    names = (
        "spine_base", "spine_mid", "neck", "head",
        "left_shoulder", "left_elbow", "left_wrist", "left_hand",
        "right_shoulder", "right_elbow", "right_wrist", "right_hand",
        "left_hip", "left_knee", "left_ankle", "left_foot",
        "right_hip", "right_knee", "right_ankle", "right_foot",
        "spine_shoulder", "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb",
    )  # fmt: skip
    parents = (1, 20, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 20, 22, 7, 24, 11)
    left_right = (
        (4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19), (21, 23), (22, 24),
    )  # fmt: skip
    upper = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 20, 21, 22, 23, 24)  # BRL's body halves (specs/brl.md)
    lower = (0, 12, 13, 14, 15, 16, 17, 18, 19)
    return Layout(
        name="ntu25",
        joint_names=names,
        parents=parents,
        edges=_edges_from_parents(parents),
        center=20,
        left_right=left_right,
        parts={
            "upper": upper,
            "lower": lower,
            "body": tuple(range(25)),
            # PSUMNet's part streams (specs/psumnet.md section 3.1), joints in stream order.
            "hands": (20, 4, 5, 6, 7, 21, 22, 8, 9, 10, 11, 23, 24),
            "legs": (0, 12, 13, 14, 15, 16, 17, 18, 19),
            "head": (2, 3),
            "torso": (0, 1, 20),
            "left_arm": (4, 5, 6, 7, 21, 22),
            "right_arm": (8, 9, 10, 11, 23, 24),
            "left_leg": (12, 13, 14, 15),
            "right_leg": (16, 17, 18, 19),
        },
        # The hand tips hang on the hands here, where the layout chains tip -> thumb -> hand; the released
        # off-by-one leg list is `parts.OFFICIAL_QUIRKS`.
        part_bones=_NTU25_PART_BONES,
        # SkeletonMAE's regions [design choice]: the paper's COCO partition carried over (shoulders and hips
        # in the torso, the spine with them; the neck goes with the head; hand joints with their arm).
        regions={
            "head": (2, 3),
            "torso": (0, 1, 20, 4, 8, 12, 16),
            "left_arm": (5, 6, 7, 21, 22),
            "right_arm": (9, 10, 11, 23, 24),
            "left_leg": (13, 14, 15),
            "right_leg": (17, 18, 19),
        },
        spine=(0, 1),
        shoulders=(4, 8),
        description="NTU RGB+D (Kinect v2), 25 joints, NTU paper order",
    )


@register_layout("coco17")
def coco17() -> Layout:
    """COCO-17 keypoints (HRNet in PYSKL/MMAction2). Bones are PYSKL's (hips hang on the nose); the graph is
    PYSKL's `coco` layout (hips link to shoulders), centre the nose."""
    names = (
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    )  # fmt: skip
    parents = (0, 0, 0, 1, 2, 0, 0, 5, 6, 7, 8, 0, 0, 11, 12, 13, 14)
    edges = (
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5),
        (10, 8), (8, 6), (5, 0), (6, 0), (1, 0), (3, 1), (2, 0), (4, 2),
    )  # fmt: skip
    return Layout(
        name="coco17",
        joint_names=names,
        parents=parents,
        edges=edges,
        center=0,
        left_right=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
        parts={
            "upper": tuple(range(11)),
            "lower": tuple(range(11, 17)),
            "body": tuple(range(17)),
            # PSUMNet-style streams, our choice (the paper has no COCO skeleton): arms on the nose as NTU's
            # arms on the spine shoulder; legs rooted at the left hip with the right hip joined to it, as
            # NTU-X's hand stream joins the two shoulders (specs/psumnet.md 3.2).
            "hands": (0, 5, 7, 9, 6, 8, 10),
            "legs": (11, 13, 15, 12, 14, 16),
            "head": (0, 1, 2, 3, 4),
            "left_arm": (5, 7, 9),
            "right_arm": (6, 8, 10),
            "left_leg": (11, 13, 15),
            "right_leg": (12, 14, 16),
        },
        part_bones=_COCO17_PART_BONES,
        # SkeletonMAE's six regions V0..V5 (specs/skeletonmae.md section 5; indices inferred from the paper's
        # figure [unverified]): the arm and leg regions hold no shoulder or hip, unlike the parts above.
        regions={
            "head": (0, 1, 2, 3, 4),
            "torso": (5, 6, 11, 12),
            "left_arm": (7, 9),
            "right_arm": (8, 10),
            "left_leg": (13, 15),
            "right_leg": (14, 16),
        },
        spine=None,
        shoulders=(5, 6),
        description="COCO-17 keypoints, left before right",
    )


@register_layout("kinect20")
def kinect20() -> Layout:
    """Kinect v1 SDK order, 20 joints (NW-UCLA; UTKinect uses the same SDK order).

    Edges, centre (1-based joint 3), flip (the first 20 entries of NTU's permutation) and the BRL body
    halves are [official code] (spec section 1.2); the joint names are [unverified] Kinect v1 SDK names. The
    bones equal the graph (BRL: "NW-UCLA uses the 20-joint equivalent"), rooted at the shoulder centre like
    NTU's spine shoulder. Parts beyond upper/lower are our choice, mirroring ntu25: the shoulder centre is
    both neck and torso top, so it goes to ``torso`` and ``head`` is the head joint alone;
    ``hands``/``legs`` are PSUMNet-style streams that stay connected through the shoulder centre and the hip
    centre; their bones and graphs are the layout's bones inside the part (root: shoulder centre, hip
    centre), which is NTU's corrected hand and leg trees minus the joints Kinect v1 lacks.
    """
    names = (
        "hip_center", "spine", "shoulder_center", "head",
        "left_shoulder", "left_elbow", "left_wrist", "left_hand",
        "right_shoulder", "right_elbow", "right_wrist", "right_hand",
        "left_hip", "left_knee", "left_ankle", "left_foot",
        "right_hip", "right_knee", "right_ankle", "right_foot",
    )  # fmt: skip
    # Spec 1.2, 1-based child -> parent: 1->2, 2->3, 4->3, 5->3, 6->5, ..., 20->19; joint 3 is the root.
    parents = (1, 2, 2, 2, 2, 4, 5, 6, 2, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18)
    return Layout(
        name="kinect20",
        joint_names=names,
        parents=parents,
        edges=_edges_from_parents(parents),
        center=2,
        left_right=((4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19)),
        parts={
            "upper": tuple(range(1, 12)),  # BRL's UCLA halves (specs/brl.md)
            "lower": (0, *range(12, 20)),
            "body": tuple(range(20)),
            "hands": (2, 4, 5, 6, 7, 8, 9, 10, 11),
            "legs": (0, *range(12, 20)),
            "head": (3,),
            "torso": (0, 1, 2),
            "left_arm": (4, 5, 6, 7),
            "right_arm": (8, 9, 10, 11),
            "left_leg": (12, 13, 14, 15),
            "right_leg": (16, 17, 18, 19),
        },
        regions={  # SkeletonMAE [design choice]: as ntu25 (shoulders, hips and spine in the torso)
            "head": (3,),
            "torso": (0, 1, 2, 4, 8, 12, 16),
            "left_arm": (5, 6, 7),
            "right_arm": (9, 10, 11),
            "left_leg": (13, 14, 15),
            "right_leg": (17, 18, 19),
        },
        spine=(0, 1),  # hip centre -> spine, as NTU's spine base -> spine middle
        shoulders=(4, 8),
        description="Kinect v1 SDK order, 20 joints (NW-UCLA, UTKinect); joint names [unverified]",
    )


@register_layout("openpose18")
def openpose18() -> Layout:
    """OpenPose COCO-18 (ST-GCN's Kinetics-skeleton), spec section 1.3: order, bone parents (the nose is the
    root) and centre (the neck). The graph is the bones, which is ST-GCN's ``openpose`` edge set. 2D, so no
    spine; upper/lower split at the hips."""
    names = (
        "nose", "neck",
        "right_shoulder", "right_elbow", "right_wrist",
        "left_shoulder", "left_elbow", "left_wrist",
        "right_hip", "right_knee", "right_ankle",
        "left_hip", "left_knee", "left_ankle",
        "right_eye", "left_eye", "right_ear", "left_ear",
    )  # fmt: skip
    parents = (0, 0, 1, 2, 3, 1, 5, 6, 2, 8, 9, 5, 11, 12, 0, 0, 14, 15)
    return Layout(
        name="openpose18",
        joint_names=names,
        parents=parents,
        edges=_edges_from_parents(parents),
        center=1,
        left_right=((5, 2), (6, 3), (7, 4), (11, 8), (12, 9), (13, 10), (15, 14), (17, 16)),
        parts={
            "upper": (0, 1, 2, 3, 4, 5, 6, 7, 14, 15, 16, 17),
            "lower": tuple(range(8, 14)),
            "body": tuple(range(18)),
            "head": (0, 14, 15, 16, 17),
            "left_arm": (5, 6, 7),
            "right_arm": (2, 3, 4),
            "left_leg": (11, 12, 13),
            "right_leg": (8, 9, 10),
        },
        regions={  # SkeletonMAE [design choice]: coco17's, with the neck in the torso
            "head": (0, 14, 15, 16, 17),
            "torso": (1, 2, 5, 8, 11),
            "left_arm": (6, 7),
            "right_arm": (3, 4),
            "left_leg": (12, 13),
            "right_leg": (9, 10),
        },
        spine=None,
        shoulders=(5, 2),
        description="OpenPose COCO-18 (ST-GCN Kinetics-skeleton), right before left",
    )


@register_layout("jhmdb15")
def jhmdb15() -> Layout:
    """J-HMDB puppet joints, 15 (DD-Net pickles), spec section 1.5. The joint names are [unverified].

    The spec gives no bones, so we chose this tree [design choice]: the neck is the root and the graph
    centre (as OpenPose's neck); face, belly and both shoulders hang on the neck, the hips on the belly, and
    each limb is a chain (shoulder-elbow-wrist, hip-knee-ankle). The graph is the bones. The belly heads the
    lower half, which makes ``lower`` exactly the belly's subtree (the part BRL's partial mixup swaps).
    """
    names = (
        "neck", "belly", "face",
        "right_shoulder", "left_shoulder", "right_hip", "left_hip",
        "right_elbow", "left_elbow", "right_knee", "left_knee",
        "right_wrist", "left_wrist", "right_ankle", "left_ankle",
    )  # fmt: skip
    parents = (0, 0, 0, 0, 0, 1, 1, 3, 4, 5, 6, 7, 8, 9, 10)
    return Layout(
        name="jhmdb15",
        joint_names=names,
        parents=parents,
        edges=_edges_from_parents(parents),
        center=0,
        left_right=((4, 3), (6, 5), (8, 7), (10, 9), (12, 11), (14, 13)),
        parts={
            "upper": (0, 2, 3, 4, 7, 8, 11, 12),
            "lower": (1, 5, 6, 9, 10, 13, 14),
            "body": tuple(range(15)),
            "hands": (0, 3, 4, 7, 8, 11, 12),
            "legs": (1, 5, 6, 9, 10, 13, 14),
            "head": (2,),
            "torso": (0, 1),
            "left_arm": (4, 8, 12),
            "right_arm": (3, 7, 11),
            "left_leg": (6, 10, 14),
            "right_leg": (5, 9, 13),
        },
        regions={  # SkeletonMAE [design choice]: coco17's, neck and belly in the torso
            "head": (2,),
            "torso": (0, 1, 3, 4, 5, 6),
            "left_arm": (8, 12),
            "right_arm": (7, 11),
            "left_leg": (10, 14),
            "right_leg": (9, 13),
        },
        spine=(1, 0),  # belly -> neck
        shoulders=(4, 3),
        description="J-HMDB puppet joints, 15 (DD-Net order); joint names [unverified], bone tree our choice",
    )


@register_layout("mediapipe33")
def mediapipe33() -> Layout:
    """MediaPipe Pose, 33 landmarks (x, y, z, visibility), in MediaPipe's order.

    MediaPipe's own drawing connections contain cycles (shoulder-shoulder, hip-hip, foot triangles) and
    leave the mouth unattached, so we chose a tree [design choice]: the nose is the root and the graph
    centre (it has the smallest eccentricity, 5 hops); each eye row is a chain nose-inner-eye-outer-ear; the
    mouth corners hang on the nose; the shoulders hang on the nose and the hips on the same-side shoulder
    (as in PYSKL's COCO graph); the pinky, index and thumb hang on the wrist and the heel and foot index on
    the ankle (a star, as NTU's hand tip/thumb in PYSKL's graph). The graph is the bones. There is no
    mid-hip or neck landmark, so no spine. Parts: ``upper`` is everything above the hips, ``head`` the 11
    face landmarks, hands are wrist + fingers.
    """
    names = (
        "nose",
        "left_eye_inner", "left_eye", "left_eye_outer",
        "right_eye_inner", "right_eye", "right_eye_outer",
        "left_ear", "right_ear", "mouth_left", "mouth_right",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
        "left_heel", "right_heel", "left_foot_index", "right_foot_index",
    )  # fmt: skip
    parents = (
        0, 0, 1, 2, 0, 4, 5, 3, 6, 0, 0,  # face
        0, 0, 11, 12, 13, 14,  # shoulders, elbows, wrists
        15, 16, 15, 16, 15, 16,  # pinky, index, thumb
        11, 12, 23, 24, 25, 26,  # hips, knees, ankles
        27, 28, 27, 28,  # heels, foot indices
    )  # fmt: skip
    # Every left landmark is directly followed by its right partner from 11 on; the face pairs are listed.
    left_right = ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), *((j, j + 1) for j in range(11, 33, 2)))
    return Layout(
        name="mediapipe33",
        joint_names=names,
        parents=parents,
        edges=_edges_from_parents(parents),
        center=0,
        left_right=left_right,
        parts={
            "upper": tuple(range(23)),
            "lower": tuple(range(23, 33)),
            "body": tuple(range(33)),
            "head": tuple(range(11)),
            "left_arm": (11, 13, 15, 17, 19, 21),
            "right_arm": (12, 14, 16, 18, 20, 22),
            "left_hand": (15, 17, 19, 21),
            "right_hand": (16, 18, 20, 22),
            "left_leg": (23, 25, 27, 29, 31),
            "right_leg": (24, 26, 28, 30, 32),
        },
        regions={  # SkeletonMAE [design choice]: coco17's, fingers and feet with their limb
            "head": tuple(range(11)),
            "torso": (11, 12, 23, 24),
            "left_arm": (13, 15, 17, 19, 21),
            "right_arm": (14, 16, 18, 20, 22),
            "left_leg": (25, 27, 29, 31),
            "right_leg": (26, 28, 30, 32),
        },
        spine=None,
        shoulders=(11, 12),
        description="MediaPipe Pose, 33 landmarks; bone tree our choice (nose root)",
    )


# PYSKL `Graph(layout='nturgb+d')` (pyskl/utils/graph.py; specs/brl.md section 2), 1-based (child,
# parent): the spine, arms and legs as ntu25, but both hand tip and thumb hang on the hand ((22, 8),
# (23, 8), (24, 12), (25, 12)) where CTR-GCN chains tip -> thumb -> hand.
_PYSKL_NTU_INWARD = (
    (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10), (12, 11),
    (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 8), (23, 8), (24, 12),
    (25, 12),
)  # fmt: skip

# Graph variants: the edge sets other codebases use for a built-in skeleton where they differ from the
# layout's own graph. A model asks for one by name (`graph_variant`); the layout's edges and bones stay as
# they are. Only differences are listed: PYSKL's coco, openpose and NW-UCLA graphs equal coco17, openpose18
# and kinect20's edges.
GRAPH_VARIANTS: dict[str, dict[str, tuple[tuple[int, int], ...]]] = {
    "pyskl": {"ntu25": tuple((i - 1, j - 1) for i, j in _PYSKL_NTU_INWARD)},
}


def graph_variant(layout: str | Layout, variant: str | None) -> Layout:
    """The layout with the graph edges of `variant` (e.g. ``"pyskl"``); None gives the layout unchanged.

    A known variant that lists nothing for this layout means that codebase uses the layout's own graph, so
    the layout comes back unchanged too. The copy is named ``"<layout>:<variant>"``; joints, bones, centre
    and parts are the layout's.
    """
    layout = get_layout(layout)
    if variant is None:
        return layout
    if variant not in GRAPH_VARIANTS:
        raise LayoutError(
            f"unknown graph variant {variant!r}", hint=f"known variants: {', '.join(sorted(GRAPH_VARIANTS))}"
        )
    edges = GRAPH_VARIANTS[variant].get(layout.name)
    if edges is None:
        return layout
    return dataclasses.replace(layout, name=f"{layout.name}:{variant}", edges=edges)


# Layouts with hand joints (NTU-X, SHREC'17) live in their own module; importing it registers them.
from skelact.skeleton import hand_layouts as _hand_layouts  # noqa: E402, F401
