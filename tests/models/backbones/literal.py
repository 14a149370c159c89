"""Plain, literal implementations of the graph backbones, for equality tests and as a speed reference.

Each module follows the published formulation step by step, with a Python loop over the adjacency subsets and
one module per branch, exactly as the papers' code arranges its computation:

- `LiteralCTRGCN`: CTR-GCN (Chen et al., ICCV 2021), official repository Uason-Chen/CTR-GCN, model/ctrgcn.py.
  Parameter names mirror the official ones (``l1.gcn1.convs.0.conv1.weight``, ``l1.tcn1.branches.0.0...``),
  so an official checkpoint loads here directly.
- `LiteralSTGCNPP`: ST-GCN++ (PYSKL `STGCN` with gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn'),
  parameter names as PYSKL's (``gcn.0.gcn.A``, ``gcn.0.tcn.branches.0.0.weight``), head as GCNHead.
- `LiteralSTGCN`: skelact's ST-GCN (unit_gcn with edge importance, 9x1 unit_tcn) with a loop over subsets.
- `LiteralBiGRU`: the ISC/CMD/HaLP encoder (specs/halp.md 4.1, anshulbshah/HaLP moco/GRU.py): a bidirectional
  multi-layer GRU called once per frame with its hidden state carried, names as the official
  (``input_norm``, ``encoder.gru.weight_ih_l0_reverse``, ``fc``).

These are written for clarity only; nothing here is used by the library. `randomise` and
`assert_same_gradients` help the equality tests.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class LiteralTemporalConvBN(nn.Module):
    """conv (k x 1, dilation d, stride s, 'same' padding) -> BN (or nothing); CTR-GCN's TemporalConv /
    unit_tcn, PYSKL's unit_tcn (norm=None inside mstcn)."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int = 1, dilation: int = 1, norm: bool = True
    ) -> None:
        super().__init__()
        pad = (kernel + (kernel - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(c_in, c_out, (kernel, 1), (stride, 1), (pad, 0), (dilation, 1))
        self.bn = nn.BatchNorm2d(c_out) if norm else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.bn(self.conv(x))


# --------------------------------------------------------------------------------------------- CTR-GCN


class LiteralCTRGC(nn.Module):
    """Channel-wise topology refinement for ONE subset: R = alpha * conv4(tanh(x1_u - x2_v)) + A_k.

    `samg`: PSUMNet's copy (SAMG), whose relation width is 8 for 3 or 6 input channels (CTR-GCN: 3 or 9)."""

    def __init__(self, c_in: int, c_out: int, samg: bool = False) -> None:
        super().__init__()
        keep_eight = (3, 6) if samg else (3, 9)
        rel = 8 if c_in in keep_eight else c_in // 8
        self.conv1 = nn.Conv2d(c_in, rel, 1)
        self.conv2 = nn.Conv2d(c_in, rel, 1)
        self.conv3 = nn.Conv2d(c_in, c_out, 1)
        self.conv4 = nn.Conv2d(rel, c_out, 1)

    def forward(self, x: Tensor, A: Tensor, alpha: Tensor) -> Tensor:
        x1 = self.conv1(x).mean(-2)  # (N, R, V): temporal mean
        x2 = self.conv2(x).mean(-2)
        x3 = self.conv3(x)  # (N, C, T, V)
        rel = torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2))  # (N, R, V, V)
        rel = self.conv4(rel) * alpha + A.unsqueeze(0).unsqueeze(0)  # (N, C, V, V)
        return torch.einsum("ncuv,nctv->nctu", rel, x3)


class LiteralCTRUnitGCN(nn.Module):
    def __init__(self, c_in: int, c_out: int, A: Tensor, samg: bool = False) -> None:
        super().__init__()
        self.convs = nn.ModuleList(LiteralCTRGC(c_in, c_out, samg) for _ in range(A.shape[0]))
        self.down = (
            nn.Sequential(nn.Conv2d(c_in, c_out, 1), nn.BatchNorm2d(c_out))
            if c_in != c_out
            else nn.Identity()
        )
        self.PA = nn.Parameter(A.clone())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: Tensor) -> Tensor:
        y = None
        for i in range(self.PA.shape[0]):
            z = self.convs[i](x, self.PA[i], self.alpha)
            y = z if y is None else y + z
        return torch.relu(self.bn(y) + self.down(x))


