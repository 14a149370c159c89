"""`skelact video IN.mp4 --ckpt C [--window 64 --stride 16] [--out OUT.mp4] [--json OUT.json]
[--save-keypoints K.npy]`: actions per person over time, from a video file."""

from __future__ import annotations

import sys
from pathlib import Path

from skelact.cli.main import QuietArgumentParser, positive_int


def run_video(args: list[str]) -> int:
    parser = QuietArgumentParser(
        prog="skelact video", description="Recognise actions in a video: pose extraction, tracking, windows."
    )
    parser.add_argument("video", help="input video (.mp4, .avi, ... anything OpenCV reads)")
    parser.add_argument("--ckpt", required=True, help="checkpoint written by `skelact fit`")
    parser.add_argument("--window", type=positive_int, default=64, help="frames per recognition window")
    parser.add_argument("--stride", type=positive_int, default=16, help="frames between window starts")
    parser.add_argument("--out", default=None, help="overlay video to write (.mp4 or .avi)")
    parser.add_argument("--json", default=None, help="timeline JSON to write (default: printed)")
    parser.add_argument(
        "--save-keypoints", default=None, help="save the tracked keypoints as custom-data .npy"
    )
    parser.add_argument("--top-k", type=positive_int, default=3)
    parser.add_argument(
        "--min-presence", type=float, default=0.5, help="fraction of a window a person must be seen"
    )
    options = parser.parse_args(args)

    from skelact.inference.predictor import Predictor
    from skelact.video.io import video_info
    from skelact.video.mediapipe_pose import MediaPipePose
    from skelact.video.outputs import save_keypoints, timeline_record, write_json, write_overlay
    from skelact.video.recognize import extract_poses, recognise_video

    predictor = Predictor.from_checkpoint(options.ckpt)
    video_info(options.video)  # a missing or unreadable video fails before MediaPipe loads
    estimator = MediaPipePose()
    try:
        poses = extract_poses(options.video, estimator, progress=_progress)
    finally:
        estimator.close()
    print(file=sys.stderr)
    result = recognise_video(
        predictor, poses, window=options.window, stride=options.stride, top_k=options.top_k
    )
    record = timeline_record(
        result,
        options.video,
        {
            "checkpoint": str(options.ckpt),
            "model_layout": predictor.layout.name,
            "window": options.window,
            "stride": options.stride,
        },
    )
    if options.save_keypoints:
        print(f"keypoints: {save_keypoints(options.save_keypoints, result)}")
    if options.out:
        print(f"overlay video: {write_overlay(options.out, options.video, result)}")
    if options.json:
        print(f"timeline: {write_json(options.json, record)}")
    for s in result.segments:
        print(
            f"person {s['person']}: frames {s['start_frame']}-{s['end_frame']} "
            f"{s['label']} ({s['score']:.2f})"
        )
    if not result.segments:
        print(f"no person seen long enough in {Path(options.video).name} to recognise an action")
    return 0


def _progress(frames: int) -> None:
    if frames % 25 == 0:
        print(f"\rpose extraction: {frames} frames", end="", file=sys.stderr, flush=True)
