"""The carve report: counts, subjects, classes without validation clips, and the two warnings."""

from __future__ import annotations

import numpy as np

from skelact.data.carve_report import TINY_VALIDATION, carve_lines, describe_carve

LABELS = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
SUBJECTS = np.array([1, 2, 3, 1, 2, 3, 1, 2, 3, 4])


def test_describe_counts_clips_subjects_and_classes_without_val() -> None:
    report = describe_carve(
        np.array([0, 1, 3, 4, 6, 7, 9]), np.array([2, 5]), labels=LABELS, groups=SUBJECTS, by="subject"
    )
    assert report == {
        "by": "subject",
        "train": 7,
        "val": 2,
        "classes": 3,
        "classes_without_val": [2],
        "groups": 4,
        "val_groups": 1,
    }


def test_a_tiny_uneven_carve_warns_twice_and_names_the_class() -> None:
    report = describe_carve(np.arange(8), np.array([8, 9]), labels=LABELS, groups=SUBJECTS, by="subject")
    lines = carve_lines("train", "val", report, ["wave", "clap", "kick"])
    assert lines[0] == "validation 'val' from 'train' (by subject): 2 of 10 clips (20%), 2 of 4 subjects"
    assert lines[1].startswith("warning: 'val' holds only 2 clips") and "test the last epoch" in lines[1]
    assert lines[2].startswith("warning: 2 of 3 classes have no clip in 'val' (wave, clap)")
    assert lines[2].endswith("--val-by class")


def test_a_large_even_carve_says_only_what_it_made() -> None:
    labels = np.repeat(np.arange(3), 40)
    val = np.concatenate([np.arange(0, 12), np.arange(40, 52), np.arange(80, 92)])
    train = np.setdiff1d(np.arange(120), val)
    report = describe_carve(train, val, labels=labels, groups=None, by="class")
    assert report["val"] >= TINY_VALIDATION and report["classes_without_val"] == []
    assert carve_lines("xsub_train", "xsub_val", report, []) == [
        "validation 'xsub_val' from 'xsub_train' (stratified by class): 36 of 120 clips (30%)"
    ]
