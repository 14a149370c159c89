"""Flags generated from option records (names, defaults, choices, nargs, bools, help), and the records'
checks."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from skelact.cli.options import add_option_flags, flag_names, options_from_namespace, show_flags
from skelact.errors import ConfigError
from skelact.options import Options, option


@dataclass(frozen=True, kw_only=True)
class Shared(Options):
    seed: int = option("seed of everything", 0)


@dataclass(frozen=True, kw_only=True)
class Example(Shared):
    raw: Path = option("where to read")
    train_views: tuple[int, ...] = option("views of the training split", (1, 2))
    sizes: list[int] | None = option("some sizes", None)
    mode: Literal["fast", "slow"] = option("how fast; 100% honest", "fast")
    preset: str = option("a registry's choice", "b", choices=("a", "b"))
    labels: Path | None = option("optional file", None)
    lists: tuple[Path, ...] = option("repeatable list", (), repeat=True, metavar="FILE")
    quick: bool = option("be quick", False)
    progress: bool = option("no progress bar", True)
    list_file: Path | None = option("a list", None, flag="--list")


@dataclass(frozen=True, kw_only=True)
class Other(Shared):
    extra: int | None = option("something else", None)


def _parser(*classes: type) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="t", exit_on_error=False)
    add_option_flags(parser, *classes)
    return parser


def _actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.option_strings[0]: a for a in parser._actions if a.option_strings and a.dest != "help"}


def test_flags_follow_the_fields() -> None:
    actions = _actions(_parser(Example))
    assert next(iter(actions)) == "--raw"  # required flags first
    assert set(actions) == {
        "--raw",
        "--seed",
        "--train-views",
        "--sizes",
        "--mode",
        "--preset",
        "--labels",
        "--lists",
        "--quick",
        "--no-progress",
        "--list",
    }
    assert actions["--raw"].required and actions["--raw"].type is Path
    assert actions["--seed"].default == 0 and actions["--seed"].type is int
    assert actions["--seed"].help == "seed of everything"
    assert actions["--train-views"].nargs == "+" and actions["--train-views"].default == (1, 2)
    assert actions["--sizes"].nargs == "+" and actions["--sizes"].type is int
    assert (
        actions["--mode"].choices == ("fast", "slow") and actions["--mode"].help == "how fast; 100%% honest"
    )
    assert actions["--preset"].choices == ("a", "b") and actions["--preset"].default == "b"
    assert actions["--labels"].type is Path and actions["--labels"].default is None
    assert isinstance(actions["--lists"], argparse._AppendAction) and actions["--lists"].metavar == "FILE"
    assert isinstance(actions["--quick"], argparse._StoreTrueAction)
    assert isinstance(actions["--no-progress"], argparse._StoreFalseAction)
    assert actions["--no-progress"].dest == "progress" and actions["--no-progress"].help == "no progress bar"
    assert actions["--list"].dest == "list_file" and actions["--list"].metavar == "LIST"
    _parser(Example).format_help()  # the escaped % renders


def test_parsed_flags_build_the_record_with_its_defaults() -> None:
    parser = _parser(Example)
    defaults = options_from_namespace(Example, parser.parse_args(["--raw", "r"]))
    assert defaults == Example(raw=Path("r"))
    assert defaults.train_views == (1, 2) and defaults.lists == () and defaults.progress is True
    argv = ["--raw", "r", "--train-views", "3", "--lists", "a", "--lists", "b", "--no-progress", "--quick"]
    given = options_from_namespace(Example, parser.parse_args([*argv, "--list", "l", "--mode", "slow"]))
    assert given.train_views == (3,) and given.lists == (Path("a"), Path("b"))
    assert given.progress is False and given.quick is True and given.list_file == Path("l")
    assert given.mode == "slow"
    with pytest.raises(argparse.ArgumentError):
        parser.parse_args(["--raw", "r", "--mode", "medium"])


def test_a_field_shared_through_a_base_is_one_flag_for_both_records() -> None:
    parser = _parser(Example, Other)
    namespace = parser.parse_args(["--raw", "r", "--seed", "7", "--extra", "1"])
    assert options_from_namespace(Example, namespace).seed == 7
    assert options_from_namespace(Other, namespace).seed == 7

    @dataclass(frozen=True, kw_only=True)
    class Clash(Options):
        seed: int = option("another seed", 0)

    with pytest.raises(ConfigError, match="declared twice"):
        _parser(Example, Clash)


def test_records_coerce_and_check_their_values() -> None:
    record = Example(raw="r", train_views=[2, 1], sizes=(4,), lists=["x"])  # type: ignore[arg-type]
    assert record.raw == Path("r") and record.train_views == (2, 1) and record.lists == (Path("x"),)
    assert record.sizes == [4]
    with pytest.raises(ConfigError, match=r"`mode` must be one of fast, slow, got 'medium'"):
        Example(raw=Path("r"), mode="medium")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="`preset` must be one of a, b"):
        Example(raw=Path("r"), preset="c")
    with pytest.raises(ConfigError, match="`train_views` takes a sequence"):
        Example(raw=Path("r"), train_views=3)  # type: ignore[arg-type]


def test_errors_show_the_flags_of_the_options_they_name() -> None:
    err = ConfigError("`train_views` and `list_file` clash; `unknown` stays", hint="drop `progress`")
    show_flags(err, flag_names(Example))
    assert str(err) == "--train-views and --list clash; `unknown` stays (hint: drop --no-progress)"
