"""Layouts with hand joints: NTU-X (BODY-25 + two 21-joint hands) and the SHREC'17 hand.

Both come from PSUMNet's code (specs/psumnet.md sections 3.2, 3.3); their part streams (body 37, hands 48,
legs 13 for NTU-X; the 22-joint hand for SHREC'17) are stored as parts with their own bone pairs, from which
`skelact.skeleton.parts` derives each stream's bones and graph. The spec's 1-based lists are kept 1-based
below, so they can be checked against it line by line.
"""

from __future__ import annotations

from skelact.skeleton.layout import Layout, register_layout

Pairs = tuple[tuple[int, int], ...]

FINGERS = ("thumb", "index", "middle", "ring", "pinky")


def _zero_based(pairs: Pairs) -> Pairs:
    return tuple((c - 1, p - 1) for c, p in pairs)


def _hand_chains(root: int, first: int) -> Pairs:
    """(child, parent) of a 21-joint hand: 5 fingers of 4 joints, each chain hanging on `root`."""
    return tuple(
        (first + 4 * f + k, root if k == 0 else first + 4 * f + k - 1) for f in range(5) for k in range(4)
    )


# BODY-25 tree then the NTU-X hand groups (spec 3.2, 1-based, stream order of the 37-joint body part). The
# hand roots hang on the elbows (BODY-25 4 and 7, 1-based) and 28 on 27: both as the released code has them.
_NTUX_BODY37 = (
    (1, 2), (3, 2), (4, 3), (5, 4), (6, 2), (7, 6), (8, 7), (9, 2), (10, 9), (11, 10), (12, 11), (13, 9),
    (14, 13), (15, 14), (16, 1), (17, 1), (18, 16), (19, 17), (20, 15), (21, 20), (22, 15), (23, 12),
    (24, 23), (25, 12),
    (26, 4), (27, 26), (28, 27), (29, 26), (30, 26), (31, 26),
    (32, 7), (33, 32), (34, 32), (35, 32), (36, 32), (37, 32),
)  # fmt: skip
# Hand-48 (spec 3.2, 1-based): right arm 1-3, left arm 4-6, right hand 7-27 (root 7), left hand 28-48.
_NTUX_HAND48 = (
    (2, 1), (3, 2), (7, 3), *_hand_chains(7, 8),
    (5, 4), (6, 5), (28, 6), *_hand_chains(28, 29),
    (4, 1),
)  # fmt: skip
_NTUX_LEG13 = (
    (2, 1), (3, 2), (4, 3), (5, 4), (6, 4), (7, 6), (8, 1), (9, 8), (10, 9), (11, 10), (12, 10), (13, 12),
)  # fmt: skip
LEFT_HAND, RIGHT_HAND = 25, 46  # NTU-X's l_hand_base and r_hand_base
TIPS = (0, 4, 8, 12, 16, 20)  # hand root and the five finger tips, offsets into a hand


