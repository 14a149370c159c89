import inspect

import pytest
import torch
from torch import nn

from skelact.errors import ConfigError, LayoutError
from skelact.models import create_model, list_models, model_options, register_model, registry
from skelact.models.backbones import STGCN
from skelact.models.registry import COMMON_ARGS
from skelact.skeleton import get_layout


@pytest.fixture
def private_registry(monkeypatch):
    """Registrations made by a test vanish afterwards."""
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))


def test_stgcn_is_registered():
    assert "stgcn" in list_models()
    assert list_models() == sorted(list_models())


def test_create_model_resolves_layout_by_name():
    model = create_model(
        "stgcn", layout="coco17", in_channels=3, num_classes=5, num_persons=1, base_channels=8
    )
    assert isinstance(model, STGCN)
    assert model.layout == get_layout("coco17")
    assert model.num_classes == 5


def test_unknown_model_lists_known_ones():
    with pytest.raises(ConfigError, match=r"unknown model 'stgnc'.*known models: .*stgcn"):
        create_model("stgnc", layout="ntu25", in_channels=3, num_classes=60)


def test_unknown_kwarg_names_key_and_accepted_ones():
    with pytest.raises(ConfigError) as info:
        create_model("stgcn", layout="ntu25", in_channels=3, num_classes=60, base_chanels=32)
    text = str(info.value)
    assert "unexpected argument 'base_chanels'" in text
    assert "base_channels" in text and "graph_strategy" in text
    assert "in_channels" not in text.split("hint")[1]  # common arguments are not options


def test_unknown_layout_is_a_layout_error():
    with pytest.raises(LayoutError, match="unknown layout 'ntu26'"):
        create_model("stgcn", layout="ntu26", in_channels=3, num_classes=60)


def test_model_options():
    assert model_options("stgcn") == [
        "adaptive", "base_channels", "data_bn", "dropout", "gcn_with_residual", "graph_convention",
        "graph_strategy", "graph_variant", "head_dropout", "temporal",
    ]  # fmt: skip


# Arguments a registered variant fixes (its name says which part it is): not options of that name.
FIXED_BY_VARIANT = {"psumnet_body": {"part"}, "psumnet_hand": {"part"}, "psumnet_leg": {"part"}}


@pytest.mark.parametrize("name", list_models())
def test_every_constructor_argument_is_reachable_through_create_model(name: str):
    """Builders are thin: each argument of the model's class is an option, and passing every option at
    its default builds the same model as passing none."""
    common = {"layout": "ntu25", "in_channels": 3, "num_classes": 5, "num_persons": 1}
    small = {"base_channels": 8} if "base_channels" in model_options(name) else {}
    model = create_model(name, **common, **small)
    init = inspect.signature(type(model)).parameters.values()
    arguments = {p.name: p.default for p in init if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    fixed = FIXED_BY_VARIANT.get(name, set())
    assert set(model_options(name)) == set(arguments) - set(COMMON_ARGS) - fixed
    defaults = {k: v for k, v in arguments.items() if k not in (*COMMON_ARGS, *fixed, *small)}
    assert inspect.Parameter.empty not in defaults.values()
    torch.manual_seed(0)
    explicit = create_model(name, **common, **small, **defaults)
    torch.manual_seed(0)
    implicit = create_model(name, **common, **small)
    assert type(explicit) is type(model)
    assert explicit.state_dict().keys() == implicit.state_dict().keys()
    for key, value in explicit.state_dict().items():
        assert torch.equal(value, implicit.state_dict()[key]), key


def test_register_class_and_var_kwargs(private_registry):
    @register_model("toy_class")
    class Toy(nn.Module):
        def __init__(self, *, layout, in_channels, num_classes, num_persons=2, width=4):
            super().__init__()
            self.layout, self.width = layout, width

    @register_model("toy_kwargs")
    def toy_kwargs(**kwargs):
        return Toy(**{k: v for k, v in kwargs.items() if k != "anything"})

    assert create_model("toy_class", layout="ntu25", in_channels=3, num_classes=2, width=7).width == 7
    with pytest.raises(ConfigError, match=r"unexpected argument 'depth'.*accepted arguments: width"):
        create_model("toy_class", layout="ntu25", in_channels=3, num_classes=2, depth=7)
    # A builder taking **kwargs accepts anything; it owns its own checks.
    assert create_model("toy_kwargs", layout="ntu25", in_channels=3, num_classes=2, anything=1).width == 4
    assert {"toy_class", "toy_kwargs"} <= set(list_models())


def test_register_rejects_duplicates_and_incomplete_builders(private_registry):
    with pytest.raises(ConfigError, match="model 'stgcn' is registered twice"):
        register_model("stgcn")(lambda **kw: nn.Identity())

    with pytest.raises(ConfigError, match="builder 'bad' must accept num_classes, num_persons"):

        @register_model("bad")
        def bad(*, layout, in_channels):
            return nn.Identity()

    assert "bad" not in list_models()