class LiteralCTRMultiScaleTCN(nn.Module):
    """Branches: per dilation 1x1 -> BN -> ReLU -> (k x 1, dilation) conv -> BN; 1x1 -> BN -> ReLU ->
    max-pool 3 -> BN; strided 1x1 -> BN; concatenated (no residual inside the CTR-GCN block)."""

    def __init__(self, c_in: int, c_out: int, stride: int, kernel: int = 5, dilations=(1, 2)) -> None:
        super().__init__()
        bc = c_out // (len(dilations) + 2)
        branches = [
            nn.Sequential(
                nn.Conv2d(c_in, bc, 1),
                nn.BatchNorm2d(bc),
                nn.ReLU(),
                LiteralTemporalConvBN(bc, bc, kernel, stride, d),
            )
            for d in dilations
        ]
        branches.append(
            nn.Sequential(
                nn.Conv2d(c_in, bc, 1),
                nn.BatchNorm2d(bc),
                nn.ReLU(),
                nn.MaxPool2d((3, 1), (stride, 1), (1, 0)),
                nn.BatchNorm2d(bc),
            )
        )
        branches.append(nn.Sequential(nn.Conv2d(c_in, bc, 1, stride=(stride, 1)), nn.BatchNorm2d(bc)))
        self.branches = nn.ModuleList(branches)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class LiteralCTRBlock(nn.Module):
    def __init__(
        self, c_in: int, c_out: int, A: Tensor, stride: int = 1, residual: bool = True, samg: bool = False
    ) -> None:
        super().__init__()
        self.gcn1 = LiteralCTRUnitGCN(c_in, c_out, A, samg)
        self.tcn1 = LiteralCTRMultiScaleTCN(c_out, c_out, stride)
        self.has_residual = residual
        if residual and (c_in != c_out or stride != 1):
            self.residual = LiteralTemporalConvBN(c_in, c_out, 1, stride)
        else:
            self.residual = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        res = self.residual(x) if self.has_residual else 0.0
        return torch.relu(self.tcn1(self.gcn1(x)) + res)


class LiteralCTRGCN(nn.Module):
    """(N, M, T, V, C) input (skelact's axis order) -> logits; otherwise the official `Model`."""

    def __init__(self, A: Tensor, num_classes: int, num_persons: int, in_channels: int = 3) -> None:
        super().__init__()
        v = A.shape[-1]
        self.data_bn = nn.BatchNorm1d(num_persons * in_channels * v)
        b = 64
        plan = [(in_channels, b, 1, False), (b, b, 1, True), (b, b, 1, True), (b, b, 1, True)]
        plan += [(b, 2 * b, 2, True), (2 * b, 2 * b, 1, True), (2 * b, 2 * b, 1, True)]
        plan += [(2 * b, 4 * b, 2, True), (4 * b, 4 * b, 1, True), (4 * b, 4 * b, 1, True)]
        for i, (c_in, c_out, stride, residual) in enumerate(plan, start=1):
            self.add_module(f"l{i}", LiteralCTRBlock(c_in, c_out, A, stride, residual))
        self.fc = nn.Linear(4 * b, num_classes)

    def features(self, x: Tensor) -> Tensor:
        N, M, T, V, C = x.shape
        x = x.permute(0, 1, 3, 4, 2).contiguous().view(N, M * V * C, T)
        x = self.data_bn(x)
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2).contiguous().view(N * M, C, T, V)
        for i in range(1, 11):
            x = getattr(self, f"l{i}")(x)
        return x.view(N, M, x.shape[1], -1).mean(3).mean(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))


# --------------------------------------------------------------------------------------------- ST-GCN++


