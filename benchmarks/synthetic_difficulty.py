"""How hard is the synthetic dataset? A linear classifier on raw coordinates, split by subject.

The embedded dataset must not be solvable by a linear read-out of raw coordinates (otherwise every test
and demo built on it proves nothing), while the motions stay distinct by their structure. This script
generates the dataset, splits it by subject, resamples every clip to a fixed length, and trains a
multinomial logistic regression on person 1's flattened, standardised coordinates. With --reference it
also trains a small non-linear model on body-centred coordinates with simple augmentation, as evidence
that the classes *are* separable from motion structure.

With --store it reads a prepared synthetic store instead (e.g. the demo's, runs/demo/store) and trains on
its ``train_full`` split and tests on its ``test`` split: the same held-out subjects as the demo's ST-GCN.

Run: python benchmarks/synthetic_difficulty.py [--per-class 120] [--seed 0] [--dims 3] [--reference]
     python benchmarks/synthetic_difficulty.py --store runs/demo/store
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

from skelact.data.synthetic import ACTIONS, generate_dataset


def resample(keypoint: np.ndarray, frames: int) -> np.ndarray:
    """(T, V, C) -> (frames, V, C) by linear interpolation along time."""
    pos = np.linspace(0.0, keypoint.shape[0] - 1, frames)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, keypoint.shape[0] - 1)
    w = (pos - lo)[:, None, None]
    return keypoint[lo] * (1.0 - w) + keypoint[hi] * w


def features(dataset, frames: int) -> np.ndarray:
    """(N, frames, V, C) person-1 coordinates (score appended as a channel for 2D)."""
    out = []
    for s in dataset:
        kp = s.keypoint[0]
        if s.score is not None:
            kp = np.concatenate([kp, s.score[0][..., None]], axis=-1)
        out.append(resample(kp, frames))
    return np.stack(out).astype(np.float32)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    return float((logits.argmax(1) == y).float().mean())


def linear_probe(x_tr, y_tr, x_te, y_te, weight_decay: float, steps: int) -> dict:
    """Multinomial logistic regression, full-batch L-BFGS on standardised features."""
    mean, std = x_tr.mean(0), x_tr.std(0) + 1e-6
    xtr, xte = (torch.from_numpy((x - mean) / std) for x in (x_tr, x_te))
    ytr, yte = torch.from_numpy(y_tr), torch.from_numpy(y_te)
    model = nn.Linear(xtr.shape[1], len(ACTIONS))
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xtr), ytr) + weight_decay * model.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        test_logits = model(xte)
        per_class = {
            name: round(float((test_logits.argmax(1)[yte == c] == c).float().mean()), 3)
            for c, name in enumerate(ACTIONS)
        }
        return {
            "train_acc": round(accuracy(model(xtr), ytr), 4),
            "test_acc": round(accuracy(test_logits, yte), 4),
            "test_acc_per_class": per_class,
        }


def body_centred(x: np.ndarray) -> np.ndarray:
    """Centre every frame on the clip's mean root (joint 0) and scale by the clip's mean spine length."""
    root = x[:, :, :1, :3].mean(axis=1, keepdims=True)
    spine = np.linalg.norm(x[:, :, 1, :3] - x[:, :, 0, :3], axis=-1).mean(1)[:, None, None, None] + 1e-3
    out = x.copy()
    out[..., :3] = (x[..., :3] - root) / spine
    return out


def reference_model(x_tr, y_tr, x_te, y_te, epochs: int, seed: int) -> dict:
    """A small temporal CNN on body-centred coordinates with random yaw and mirror-free augmentation."""
    torch.manual_seed(seed)
    xtr, xte = torch.from_numpy(body_centred(x_tr)), torch.from_numpy(body_centred(x_te))
    ytr, yte = torch.from_numpy(y_tr), torch.from_numpy(y_te)
    n, t, v, c = xtr.shape
    net = nn.Sequential(
        nn.Conv1d(v * c, 128, 5, padding=2), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Conv1d(128, 128, 5, padding=2), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Conv1d(128, 128, 5, padding=2, stride=2), nn.BatchNorm1d(128), nn.ReLU(),
        nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(128, len(ACTIONS)),
    )  # fmt: skip
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * ((n + 63) // 64))

    def flat(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], t, v * c).transpose(1, 2)

    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(n).split(64):
            xb = xtr[idx].clone()
            if c >= 3 and xb.shape[-1] >= 3:  # random rotation about the vertical axis (3D only)
                a = (torch.rand(len(idx)) - 0.5) * np.pi / 2
                cs, sn = torch.cos(a)[:, None, None], torch.sin(a)[:, None, None]
                x0, z0 = xb[..., 0].clone(), xb[..., 2].clone()
                xb[..., 0], xb[..., 2] = cs * x0 + sn * z0, -sn * x0 + cs * z0
            loss = nn.functional.cross_entropy(net(flat(xb)), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    with torch.no_grad():
        return {
            "train_acc": round(accuracy(net(flat(xtr)), ytr), 4),
            "test_acc": round(accuracy(net(flat(xte)), yte), 4),
        }


class _StoreData(list):
    """The store's train_full + test samples with the attributes `main` reads from a generated dataset."""

    layout = "store"
    labels: np.ndarray


def _from_store(path: str) -> tuple[_StoreData, np.ndarray]:
    from skelact.data.store import SkeletonStore

    store = SkeletonStore(path)
    train_idx, test_idx = store.splits["train_full"], store.splits["test"]
    data = _StoreData(store[int(i)] for i in np.concatenate([train_idx, test_idx]))
    data.layout = store.layout.name
    data.labels = np.asarray([s.label for s in data], dtype=np.int64)
    return data, np.arange(len(data)) < len(train_idx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dims", type=int, default=3, choices=(2, 3))
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--train-subjects", type=int, default=14, help="subjects 0..k-1 train, the rest test")
    parser.add_argument("--weight-decay", type=float, default=1e-3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--reference", action="store_true", help="also train a small non-linear model")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--store", help="a prepared synthetic store: use its train_full / test splits")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))

    start = time.perf_counter()
    if args.store:
        data, train = _from_store(args.store)
    else:
        data = generate_dataset(args.per_class, seed=args.seed, dims=args.dims)
        train = data.subjects < args.train_subjects
    gen_seconds = time.perf_counter() - start
    x = features(data, args.frames)
    y = data.labels
    flat = x.reshape(len(x), -1)
    result = {
        "dataset": {
            "samples": len(data),
            "dims": args.dims,
            "layout": data.layout,
            "generate_seconds": round(gen_seconds, 2),
            "train_samples": int(train.sum()),
            "test_samples": int((~train).sum()),
            "mean_frames": round(float(np.mean([s.num_frames for s in data])), 1),
            "two_person_fraction": round(float(np.mean([s.num_persons == 2 for s in data])), 3),
            "mirrored_fraction": round(float(np.mean([s.meta["mirrored"] for s in data])), 3),
            "zero_joint_fraction": round(
                float(np.mean([(s.keypoint[0] == 0).all(-1).mean() for s in data])), 4
            ),
        },
        "linear_raw": linear_probe(
            flat[train], y[train], flat[~train], y[~train], args.weight_decay, args.steps
        ),
        "chance": round(1.0 / len(ACTIONS), 4),
    }
    if args.reference:
        t0 = time.perf_counter()
        result["reference_cnn_body_centred"] = reference_model(
            x[train], y[train], x[~train], y[~train], args.epochs, args.seed
        )
        result["reference_cnn_body_centred"]["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
