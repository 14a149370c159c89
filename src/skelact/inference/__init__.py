"""Inference: a predictor rebuilt from a checkpoint, and its export to ONNX / TorchScript."""

from skelact.inference.predictor import Prediction, Predictor

__all__ = ["Prediction", "Predictor"]