class LiteralPysklUnitGCN(nn.Module):
    """PYSKL unit_gcn, conv 'pre': y = conv(x) split into K groups; out_w = sum_k sum_v A[k, v, w] y_k[v]."""

    def __init__(self, c_in: int, c_out: int, A: Tensor, adaptive: str, with_res: bool) -> None:
        super().__init__()
        self.adaptive = adaptive
        if adaptive == "init":
            self.A = nn.Parameter(A.clone())
        else:
            self.register_buffer("A", A.clone())
        if adaptive == "importance":
            self.PA = nn.Parameter(torch.ones_like(A))
        self.conv = nn.Conv2d(c_in, c_out * A.shape[0], 1)
        self.bn = nn.BatchNorm2d(c_out)
        self.with_res = with_res
        if with_res:
            self.down = (
                nn.Sequential(nn.Conv2d(c_in, c_out, 1), nn.BatchNorm2d(c_out))
                if c_in != c_out
                else nn.Identity()
            )

    def forward(self, x: Tensor) -> Tensor:
        n, _, t, v = x.shape
        A = self.A * self.PA if self.adaptive == "importance" else self.A
        y = self.conv(x).view(n, A.shape[0], -1, t, v)
        out = None
        for k in range(A.shape[0]):  # loop over subsets: out[w] = sum_v y_k[v] A_k[v, w]
            z = torch.einsum("nctv,vw->nctw", y[:, k], A[k])
            out = z if out is None else out + z
        res = self.down(x) if self.with_res else 0.0
        return torch.relu(self.bn(out) + res)


class LiteralPysklMSTCN(nn.Module):
    """PYSKL mstcn: branches (3,1) (3,2) (3,3) (3,4) ('max',3) '1x1'; the first branch takes the remainder
    channels; temporal convs without norm; concat -> BN -> ReLU -> 1x1 conv -> BN."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        mid = c_out // 6
        rem = c_out - 5 * mid
        branches: list[nn.Module] = []
        for i, d in enumerate((1, 2, 3, 4)):
            bc = rem if i == 0 else mid
            branches.append(
                nn.Sequential(
                    nn.Conv2d(c_in, bc, 1),
                    nn.BatchNorm2d(bc),
                    nn.ReLU(),
                    LiteralTemporalConvBN(bc, bc, 3, stride, d, norm=False),
                )
            )
        branches.append(
            nn.Sequential(
                nn.Conv2d(c_in, mid, 1),
                nn.BatchNorm2d(mid),
                nn.ReLU(),
                nn.MaxPool2d((3, 1), (stride, 1), (1, 0)),
            )
        )
        branches.append(nn.Conv2d(c_in, mid, 1, stride=(stride, 1)))
        self.branches = nn.ModuleList(branches)
        self.transform = nn.Sequential(nn.BatchNorm2d(c_out), nn.ReLU(), nn.Conv2d(c_out, c_out, 1))
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.bn(self.transform(torch.cat([b(x) for b in self.branches], dim=1)))


class LiteralPysklBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, A: Tensor, stride: int, residual: bool, tcn: str) -> None:
        super().__init__()
        if tcn == "mstcn":
            self.gcn = LiteralPysklUnitGCN(c_in, c_out, A, "init", with_res=True)
            self.tcn = LiteralPysklMSTCN(c_out, c_out, stride)
        else:
            self.gcn = LiteralPysklUnitGCN(c_in, c_out, A, "importance", with_res=False)
            self.tcn = LiteralTemporalConvBN(c_out, c_out, 9, stride)
        self.has_residual = residual
        if residual and (c_in != c_out or stride != 1):
            self.residual = LiteralTemporalConvBN(c_in, c_out, 1, stride)
        else:
            self.residual = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        res = self.residual(x) if self.has_residual else 0.0
        return torch.relu(self.tcn(self.gcn(x)) + res)


class LiteralPysklSTGCN(nn.Module):
    """PYSKL STGCN backbone + GCNHead; `A` in PYSKL's orientation (A[k, v, w]: message v -> w).

    `tcn="mstcn"` gives ST-GCN++ (data BN over V*C shared by persons); `tcn="unit_tcn"` gives ST-GCN with
    edge importance (data BN over M*V*C, skelact's default)."""

    def __init__(self, A: Tensor, num_classes: int, num_persons: int, in_channels: int, tcn: str) -> None:
        super().__init__()
        v = A.shape[-1]
        self.data_bn_mvc = tcn != "mstcn"
        self.data_bn = nn.BatchNorm1d((num_persons if self.data_bn_mvc else 1) * in_channels * v)
        b = 64
        plan = [(in_channels, b, 1, False), (b, b, 1, True), (b, b, 1, True), (b, b, 1, True)]
        plan += [(b, 2 * b, 2, True), (2 * b, 2 * b, 1, True), (2 * b, 2 * b, 1, True)]
        plan += [(2 * b, 4 * b, 2, True), (4 * b, 4 * b, 1, True), (4 * b, 4 * b, 1, True)]
        self.gcn = nn.ModuleList(LiteralPysklBlock(ci, co, A, s, r, tcn) for ci, co, s, r in plan)
        self.fc = nn.Linear(4 * b, num_classes)

    def features(self, x: Tensor) -> Tensor:
        N, M, T, V, C = x.shape
        x = x.permute(0, 1, 3, 4, 2).contiguous()
        x = self.data_bn(x.view(N, M * V * C, T) if self.data_bn_mvc else x.view(N * M, V * C, T))
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2).contiguous().view(N * M, C, T, V)
        for block in self.gcn:
            x = block(x)
        return x.mean(dim=(2, 3)).view(N, M, -1).mean(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))


