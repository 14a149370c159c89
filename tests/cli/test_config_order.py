"""The config-order guard (issue 19 item 4): the README's order keeps a two-person store's second person, and
a config composed after the data config that lowers persons or drops scores is warned about."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from skelact.cli.config_order import COMMAND_LINE, setting_source
from skelact.cli.lightning import build_cli
from skelact.data.store import SkeletonStore

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def readme_order(store: Path, root: Path, *after: str) -> list[str]:
    """README.md's `skelact fit` (for build_cli(run=False), without the subcommand): the data config before
    the demo recipe, the store on the command line."""
    return [
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--config", str(CONFIGS / "data" / "synthetic3d.yaml"),
        "--config", str(CONFIGS / "model" / "stgcn.yaml"),
        "--config", str(CONFIGS / "recipes" / "demo.yaml"),
        *after,
        "--data.store", str(store),
        "--trainer.default_root_dir", str(root),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def two_person_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic store; a quarter of its clips hold a second person."""
    from skelact.data.prepare.synthetic import prepare_synthetic

    path = prepare_synthetic(tmp_path_factory.mktemp("two") / "store", per_class=3, seed=3, dims=3)
    assert SkeletonStore(path).max_persons == 2
    return path


def test_the_readme_order_keeps_both_persons(two_person_store: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # and says nothing about persons
        cli = build_cli(readme_order(two_person_store, tmp_path), run=False)
    assert cli.datamodule.num_persons == 2 and cli.model.hparams.num_persons == 2
    batch = next(iter(cli.datamodule.val_dataloader()))
    assert batch["keypoint"].shape[2] == 2  # (N, clips, M, T, V, C)


def test_a_later_config_that_drops_a_person_is_warned_about(two_person_store: Path, tmp_path: Path) -> None:
    recipe = tmp_path / "my_recipe.yaml"
    recipe.write_text("data:\n  max_persons: 1\n")
    with pytest.warns(UserWarning) as caught:
        cli = build_cli(readme_order(two_person_store, tmp_path, "--config", str(recipe)), run=False)
    lines = [str(w.message) for w in caught if "data.max_persons" in str(w.message)]
    assert cli.datamodule.num_persons == 1 and len(lines) == 1
    assert lines[0].startswith(f"{recipe} sets data.max_persons 1, below the 2 persons of the store")
    assert "samples have more): their other persons are dropped" in lines[0]


def test_a_data_config_or_the_command_line_declares_persons(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("data:\n  store: s\n  max_persons: 1\n")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("data:\n  max_persons: 1\n")
    assert setting_source(["--config", str(data)], "max_persons") == (str(data), True)
    assert setting_source(["--config", str(data), f"--config={recipe}"], "max_persons") == (
        str(recipe),
        False,
    )
    assert setting_source(["--config", str(recipe), "--data.max_persons", "1"], "max_persons") == (
        COMMAND_LINE,
        True,
    )
    assert setting_source(["--config", str(recipe)], "with_score") is None
