"""Losses: long-tail classification losses and the class weights they use."""

from skelact.losses.class_weights import (
    action_aware_betas,
    action_aware_weights,
    effective_number_weights,
)
from skelact.losses.longtail import LOSSES, LongTailLoss, build_loss, loss_name

__all__ = [
    "LOSSES",
    "LongTailLoss",
    "action_aware_betas",
    "action_aware_weights",
    "build_loss",
    "effective_number_weights",
    "loss_name",
]