# --------------------------------------------------------------------------------------------- helpers


def randomise(model: nn.Module, seed: int = 0, calibrate: tuple[int, ...] | None = None) -> None:
    """Move the parameters whose initial values hide a path (alpha = 0, the 1e-6 output BN of CTR-GCN's
    unit, BN affine = (1, 0), the graph) to random values; then, if `calibrate` is an input shape, fill the
    BN running statistics from two training-mode passes so eval-mode outputs stay O(1)."""
    gen = torch.Generator().manual_seed(seed)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in norms:
            bn.weight.copy_(1.0 + 0.3 * torch.randn(bn.weight.shape, generator=gen))
            bn.bias.copy_(0.3 * torch.randn(bn.bias.shape, generator=gen))
        for name, p in model.named_parameters():
            if name.endswith("alpha"):
                p.fill_(0.7)
            elif name.rpartition(".")[2] in ("A", "PA"):
                p.add_(0.1 * torch.randn(p.shape, generator=gen))
    if calibrate is not None:
        for bn in norms:
            bn.momentum = None  # cumulative average
            bn.reset_running_stats()
        model.train()
        with torch.no_grad():
            for _ in range(2):
                model(torch.randn(calibrate, generator=gen))
        for bn in norms:
            bn.momentum = 0.1


def assert_gradients_match(reference: nn.Module, model: nn.Module, convert, x: Tensor) -> None:
    """Training-mode gradients of `model` equal those of the literal `reference`, mapped through the
    state-dict converter `convert`; both run in float64 copies. (In float32 both paths drift from the exact
    gradient by up to ~1 % on the data-BN weights: rounding flips which of near-equal values a max-pool
    window picks. Float64 makes the comparison exact enough to test the backward maths.)"""
    reference64 = copy.deepcopy(reference).double().train()
    model64 = copy.deepcopy(model).double().train()
    weights = torch.linspace(-1.0, 1.0, model.num_classes, dtype=torch.float64)
    (reference64(x.double()) * weights).sum().backward()
    (model64(x.double()) * weights).sum().backward()
    grads = {**dict(reference64.named_buffers()), **{k: p.grad for k, p in reference64.named_parameters()}}
    expected = convert(grads)
    for name, p in model64.named_parameters():
        atol = 1e-9 * max(expected[name].abs().max().item(), 1.0)
        torch.testing.assert_close(
            p.grad, expected[name], atol=atol, rtol=0, msg=lambda m, n=name: f"{n}: {m}"
        )


