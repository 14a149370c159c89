"""ST-GCN++ (PYSKL): parameter counts, PYSKL's graph, and equality with a literal PYSKL formulation
(tests/models/backbones/literal.py) on the same weights."""

import numpy as np
import pytest
import torch

from skelact.models import create_model
from skelact.models.backbones import STGCNPP
from skelact.models.backbones.stgcn import convert_pyskl_state_dict, model_graph
from skelact.skeleton import get_layout

# PYSKL pyskl/utils/graph.py, layout 'nturgb+d', 1-based (child, parent).
PYSKL_NTU_INWARD = [
    (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10), (12, 11),
    (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 8), (23, 8), (24, 12),
    (25, 12),
]  # fmt: skip


def pyskl_spatial_graph(inward_1based: list[tuple[int, int]], v: int) -> np.ndarray:
    """PYSKL Graph(mode='spatial'), literally: edge2mat puts (i, j) at A[j, i]; columns normalised."""

    def edge2mat(links):
        a = np.zeros((v, v))
        for i, j in links:
            a[j, i] = 1
        return a

    def normalize(a):
        col = a.sum(0)
        return a @ np.diag([1 / c if c > 0 else 0 for c in col])

    inward = [(i - 1, j - 1) for i, j in inward_1based]
    return np.stack(
        [np.eye(v), normalize(edge2mat(inward)), normalize(edge2mat([(j, i) for i, j in inward]))]
    )


def test_parameter_counts():
    model = create_model("stgcnpp", layout="ntu25", in_channels=3, num_classes=60)
    count = sum(p.numel() for p in model.parameters())
    assert count == 1_403_144  # specs/brl.md section 2 derives the same from PYSKL's code
    assert abs(count - 1.39e6) / 1.39e6 < 0.01  # PYSKL's README: 1.39M
    ucla = create_model("stgcnpp", layout="kinect20", in_channels=3, num_classes=10, num_persons=1)
    assert sum(p.numel() for p in ucla.parameters()) == 1_383_514  # brl.md: 1.38M


def test_uses_pyskl_graph_in_pyskl_orientation():
    model = STGCNPP("ntu25", 3, 60)
    expected = pyskl_spatial_graph(PYSKL_NTU_INWARD, 25)
    A = model.blocks[0].gcn.A
    assert isinstance(A, torch.nn.Parameter)  # gcn_adaptive='init'
    # PYSKL computes out[w] = sum_v A[v, w] x[v]; skelact's GraphConv out[i] = sum_j A[i, j] x[j].
    np.testing.assert_allclose(A.detach().numpy(), expected.transpose(0, 2, 1), atol=1e-7)
    assert model.data_bn.num_features == 25 * 3  # "VC"
    tcn = model.blocks[1].tcn
    assert tcn.widths == [14, 10, 10, 10, 10, 10] and len(tcn.temporal) == 4  # remainder to branch 0
    # The CTR-GCN graph of ntu25 differs only at the hand tips and thumbs.
    ctr = model_graph(get_layout("ntu25"), convention="pyskl").numpy()
    differ = np.argwhere(np.abs(ctr - A.detach().numpy()).sum(0) > 0)
    assert set(differ.ravel()) <= {7, 11, 21, 22, 23, 24}


@pytest.mark.parametrize(("layout", "persons", "classes"), [("ntu25", 2, 60), ("kinect20", 1, 10)])
def test_equals_literal_pyskl_formulation(literal, layout, persons, classes):
    torch.manual_seed(0)
    model = create_model("stgcnpp", layout=layout, in_channels=3, num_classes=classes, num_persons=persons)
    A_pyskl = model.blocks[0].gcn.A.detach().transpose(1, 2)
    v = A_pyskl.shape[-1]
    reference = literal.LiteralPysklSTGCN(A_pyskl, classes, persons, 3, "mstcn")
    shape = (4, persons, 12, v, 3)
    literal.randomise(reference, calibrate=shape)
    model.load_state_dict(convert_pyskl_state_dict(reference.state_dict()), strict=True)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    reference.eval(), model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
    reference.train(), model.train()
    torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
    literal.assert_gradients_match(reference, model, convert_pyskl_state_dict, x)


def test_pyskl_checkpoint_names(literal):
    """Real PYSKL checkpoints carry backbone. / cls_head.fc_cls. prefixes."""
    model = STGCNPP("kinect20", 3, 10, num_persons=1, base_channels=12)
    reference = literal.LiteralPysklSTGCN(model.blocks[0].gcn.A.detach().transpose(1, 2), 10, 1, 3, "mstcn")
    state = {}
    for k, v in reference.state_dict().items():
        state[k.replace("fc.", "cls_head.fc_cls.") if k.startswith("fc.") else "backbone." + k] = v
    with pytest.raises(RuntimeError):  # base 12 vs the literal's 64
        model.load_state_dict(convert_pyskl_state_dict(state))
    full = STGCNPP("kinect20", 3, 10, num_persons=1)
    full.load_state_dict(convert_pyskl_state_dict(state), strict=True)


def test_shared_data_bn_and_dropout():
    torch.manual_seed(0)
    model = create_model(
        "stgcnpp", layout="ntu25", in_channels=3, num_classes=4, base_channels=12, dropout=0.5
    )
    assert isinstance(model.blocks[0].tcn.drop, torch.nn.Identity)  # PYSKL: no tcn dropout in block 1
    assert isinstance(model.blocks[1].tcn.drop, torch.nn.Dropout)
    model.eval()
    x = torch.randn(2, 3, 8, 25, 3)  # VC data BN: any person count, order-invariant
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x.flip(1)), atol=1e-5, rtol=1e-5)
