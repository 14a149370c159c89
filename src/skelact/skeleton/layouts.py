"""The built-in layouts. Joint orders, bone parents and graphs follow
shared/specs/formats-and-preprocessing.md section 1; each factory's docstring says where its lists come from."""

from __future__ import annotations

from skelact.skeleton.layout import Layout, register_layout


def _edges_from_parents(parents: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """Graph edges equal to the bones, without the root's self-bone."""
    return tuple((j, p) for j, p in enumerate(parents) if j != p)


@register_layout("ntu25")
def ntu25() -> Layout:
    """NTU RGB+D / Kinect v2, 25 joints. Bones as in CTR-GCN, PYSKL, MS-G3D (identical lists); the graph is
    CTR-GCN's (the bones minus the root's self-loop). PYSKL's graph hangs the hand tips on the hands instead."""
    names = (
        "spine_base", "spine_mid", "neck", "head",
        "left_shoulder", "left_elbow", "left_wrist", "left_hand",
        "right_shoulder", "right_elbow", "right_wrist", "right_hand",
        "left_hip", "left_knee", "left_ankle", "left_foot",
        "right_hip", "right_knee", "right_ankle", "right_foot",
        "spine_shoulder", "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb",
    )  # fmt: skip
    parents = (1, 20, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 20, 22, 7, 24, 11)
    left_right = ((4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19), (21, 23), (22, 24))
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
            "head": (0, 1, 2, 3, 4),
            "left_arm": (5, 7, 9),
            "right_arm": (6, 8, 10),
            "left_leg": (11, 13, 15),
            "right_leg": (12, 14, 16),
        },
        spine=None,
        shoulders=(5, 6),
        description="COCO-17 keypoints, left before right",
    )