# --------------------------------------------------------------------------------------------- PSUMNet


def literal_spatial_graph(num_node: int, inward_one_based: list[tuple[int, int]]) -> Tensor:
    """CTR-GCN's tools.get_spatial_graph on a 1-based (child, parent) list, as PSUMNet's graph files call it
    (an index 0 in a list written 0-based becomes -1 and wraps, as in the released SHREC graph)."""
    inward = [(i - 1, j - 1) for i, j in inward_one_based]

    def edge2mat(link: list[tuple[int, int]]) -> Tensor:
        A = torch.zeros(num_node, num_node)
        for i, j in link:
            A[j, i] = 1
        return A

    def normalize_digraph(A: Tensor) -> Tensor:
        out = torch.zeros_like(A)
        for j in range(num_node):
            if A[:, j].sum() > 0:
                out[:, j] = A[:, j] / A[:, j].sum()
        return out

    self_link = edge2mat([(i, i) for i in range(num_node)])
    outward = [(j, i) for i, j in inward]
    return torch.stack([self_link, normalize_digraph(edge2mat(inward)), normalize_digraph(edge2mat(outward))])


def literal_valid_frame_num(data: np.ndarray) -> int:
    """The released feeders' valid length of a padded (C, T, V, M) sample: frames whose sum over
    coordinates, then persons, then joints is not zero, counted wherever they are."""
    return int(np.sum(data.sum(0).sum(-1).sum(-1) != 0))


def literal_valid_crop_resize(data: np.ndarray, valid_frame_num: int, p: float, window: int) -> np.ndarray:
    """CTR-GCN's ``valid_crop_resize`` at test time (one ratio p, PSUMNet's 0.95): the central part of
    frames 0 .. valid_frame_num - 1, trimmed by int((1 - p) * valid / 2) at each end, stretched to `window`
    frames by bilinear interpolation of the (C * V * M) x frames image, align_corners=False."""
    C, _, V, M = data.shape
    bias = int((1 - p) * valid_frame_num / 2)
    crop = data[:, bias : valid_frame_num - bias]
    length = crop.shape[1]
    image = torch.tensor(crop, dtype=torch.float).permute(0, 2, 3, 1).contiguous().view(C * V * M, length)
    image = F.interpolate(image[None, None], size=(C * V * M, window), mode="bilinear", align_corners=False)
    return image.squeeze().contiguous().view(C, V, M, window).permute(0, 3, 1, 2).contiguous().numpy()


