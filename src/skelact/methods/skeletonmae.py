"""SkeletonMAE pre-training (Yan et al., ICCV 2023; specs/skeletonmae.md sections 6-9): masked body regions of
each frame-graph reconstructed by a GIN autoencoder, GraphMAE style.

A step, for a batch of N sequences (N × M persons × T frames graphs, all in one batched pass per layer):

1. x (N, M, T, V, C): 2D data gets pixel noise (`noise_std`, on the coordinates of present joints);
2. e = embed(x), the per-joint linear embedding (N, M, T, V, D);
3. region mask (N, V), the same joints for every frame and person of a sequence (`RegionMasker`);
   the masked joints' features are replaced by the learnable [MASK] token;
4. H = GIN encoder (3 layers); Linear without bias (encoder → decoder); the masked joints' codes re-masked to
   0 (GraphMAE's re-masking); 1 GIN decoder layer, linear at the end;
5. RCE (β = 2, `rce_mode`) between reconstruction and target over the masked joints that are present (not
   all-zero), in every frame-graph in which the person is present; |V̄| is counted per graph.

Targets (`target`, spec section 8): ``embedding`` (default): e with the embedding frozen (its random
initialisation, so the target cannot collapse); ``coordinates``: the raw coordinates (the decoder outputs
them); ``literal``: e with gradients, as the paper states, which a constant embedding satisfies trivially.
The collapse monitor `train/embedding_spread` (`skelact.losses.reconstruction.embedding_spread`) is logged
every epoch in every mode.

The encoder (embedding + GIN) is a registry backbone, `skeletonmae`, held as an `InputModel` under
``encoder.``; the checkpoint's pipeline record names it, so the linear and k-NN protocols
(`skelact.methods.pretrained.load_pretrained_encoder`) and STRL fine-tuning (`--method strl`) load it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from skelact.data.clips import ClipSpec
from skelact.errors import ConfigError, FormatError
from skelact.inference.pipeline import PipelineRecord, build_input_model, load_checkpoint, read_record
from skelact.losses.reconstruction import RCE_MODES, embedding_spread, rce_loss
from skelact.methods.base import SkelactMethod
from skelact.methods.contrastive_encoder import drop_classifier
from skelact.methods.moco import DATA_FACTS, PRETRAINING_KEY, check_keeps_last
from skelact.methods.registry import register_method
from skelact.methods.schedules import check_schedule, step_schedule
from skelact.models.backbones.skeletonmae import SkeletonMAEEncoder
from skelact.models.layers.gin import GroupedGIN
from skelact.models.layers.region_mask import DEFAULT_MASK_REGIONS, RegionMasker, apply_mask_token
from skelact.skeleton.layout import get_layout

ENCODER_PREFIX = "encoder."  # the encoder's keys in a checkpoint's state_dict
TARGETS = ("embedding", "coordinates", "literal")


@register_method("skeletonmae")
class SkeletonMAE(SkelactMethod):
    """Masked graph autoencoder pre-training of the `skeletonmae` encoder (module docstring).

    Args:
        model_args: `skeletonmae` encoder options (embed_dim 64, gin_hidden 64, gin_layers 3, dropout 0.2;
            `coords` defaults to the data's coordinate count, so a score channel is not embedded).
        layout, num_classes, class_names, num_channels, num_coords, num_persons: linked from the data (the
            classes are recorded for the evaluation protocols, not used).
        mask_regions: the fixed regions masked (names or indices 0..5; default right arm + right leg).
        random_regions: k: mask k regions drawn per sequence instead (None: the fixed set).
        target: "embedding" (frozen embedding, default), "coordinates" or "literal" (spec section 8).
        rce_mode: "mean" (GraphMAE's SCE, default) or "literal" (the paper's Eq. 2 as printed).
        beta: the RCE exponent (2).
        decoder_layers: GIN layers of the decoder (1).
        noise_std: pixel noise on the coordinates (normalised units); None: 0.01 for 2D data, 0 for 3D.
        lr, weight_decay: Adam (1.5e-4 and 0: GraphMAE's graph configs).
        schedule, warmup_epochs, milestones, gamma: per-step schedule ("constant", as GraphMAE).
        seed: seeds the masks and the noise of every step (with the step and the rank).
        select_on: "last", the only choice: pre-training has no validation metric.
    """

    linked_from_data: ClassVar[dict[str, str]] = DATA_FACTS

    def __init__(
        self,
        model_args: dict[str, Any] | None = None,
        layout: str | dict[str, Any] = "coco17",
        num_classes: int = 60,
        class_names: list[str] | None = None,
        num_channels: int = 2,
        num_coords: int = 2,
        num_persons: int = 2,
        mask_regions: list[str | int] | None = None,
        random_regions: int | None = None,
        target: Literal["embedding", "coordinates", "literal"] = "embedding",
        rce_mode: Literal["mean", "literal"] = "mean",
        beta: float = 2.0,
        decoder_layers: int = 1,
        noise_std: float | None = None,
        lr: float = 1.5e-4,
        weight_decay: float = 0.0,
        schedule: Literal["cosine", "step", "constant"] = "constant",
        warmup_epochs: float = 0.0,
        milestones: list[int] | None = None,
        gamma: float = 0.1,
        seed: int = 0,
        select_on: Literal["last"] = "last",
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        check_keeps_last(select_on)
        if target not in TARGETS:
            raise ConfigError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
        if rce_mode not in RCE_MODES:
            raise ConfigError(f"unknown rce_mode {rce_mode!r}; choose one of {', '.join(RCE_MODES)}")
        check_schedule(schedule)
        if noise_std is not None and noise_std < 0:
            raise ConfigError(f"noise_std must be >= 0, got {noise_std}")
        self.layout = get_layout(layout)
        self.class_names = list(class_names) if class_names else [str(i) for i in range(num_classes)]
        self.model_args = {"coords": num_coords, **(model_args or {})}
        net = build_input_model(self._record(clip=None))
        drop_classifier(net.backbone)
        self.encoder = net
        backbone = self.backbone
        dim = backbone.embed.out_features
        hidden = backbone.encoder.layers[0].fc1.weight.shape[-1]
        self.mask_token = nn.Parameter(torch.zeros(dim))  # GraphMAE's enc_mask_token: zeros
        self.encoder_to_decoder = nn.Linear(dim, dim, bias=False)
        out = backbone.coords if target == "coordinates" else dim
        self.decoder = GroupedGIN(self.layout, dim, hidden, out, decoder_layers, final_activation=False)
        self.masker = RegionMasker(
            self.layout, mask_regions if mask_regions is not None else DEFAULT_MASK_REGIONS, random_regions
        )
        if target == "embedding":
            backbone.embed.requires_grad_(False)
        self.noise_std = noise_std if noise_std is not None else (0.01 if num_coords == 2 else 0.0)

    @property
    def backbone(self) -> SkeletonMAEEncoder:
        backbone = self.encoder.backbone
        if not isinstance(backbone, SkeletonMAEEncoder):
            raise ConfigError(f"SkeletonMAE needs the skeletonmae encoder, got {type(backbone).__name__}")
        return backbone

    # --- the pipeline record: what the evaluation protocols rebuild the encoder from -------------------

    def _record(self, clip: ClipSpec | None, **data: Any) -> PipelineRecord:
        return self.network_record(clip, "skeletonmae", dict(self.model_args), ("j",), **data)

    def pipeline_record(self) -> PipelineRecord | None:
        facts = self.datamodule_facts()
        if not facts:
            return None
        hp = self.hparams
        pretraining = {
            "method": self.method_name,
            "state_prefix": ENCODER_PREFIX,
            "num_features": self.backbone.num_features,
            "target": hp.target,
            "rce_mode": hp.rce_mode,
            "mask_regions": None if hp.random_regions else list(hp.mask_regions or DEFAULT_MASK_REGIONS),
            "random_regions": hp.random_regions,
        }
        extra = {PRETRAINING_KEY: pretraining, "precision": str(self.trainer.precision), "select_on": "last"}
        return self._record(**facts, extra=extra)

    # --- training ---------------------------------------------------------------------------------------

    def reconstruct(self, keypoint: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """One forward pass on (N, M, T, V, C): the mask, reconstruction, target and masks of the loss."""
        backbone = self.backbone
        present = keypoint[..., : backbone.coords].abs().amax(dim=-1) > 0  # (N, M, T, V)
        graphs = present.any(dim=-1)  # (N, M, T): the person is in the frame
        if self.training and self.noise_std > 0:
            coords, rest = keypoint[..., : backbone.coords], keypoint[..., backbone.coords :]
            noise = torch.randn(coords.shape, generator=generator).to(keypoint.device, keypoint.dtype)
            keypoint = torch.cat([coords + noise * self.noise_std * present.unsqueeze(-1), rest], -1)
        features = self.encoder.embed(keypoint)  # modality features ("j": the coordinates)
        embedded = backbone.embed_joints(features)
        masked = self.masker(keypoint.shape[0], generator).to(keypoint.device)  # (N, V)
        codes = backbone.encode(apply_mask_token(embedded, masked, self.mask_token))
        codes = self.encoder_to_decoder(codes)
        n, _, _, v, d = codes.shape
        codes = codes.masked_fill(masked.view(n, 1, 1, v, 1), 0.0)  # re-mask
        reconstruction = self.decoder(codes.reshape(1, -1, v, d)).view(*codes.shape[:-1], -1)
        if self.hparams.target == "coordinates":
            target = features[..., : backbone.coords]
        elif self.hparams.target == "embedding":
            target = embedded.detach()
        else:
            target = embedded
        # Only present joints count: a missing (all-zero) joint, e.g. one below 2D's score threshold, has
        # nothing to reconstruct; a frame where the person is absent has no graph.
        nodes = masked.view(n, 1, 1, v) & present
        return {
            "reconstruction": reconstruction,
            "target": target,
            "masked": nodes,
            "graphs": graphs,
            "embedded": embedded,
            "present": present,
        }

    def loss(self, out: dict[str, Tensor]) -> Tensor:
        hp = self.hparams
        reconstruction, target = out["reconstruction"], out["target"]
        return rce_loss(reconstruction, target, out["masked"], hp.beta, hp.rce_mode, out["graphs"])

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        keypoint = batch["keypoint"]
        if keypoint.ndim == 6:
            keypoint = keypoint[:, 0]  # (N, clips, M, T, V, C): one clip per training item
        out = self.reconstruct(keypoint, self._step_generator())
        loss = self.loss(out)
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/rce", loss, on_step=False, on_epoch=True)
        spread = embedding_spread(out["embedded"], out["present"])
        self.log("train/embedding_spread", spread, on_step=False, on_epoch=True)
        return loss

    def _step_generator(self) -> torch.Generator:
        """A CPU generator keyed by seed, rank and step, so a resumed run draws what the uninterrupted run
        would have drawn."""
        key = (self.hparams.seed * 1_000_003 + self.global_rank) * 1_000_000_007 + self.global_step
        return torch.Generator().manual_seed(key % (2**63))

    def configure_optimizers(self) -> dict[str, Any]:
        hp = self.hparams
        params = [p for p in self.parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(params, lr=hp.lr, weight_decay=hp.weight_decay)
        return step_schedule(optimizer, self.trainer, hp)


def load_skeletonmae(path: str | Path, map_location: str = "cpu") -> SkeletonMAE:
    """The whole pre-training module (encoder, [MASK] token, decoder) of a `--method skeletonmae`
    checkpoint, in eval mode: what `skelact render --mae` runs to show the reconstruction."""
    checkpoint = load_checkpoint(path, map_location)
    record = read_record(checkpoint, path)
    if record.method != SkeletonMAE.method_name:
        raise FormatError(
            f"not a SkeletonMAE pre-training checkpoint (method {record.method!r})",
            path=path,
            hint="give a checkpoint written by `skelact fit --method skeletonmae`",
        )
    arguments = {k: v for k, v in (checkpoint.get("hyper_parameters") or {}).items() if not k.startswith("_")}
    model = SkeletonMAE(**arguments)
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


@torch.no_grad()
def joint_errors(model: SkeletonMAE, clip: Tensor) -> tuple[Tensor, Tensor]:
    """(M, T, V, C) clip → the masked joints (V,) bool and each masked joint's 1 − cos between its
    reconstruction and its target (M, T, V), NaN where a joint is not masked or not present. Random
    regions are drawn with seed 0."""
    out = model.reconstruct(clip.unsqueeze(0), torch.Generator().manual_seed(0))
    cos = torch.nn.functional.cosine_similarity(out["reconstruction"].float(), out["target"].float(), dim=-1)
    shown = out["masked"] & out["present"]
    error = torch.where(shown, 1.0 - cos, torch.full_like(cos, float("nan")))
    return out["masked"][0].flatten(0, 1).any(dim=0), error[0]
