"""`BatchAugment` as a list of registered ops: the same random draws and order as the fixed-order class it
replaced, and a new op is one class plus one registry entry."""

from __future__ import annotations

import pytest
import torch

from skelact.data.transforms import augment
from skelact.data.transforms.augment import AUGMENT_OPS, AugmentOp, BatchAugment
from skelact.errors import ConfigError

# Weighted per-sample sums of the output for generator seed 7, computed with the fixed-order BatchAugment
# before the ops became registered objects (weights break the symmetries of flips and time reversal).
EXPECTED = {
    "all": (
        [6.598849254, -10.118477044, 8.704134245, -9.040250959],
        [12.630819845, 1.693683124, 16.740085115, -18.769713856],
    ),
    "pyskl": (
        [0.683720788, -4.534996936, 2.558171867, -3.341961256],
        [-0.230086795, 2.630195402, -2.317486587, 2.474063864],
    ),
    "brl": (
        [0.244460095, -4.51531414, -0.62534947, -2.500201774],
        [-0.20813922, 1.261007011, -0.993551896, 1.706669066],
    ),
    "2d_score": (
        [0.946870274, -3.725270818, 3.013097083, -3.287768324],
        [0.080508984, 2.452571929, -2.743315777, 3.061080795],
    ),
}
CONFIGS = {
    "all": {
        "scale": 0.1, "shear": 0.2, "rotate": 0.3, "flip": 0.5, "noise": 0.01, "joint_drop": 0.1,
        "reverse": 0.5,
    },
    "pyskl": {"scale": 0.1, "rotate": 0.3, "flip": 0.5},
    "brl": {"rotate": [1.0472, 1.0472, 0.0], "scale": 0.5, "flip": 0.5, "flip_mirror": False},
    "2d_score": {"num_coords": 2, "rotate": 0.2, "scale": (0.1, 0.0), "noise": 0.02},
}  # fmt: skip


def _batch() -> torch.Tensor:
    x = (torch.arange(4 * 2 * 3 * 25 * 3, dtype=torch.float64).reshape(4, 2, 3, 25, 3) * 0.37).sin()
    x[:, 1, :, 20:] = 0  # missing joints
    x[0, 1] = 0  # a missing person
    return x


@pytest.mark.parametrize("name", list(CONFIGS))
def test_same_draws_and_order_as_before(name: str) -> None:
    out = BatchAugment.from_config("ntu25", CONFIGS[name]).train()(
        _batch(), generator=torch.Generator().manual_seed(7)
    )
    w = torch.arange(out[0].numel(), dtype=torch.float64).reshape(out.shape[1:])
    first = (out * (w * 0.11 + 1).cos()).sum(dim=(1, 2, 3, 4))
    second = (out * (w * 0.23).sin()).sum(dim=(1, 2, 3, 4))
    expected_first, expected_second = EXPECTED[name]
    torch.testing.assert_close(first, torch.tensor(expected_first, dtype=torch.float64), rtol=0, atol=1e-8)
    torch.testing.assert_close(second, torch.tensor(expected_second, dtype=torch.float64), rtol=0, atol=1e-8)


def test_ops_follow_the_registry_order() -> None:
    aug = BatchAugment("ntu25", reverse=0.5, rotate=0.3, scale=0.1)
    assert [op.key for op in aug.ops] == ["scale", "rotate", "reverse"]
    assert tuple(AUGMENT_OPS) == BatchAugment.ORDER
    aug.rotate = 0.0  # settings are attributes; the ops follow them
    assert [op.key for op in aug.ops] == ["scale", "reverse"]


def test_a_new_op_is_one_class_and_one_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    class ShiftOp(AugmentOp):
        key = "shift"
        options = {"shift_axis": 0}
        bounded = True

        def __call__(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
            x = x.clone()
            x[..., self.settings["shift_axis"]] += self.value
            return x

    monkeypatch.setattr(augment, "AUGMENT_OPS", {**AUGMENT_OPS, "shift": ShiftOp})
    x = torch.zeros(1, 1, 2, 25, 3)
    out = BatchAugment.from_config("ntu25", {"shift": 0.5, "shift_axis": 2}).train()(x)
    assert (out[..., 2] == 0.5).all() and (out[..., :2] == 0).all()
    assert "shift=0.5" in repr(BatchAugment("ntu25", shift=0.5))
    with pytest.raises(ConfigError, match=r"shift=-1"):
        BatchAugment("ntu25", shift=-1.0)
