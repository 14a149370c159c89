"""The 120 NTU RGB+D action names (label = action id - 1); NTU-60 is the first 60.

Facts, not code: names 1-60 as in the NTU RGB+D paper (Shahroudy et al., CVPR 2016), 61-120 as in
NTU RGB+D 120 (Liu et al., TPAMI 2019), spelled as in MMAction2's ``label_map_ntu120.txt``
(open-mmlab/mmaction2, tools/data/skeleton/) without its trailing full stops; "other person's" is
written with an ASCII apostrophe throughout.
"""

from __future__ import annotations

NTU120_CLASS_NAMES: tuple[str, ...] = (
    # 1-10
    "drink water", "eat meal/snack", "brushing teeth", "brushing hair", "drop", "pickup", "throw",
    "sitting down", "standing up (from sitting position)", "clapping",
    # 11-20
    "reading", "writing", "tear up paper", "wear jacket", "take off jacket", "wear a shoe",
    "take off a shoe", "wear on glasses", "take off glasses", "put on a hat/cap",
    # 21-30
    "take off a hat/cap", "cheer up", "hand waving", "kicking something", "reach into pocket",
    "hopping (one foot jumping)", "jump up", "make a phone call/answer phone", "playing with phone/tablet",
    "typing on a keyboard",
    # 31-40
    "pointing to something with finger", "taking a selfie", "check time (from watch)",
    "rub two hands together", "nod head/bow", "shake head", "wipe face", "salute", "put the palms together",
    "cross hands in front (say stop)",
    # 41-50
    "sneeze/cough", "staggering", "falling", "touch head (headache)", "touch chest (stomachache/heart pain)",
    "touch back (backache)", "touch neck (neckache)", "nausea or vomiting condition",
    "use a fan (with hand or paper)/feeling warm", "punching/slapping other person",
    # 51-60
    "kicking other person", "pushing other person", "pat on back of other person",
    "point finger at the other person", "hugging other person", "giving something to other person",
    "touch other person's pocket", "handshaking", "walking towards each other",
    "walking apart from each other",
    # 61-70
    "put on headphone", "take off headphone", "shoot at the basket", "bounce ball", "tennis bat swing",
    "juggling table tennis balls", "hush (quite)", "flick hair", "thumb up", "thumb down",
    # 71-80
    "make ok sign", "make victory sign", "staple book", "counting money", "cutting nails",
    "cutting paper (using scissors)", "snapping fingers", "open bottle", "sniff (smell)", "squat down",
    # 81-90
    "toss a coin", "fold paper", "ball up paper", "play magic cube", "apply cream on face",
    "apply cream on hand back", "put on bag", "take off bag", "put something into a bag",
    "take something out of a bag",
    # 91-100
    "open a box", "move heavy objects", "shake fist", "throw up cap/hat", "hands up (both hands)",
    "cross arms", "arm circles", "arm swings", "running on the spot", "butt kicks (kick backward)",
    # 101-110
    "cross toe touch", "side kick", "yawn", "stretch oneself", "blow nose", "hit other person with something",
    "wield knife towards other person", "knock over other person (hit with body)",
    "grab other person's stuff", "shoot at other person with a gun",
    # 111-120
    "step on foot", "high-five", "cheers and drink", "carry something with other person",
    "take a photo of other person", "follow other person", "whisper in other person's ear",
    "exchange things with other person", "support somebody with hand",
    "finger-guessing game (playing rock-paper-scissors)",
)  # fmt: skip

NTU60_CLASS_NAMES: tuple[str, ...] = NTU120_CLASS_NAMES[:60]

#: Mutual (two-person) actions: 50-60 and 106-120 (1-based action ids).
MUTUAL_ACTIONS: frozenset[int] = frozenset([*range(50, 61), *range(106, 121)])