class LiteralPSUMNet(nn.Module):
    """PSUMNet's released feeder and model for one stream: the part's joints copied one by one, bones by a
    loop over the 1-based pairs (a later pair overwrites), forward-difference motions, [J, B, JV, BV], then
    the official `Model`: data BN, the stream's rows of TCN_GCN units (SAMG relation widths) in a ModuleList
    ``layers``, fc. `in_channels` below 12 feeds the model the first channels of [J, B, JV, BV] (the
    released `Model` takes ``in_channels`` from its config; its feeder always makes 12)."""

    TABLE = [(12, 64, 1), (64, 64, 1), (64, 64, 1), (64, 64, 1), (64, 128, 2), (128, 128, 1), (128, 128, 1),
             (128, 256, 2), (256, 256, 1), (256, 256, 1)]  # fmt: skip

    def __init__(
        self,
        joints: list[int],
        pairs_one_based: list[tuple[int, int]],
        rows: list[int],
        num_classes: int,
        num_persons: int,
        in_channels: int = 12,
    ) -> None:
        super().__init__()
        self.joints, self.pairs, self.in_channels = joints, pairs_one_based, in_channels
        A = literal_spatial_graph(len(joints), pairs_one_based)
        self.data_bn = nn.BatchNorm1d(num_persons * in_channels * len(joints))
        table = [(in_channels, *self.TABLE[0][1:]), *self.TABLE[1:]]
        self.layers = nn.ModuleList(
            LiteralCTRBlock(*table[r - 1][:2], A, table[r - 1][2], residual=r != 1, samg=True) for r in rows
        )
        self.fc = nn.Linear(256, num_classes)

    def feeder(self, x: Tensor) -> Tensor:
        """(N, M, T, V_layout, C) -> the official (N, 12, T, V_part, M)."""
        data = x.permute(0, 4, 2, 3, 1)  # (N, C, T, V, M)
        part = torch.zeros(*data.shape[:3], len(self.joints), data.shape[4], dtype=x.dtype)
        for i, j in enumerate(self.joints):
            part[:, :, :, i] = data[:, :, :, j]
        bone = torch.zeros_like(part)
        for v1, v2 in self.pairs:
            bone[:, :, :, v1 - 1] = part[:, :, :, v1 - 1] - part[:, :, :, v2 - 1]
        joint_vel, bone_vel = torch.zeros_like(part), torch.zeros_like(bone)
        joint_vel[:, :, :-1] = part[:, :, 1:] - part[:, :, :-1]
        bone_vel[:, :, :-1] = bone[:, :, 1:] - bone[:, :, :-1]
        return torch.cat([part, bone, joint_vel, bone_vel], dim=1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.feeder(x)[:, : self.in_channels]
        N, C, T, V, M = x.size()
        x = x.permute(0, 4, 3, 1, 2).contiguous().view(N, M * V * C, T)
        x = self.data_bn(x)
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2).contiguous().view(N * M, C, T, V)
        for layer in self.layers:
            x = layer(x)
        x = x.view(N, M, x.size(1), -1).mean(3).mean(1)
        return self.fc(x)


# --------------------------------------------------------------------------------------------- BiGRU


class LiteralGRUEncoder(nn.Module):
    """The official ``EncoderRNN``: one bidirectional ``nn.GRU`` stepped through the clip frame by frame.

    `concat_outputs` also grows the per-frame outputs into one tensor by concatenation at every frame and
    reads the last frame from it, as the official code does (quadratic copying; a speed reference only).
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int, concat_outputs: bool = False
    ) -> None:
        super().__init__()
        self.gru = nn.GRU(
            input_size, hidden_size, num_layers=num_layers, bidirectional=True, batch_first=True
        )
        self.concat_outputs = concat_outputs

    def forward(self, seq: Tensor) -> Tensor:
        hidden, outputs = None, None
        for t in range(seq.shape[1]):  # one call per frame; the carried state makes both directions causal
            out, hidden = self.gru(seq[:, t : t + 1], hidden)
            if self.concat_outputs:
                outputs = out if outputs is None else torch.cat((outputs, out), 1)
        return (outputs if self.concat_outputs else out)[:, -1]  # the top layer's two directions, last frame


class LiteralBiGRU(nn.Module):
    """The official ``BIGRU`` on skelact's (N, M, T, V, C) batch: the MoCo wrapper's flattening
    (N, C, T, V, M) -> (N, T, V, C, M) -> (N, T, V*C*M), ``input_norm`` over channels, the stepped encoder,
    ``fc``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        num_classes: int,
        concat_outputs: bool = False,
    ) -> None:
        super().__init__()
        self.encoder = LiteralGRUEncoder(input_size, hidden_size, num_layers, concat_outputs)
        self.fc = nn.Linear(2 * hidden_size, num_classes)
        self.input_norm = nn.BatchNorm1d(input_size)
        self.num_classes = num_classes

    def forward_features(self, x: Tensor) -> Tensor:
        official = x.permute(0, 4, 2, 3, 1)  # (N, C, T, V, M), the official batch
        n, _, t = official.shape[:3]
        seq = official.permute(0, 2, 3, 1, 4).reshape(n, t, -1)
        seq = self.input_norm(seq.permute(0, 2, 1).contiguous()).permute(0, 2, 1).contiguous()
        return self.encoder(seq)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.forward_features(x))
