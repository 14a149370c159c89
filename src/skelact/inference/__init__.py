"""Inference: a predictor rebuilt from a checkpoint (export comes later)."""

from skelact.inference.predictor import Prediction, Predictor

__all__ = ["Prediction", "Predictor"]
