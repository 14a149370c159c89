"""Loading cost of the ``rgb`` modality: milliseconds per training item, with and without the crops.

    OMP_NUM_THREADS=1 python benchmarks/rgb_read.py --store STORE --split split1_train [--clip-len 16]
        [--size 112] [--items 40]

Times `ClipDataset.__getitem__` (what a loader worker does per item) on the first `--items` items of the
split, once reading keypoints only and once with the ``rgb`` crops. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

from skelact.data.datamodule import SkeletonDataModule


def per_item_ms(data: SkeletonDataModule, items: int) -> float:
    dataset = data.train_dataloader().dataset
    count = min(items, len(dataset))
    start = time.perf_counter()
    for position in range(count):
        dataset[(position, 0)]
    return 1000 * (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--split", default="train")
    parser.add_argument("--clip-len", type=int, default=16)
    parser.add_argument("--size", type=int, default=112)
    parser.add_argument("--items", type=int, default=40)
    args = parser.parse_args()
    common = {
        "train_split": args.split,
        "val_split": None,
        "test_split": args.split,
        "clip_len": args.clip_len,
    }
    keypoints = SkeletonDataModule(args.store, **common)
    rgb = SkeletonDataModule(
        args.store, **common, modalities=["rgb"], modality_options={"rgb": {"size": args.size}}
    )
    result = {
        "store": args.store,
        "split": args.split,
        "clip_len": args.clip_len,
        "size": args.size,
        "items": min(args.items, len(keypoints.store.split(args.split))),
        "keypoint_ms_per_item": round(per_item_ms(keypoints, args.items), 2),
        "with_rgb_ms_per_item": round(per_item_ms(rgb, args.items), 2),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
