"""Print the pose heatmap rendering throughput (`skelact.models.inputs.heatmap.HeatmapVolume`) as JSON.

Random coco17 2D + score keypoints, 2 persons, rendered to 48 frames of 56 x 56 (PoseC3D's NTU setting) in
batches of 16; clips/s is the median over the timed repeats after one warm-up batch.

    OMP_NUM_THREADS=1 python benchmarks/heatmap_render.py
    python benchmarks/heatmap_render.py --limbs --device cuda --repeats 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from skelact.models.inputs.heatmap import HeatmapVolume


def render_rate(
    batch: int, frames: int, size: int, persons: int, limbs: bool, device: str, repeats: int
) -> dict[str, object]:
    render = HeatmapVolume("coco17", num_coords=2, score_channel=True, size=size, limbs=limbs).to(device)
    generator = torch.Generator().manual_seed(0)
    clips = torch.rand(batch, persons, frames, 17, 3, generator=generator).to(device)
    times = []
    with torch.no_grad():
        for i in range(repeats + 1):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            out = render(clips)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            if i:  # the first batch warms up allocators and kernels
                times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {
        "device": device,
        "threads": torch.get_num_threads(),
        "batch": batch,
        "persons": persons,
        "output_shape": list(out.shape),
        "limbs": limbs,
        "seconds_per_batch": round(seconds, 4),
        "clips_per_s": round(batch / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--size", type=int, default=56)
    parser.add_argument("--persons", type=int, default=2)
    parser.add_argument("--limbs", action="store_true", help="draw limb channels too")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(
        json.dumps(
            render_rate(
                args.batch, args.frames, args.size, args.persons, args.limbs, args.device, args.repeats
            )
        )
    )


if __name__ == "__main__":
    main()