@register_layout("ntux67")
def ntux67() -> Layout:
    """NTU-X's 67 joints: OpenPose BODY-25, then the left and the right SMPL-X hand (wrist, then 4 joints per
    finger, thumb to pinky). PSUMNet keeps the first 67 of the 118 joints of an NTU-X file.

    The layout's own bones are BODY-25's tree (neck root and centre) with each hand's wrist joint on the body
    wrist [design choice: the body wrist and the hand root are the same place]; PSUMNet's part streams keep
    their own pairs (hand groups on the elbows, spec 3.2). Joint names are [unverified] OpenPose / SMPL-X
    names.
    """
    body = (
        "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
        "left_wrist", "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
        "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe",
        "left_heel", "right_big_toe", "right_small_toe", "right_heel",
    )  # fmt: skip

    def hand(side: str) -> tuple[str, ...]:
        return (f"{side}_hand", *(f"{side}_{finger}{k}" for finger in FINGERS for k in range(1, 5)))

    names = (*body, *hand("left"), *hand("right"))
    parents = list(range(67))
    for child, parent in (*_zero_based(_NTUX_BODY37[:24]), (LEFT_HAND, 7), (RIGHT_HAND, 4)):
        parents[child] = parent
    for child, parent in (*_hand_chains(LEFT_HAND, LEFT_HAND + 1), *_hand_chains(RIGHT_HAND, RIGHT_HAND + 1)):
        parents[child] = parent
    left_right = (
        (5, 2), (6, 3), (7, 4), (12, 9), (13, 10), (14, 11), (16, 15), (18, 17), (19, 22), (20, 23), (21, 24),
        *((LEFT_HAND + i, RIGHT_HAND + i) for i in range(21)),
    )  # fmt: skip
    lower = (8, 9, 10, 11, 12, 13, 14, 19, 20, 21, 22, 23, 24)
    return Layout(
        name="ntux67",
        joint_names=names,
        parents=tuple(parents),
        edges=tuple((j, p) for j, p in enumerate(parents) if j != p),
        center=1,
        left_right=left_right,
        parts={
            "upper": tuple(j for j in range(67) if j not in lower),
            "lower": lower,
            # PSUMNet's streams (spec 3.2), joints in stream order.
            "body": (*range(25), *(RIGHT_HAND + o for o in TIPS), *(LEFT_HAND + o for o in TIPS)),
            "hands": (
                2,
                3,
                4,
                5,
                6,
                7,
                *range(RIGHT_HAND, RIGHT_HAND + 21),
                *range(LEFT_HAND, LEFT_HAND + 21),
            ),
            "legs": (8, 9, 10, 11, 24, 22, 23, 12, 13, 14, 21, 19, 20),
            "head": (0, 15, 16, 17, 18),
            "torso": (1, 8),
            "left_arm": (5, 6, 7),
            "right_arm": (2, 3, 4),
            "left_hand": tuple(range(LEFT_HAND, LEFT_HAND + 21)),
            "right_hand": tuple(range(RIGHT_HAND, RIGHT_HAND + 21)),
            "left_leg": (12, 13, 14, 19, 20, 21),
            "right_leg": (9, 10, 11, 22, 23, 24),
        },
        part_bones={
            "body": _zero_based(_NTUX_BODY37),
            "hands": _zero_based(_NTUX_HAND48),
            "legs": _zero_based(_NTUX_LEG13),
        },
        regions={  # SkeletonMAE [design choice]: coco17's, each hand with its arm and the toes with their leg
            "head": (0, 15, 16, 17, 18),
            "torso": (1, 2, 5, 8, 9, 12),
            "left_arm": (6, 7, *range(LEFT_HAND, LEFT_HAND + 21)),
            "right_arm": (3, 4, *range(RIGHT_HAND, RIGHT_HAND + 21)),
            "left_leg": (13, 14, 19, 20, 21),
            "right_leg": (10, 11, 22, 23, 24),
        },
        spine=(8, 1),  # mid hip -> neck
        shoulders=(5, 2),
        description="NTU-X: OpenPose BODY-25 + SMPL-X left and right hands, 67 joints; names [unverified]",
    )


@register_layout("shrec22")
def shrec22() -> Layout:
    """SHREC'17 hand gestures, 22 joints: wrist, palm, then 4 joints per finger (thumb, index, middle, ring,
    pinky; base to tip). Joint names are [unverified].

    The tree is the one PSUMNet's lists intend (spec 3.3): palm on the wrist, each finger a chain from the
    palm; the wrist is root and centre (SHREC's preprocessing puts the origin there). The released code's
    shifted indices are `parts.OFFICIAL_QUIRKS`. One hand, so no left/right pairs, no body halves, no spine.
    """
    names = ("wrist", "palm", *(f"{finger}{k}" for finger in FINGERS for k in range(1, 5)))
    parents = (0, 0, *(1 if k == 0 else 2 + 4 * f + k - 1 for f in range(5) for k in range(4)))
    everything = tuple(range(22))
    return Layout(
        name="shrec22",
        joint_names=names,
        parents=parents,
        edges=tuple((j, p) for j, p in enumerate(parents) if j != p),
        center=0,
        parts={
            "body": everything,
            "hands": everything,  # PSUMNet's single SHREC stream ("hand", V = 22)
            **{finger: (1, *range(2 + 4 * f, 6 + 4 * f)) for f, finger in enumerate(FINGERS)},
        },
        description="SHREC'17 / DHG-14/28 hand, 22 joints (wrist, palm, 4 per finger); names [unverified]",
    )
