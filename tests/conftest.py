"""Shared fixtures: small synthetic stores and one tiny trained run, built once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("SKELACT_PLAIN_PROGRESS", "1")  # no rich live display in captured test output

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
SHARED_DATA = REPO.parent / "shared" / "data"

# A deliberately tiny training configuration: the tests check plumbing, not accuracy.
TINY_TRAINING = [
    "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
    "--config", str(CONFIGS / "data" / "synthetic3d.yaml"),
    "--config", str(CONFIGS / "model" / "stgcn.yaml"),
    "--model.model_args", '{"base_channels": 8}',
    "--data.clip_len", "16",
    "--data.batch_size", "16",
    "--trainer.max_epochs", "2",
    "--trainer.enable_progress_bar", "false",
    "--trainer.precision", "32-true",  # exact numerics; test_speed.py checks "auto"
]  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def private_skelact_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Store verification records (skelact.data.store_verify) go to a session folder, not ~/.cache."""
    path = tmp_path_factory.mktemp("skelact_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKELACT_CACHE_DIR", str(path))
        yield path


@pytest.fixture
def tiny_training() -> list[str]:
    """TINY_TRAINING for test modules (conftest is not importable under --import-mode=importlib)."""
    return list(TINY_TRAINING)


@pytest.fixture(scope="session")
def tiny_training_args() -> tuple[str, ...]:
    """TINY_TRAINING for module- and session-scoped fixtures (a later option overrides an earlier one)."""
    return tuple(TINY_TRAINING)


@pytest.fixture
def tiny_fit_args(tiny_training: list[str], synthetic_store_3d: Path, tmp_path: Path) -> list[str]:
    """TINY_TRAINING on the synthetic 3D store, its runs under the test's tmp_path (a fresh list per test)."""
    return [
        *tiny_training,
        "--data.store",
        str(synthetic_store_3d),
        "--trainer.default_root_dir",
        str(tmp_path),
    ]


@pytest.fixture(scope="session")
def synthetic_store_3d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skelact.data.prepare.synthetic import prepare_synthetic

    return prepare_synthetic(tmp_path_factory.mktemp("syn3d") / "store", per_class=6, seed=1, dims=3)


@pytest.fixture(scope="session")
def synthetic_store_2d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skelact.data.prepare.synthetic import prepare_synthetic

    return prepare_synthetic(tmp_path_factory.mktemp("syn2d") / "store", per_class=4, seed=2, dims=2)


@pytest.fixture(scope="session")
def trained_run(synthetic_store_3d: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`skelact fit` then `skelact test` through the real command line, on the tiny configuration."""
    from skelact.cli.main import main

    root = tmp_path_factory.mktemp("runs")
    common = [
        *TINY_TRAINING,
        "--data.store",
        str(synthetic_store_3d),
        "--trainer.default_root_dir",
        str(root),
    ]
    assert main(["fit", *common]) == 0
    run_dir = root / "version_0"
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    assert main(["test", *common, "--ckpt_path", str(ckpt)]) == 0
    return {
        "root": root,
        "run_dir": run_dir,
        "ckpt": ckpt,
        "test_dir": root / "version_1" / "test",
        "store": synthetic_store_3d,
    }


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The research datasets in ../shared/data (read-only); tests needing them skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"research data folder {SHARED_DATA} is absent (it is never copied into the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def trained_run_2d(synthetic_store_2d: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A one-epoch coco17 (x, y, score) model on the synthetic 2D store, for video and mapping tests."""
    from skelact.cli.main import main

    root = tmp_path_factory.mktemp("runs2d")
    args = [
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / "synthetic2d.yaml"),
        "--config", str(CONFIGS / "model" / "stgcn.yaml"),
        "--model.model_args", '{"base_channels": 8}',
        "--data.clip_len", "16",
        "--data.batch_size", "16",
        "--trainer.max_epochs", "1",
        "--trainer.enable_progress_bar", "false",
        "--trainer.precision", "32-true",  # the same numerics on any CPU
        "--data.store", str(synthetic_store_2d),
        "--trainer.default_root_dir", str(root),
    ]  # fmt: skip
    assert main(["fit", *args]) == 0
    return {"ckpt": root / "version_0" / "checkpoints" / "last.ckpt", "store": synthetic_store_2d}
