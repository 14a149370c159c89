"""docs/custom-data.md, followed as a new user would: every marked block of the guide is run as written.

Blocks are marked in the markdown with an HTML comment just above the fence:
``<!-- doc-test: python -->`` (run the code), ``<!-- doc-test: write PATH -->`` (save the block as PATH) and
``<!-- doc-test: run -->`` (run each ``skelact`` command of a bash block). The steps run in document order in
an empty folder, so the guide cannot drift from what the code does. Only two things differ from a user's
run, to stay fast: the toy data has 4 clips per class instead of 20, and `fit`/`test` get a tiny network and
one epoch appended (later options override earlier ones, as on a real command line).
"""

from __future__ import annotations

import csv
import glob
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.data.store import SkeletonStore
from skelact.skeleton import get_layout
from skelact.skeleton.layout_file import load_layout

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "custom-data.md"
MARKED_BLOCK = re.compile(
    r"<!-- doc-test: (?P<action>python|write|run)(?: (?P<target>\S+))? -->\n"
    r"```(?P<lang>\w+)\n(?P<body>.*?)\n```",
    re.DOTALL,
)
TINY_TRAINING = [
    "--model.model_args", '{"base_channels": 8}',
    "--trainer.max_epochs", "1",
    "--trainer.enable_progress_bar", "false",
    "--data.clip_len", "16",
]  # fmt: skip
FEWER_CLIPS = ("per_class=20", "per_class=4")


@dataclass(frozen=True)
class Step:
    action: str
    target: str | None
    lang: str
    body: str
    line: int


def doc_steps() -> list[Step]:
    text = DOC.read_text(encoding="utf-8")
    return [
        Step(m["action"], m["target"], m["lang"], m["body"], text.count("\n", 0, m.start()) + 1)
        for m in MARKED_BLOCK.finditer(text)
    ]


def shell_commands(body: str) -> list[list[str]]:
    """The commands of a bash block: comments dropped, backslash continuations joined, globs expanded."""
    joined = re.sub(r"\\\n\s*", " ", body)
    commands = []
    for line in joined.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        argv = []
        for word in shlex.split(line):
            if "*" in word:
                matches = glob.glob(word)
                assert len(matches) == 1, f"{word!r} should match one file, found {matches}"
                word = matches[0]
            argv.append(word)
        commands.append(argv)
    return commands


def _pose_tables(folder: Path) -> None:
    """A folder of coco17 tables as the guide describes, with a labels CSV that also lists its example."""
    rng = np.random.default_rng(0)
    names = get_layout("coco17").joint_names
    folder.mkdir(parents=True, exist_ok=True)
    labels = [["file", "label"], ["clip_000.csv", "wave"]]  # clip_000.csv is the guide's own example
    for i in range(1, 13):
        rows = [
            [frame, person, names[joint], *rng.uniform(0, 640, 2).round(1).tolist(), 0.9]
            for frame in range(10)
            for person in range(1 + i % 2)
            for joint in range(17)
        ]
        with open(folder / f"clip_{i:03d}.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["frame", "person", "joint", "x", "y", "score"])
            writer.writerows(rows)
        labels.append([f"clip_{i:03d}.csv", "wave" if i % 2 else "clap"])
    with open(folder / "labels.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(labels)


def _link_repo_configs(root: Path) -> None:
    """The guide runs in a clone; here the repo's shipped configs are linked, configs/data stays local."""
    (root / "configs" / "data").mkdir(parents=True)
    for name in ("trainer", "model", "recipes"):
        (root / "configs" / name).symlink_to(REPO / "configs" / name, target_is_directory=True)


def test_every_command_block_of_the_guide_is_marked_for_this_test() -> None:
    text = DOC.read_text(encoding="utf-8")
    fences = re.findall(r"(?:<!-- doc-test: [^>]*-->\n)?```bash\n", text)
    assert fences and all(f.startswith("<!-- doc-test: run -->") for f in fences)
    actions = [step.action for step in doc_steps()]
    assert actions.count("run") >= 6 and "python" in actions and "write" in actions


def test_following_the_guide_ends_in_a_trained_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _link_repo_configs(tmp_path)
    _pose_tables(tmp_path / "my_tables")
    outputs: dict[str, str] = {}
    for step in doc_steps():
        where = f"{DOC.name} line {step.line}"
        if step.action == "write":
            assert step.target is not None
            Path(step.target).parent.mkdir(parents=True, exist_ok=True)
            Path(step.target).write_text(step.body + "\n", encoding="utf-8")
        elif step.action == "python":
            code = step.body
            if FEWER_CLIPS[0] in code:
                code = code.replace(*FEWER_CLIPS)
            exec(compile(code, where, "exec"), {"__name__": "__doc_test__"})
        else:
            for argv in shell_commands(step.body):
                assert argv[0] == "skelact", f"{where}: only skelact commands are run, got {argv[0]!r}"
                args = argv[1:] + (TINY_TRAINING if argv[1] in ("fit", "test") else [])
                code = main(args)
                captured = capsys.readouterr()
                assert code == 0, f"{where}: `{shlex.join(argv)}` failed: {captured.err[-2000:]}"
                key = " ".join(argv[:3])
                outputs[key] = outputs.get(key, "") + captured.out

    assert FEWER_CLIPS[0] in DOC.read_text(encoding="utf-8"), (
        "the toy-data script changed: update FEWER_CLIPS"
    )
    # The store holds the toy clips with the layout declared in the guide's file.
    store = SkeletonStore("stores/my_clips")
    assert len(store) == 48 and store.layout == load_layout("body16.yaml")
    assert {"train", "val", "test"} <= set(store.splits)
    assert "body16" in outputs["skelact info stores/my_clips"]
    # A trained model, its test metrics, and predictions with class names.
    checkpoints = Path("runs/my_clips/version_0/checkpoints")
    assert len(list(checkpoints.glob("best-*.ckpt"))) == 1 and (checkpoints / "last.ckpt").is_file()
    metrics = json.loads(Path("runs/my_clips/version_1/test/metrics.json").read_text())
    assert 0.0 <= metrics["top1"] <= 1.0
    predicted = outputs["skelact predict --ckpt"].splitlines()
    assert any("[true: " in line for line in predicted)
    assert [line for line in predicted if line.startswith("clip_000: ")]  # the .npy clip, then the table
    # The keypoint-table path: the guide's example table is clip_000 of the table store.
    tables = SkeletonStore("stores/my_tables")
    assert len(tables) == 13 and tables.has_score and tables.layout.name == "coco17"
    example = tables.sample_ids.index("clip_000")
    assert tables.num_persons[example] == 2 and tables.lengths[example] == 2
    table_prediction = predicted[-1].split(": ", 1)  # `skelact predict` read the guide's table directly
    ranked = len(table_prediction[1].split("  "))
    assert table_prediction[0] == "clip_000" and ranked == min(3, len(tables.class_names))  # --top-k 3
    assert (Path("runs/my_tables/version_0/checkpoints") / "last.ckpt").is_file()
    assert load_layout("my_coco.yaml") == get_layout("coco17")


def _toy_folder(root: Path) -> Path:
    raw = root / "my_clips"
    raw.mkdir()
    for i in range(6):
        np.save(raw / f"clip_{i:03d}.npy", np.ones((5, 16, 3), dtype=np.float32))
    (raw / "labels.csv").write_text("file,label\n" + "".join(f"clip_{i:03d}.npy,wave\n" for i in range(6)))
    return raw


# (what the user did wrong, arguments after `skelact prepare`, text that must be in the error and the guide)
ERRORS = [
    (
        "missing file",
        ["--layout", "body16.yaml"],
        "file does not exist (paths in the labels CSV are relative to --raw)",
    ),
    ("wrong layout", ["--layout", "ntu25"], "but layout 'ntu25' has 25; pick the layout"),
    (
        "score channel",
        ["--layout", "body16.yaml"],
        "last axis has 4 values per joint, expected 2 (x, y) or 3 (x, y, z)",
    ),
    ("nan", ["--layout", "body16.yaml"], "; write missing joints as 0"),
    ("header", ["--layout", "body16.yaml"], "missing column 'label': the header has 'file', 'action'"),
    ("twice", ["--layout", "body16.yaml"], "is listed twice (first on line"),
    (
        "layout name",
        ["--layout", "coco18"],
        "unknown layout 'coco18': neither a built-in layout name nor an existing",
    ),
    (
        "cycle",
        ["--layout", "cycle.yaml"],
        "field 'parents': joint 'neck' never reaches a root: the parents form a cycle",
    ),
    ("too few", ["--layout", "body16.yaml", "--test-fraction", "0"], "to carve a 10% validation split"),
]


def _break(case: str, raw: Path) -> None:
    labels = raw / "labels.csv"
    if case == "missing file":
        labels.write_text(labels.read_text() + "clip_009.npy,wave\n")
    elif case == "score channel":
        np.save(raw / "clip_001.npy", np.ones((5, 16, 4)))
    elif case == "nan":
        np.save(raw / "clip_001.npy", np.full((5, 16, 3), np.nan))
    elif case == "header":
        labels.write_text(labels.read_text().replace("file,label", "file,action"))
    elif case == "twice":
        labels.write_text(labels.read_text() + "clip_001.npy,wave\n")
    elif case == "cycle":
        text = Path("body16.yaml").read_text().replace("  neck: spine\n", "  neck: head\n")
        Path("cycle.yaml").write_text(text)
    elif case == "too few":
        labels.write_text("file,label\nclip_000.npy,wave\nclip_001.npy,wave\nclip_002.npy,clap\n")


@pytest.mark.parametrize(("case", "args", "text"), ERRORS, ids=[e[0] for e in ERRORS])
def test_the_common_errors_of_the_guide_are_the_real_messages(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
    args: list[str],
    text: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    layout_step = next(s for s in doc_steps() if s.target == "body16.yaml")
    Path("body16.yaml").write_text(layout_step.body + "\n")
    raw = _toy_folder(tmp_path)
    _break(case, raw)
    command = ["prepare", "custom-npy", "--raw", str(raw), "--out", "stores/x", "--no-progress", *args]
    assert main(command) == 2
    error = capsys.readouterr().err
    assert text in error, error
    assert text in DOC.read_text(encoding="utf-8"), f"the guide's error table lacks {text!r}"
    assert not Path("stores/x").exists()
