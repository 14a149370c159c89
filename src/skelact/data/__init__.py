"""Data: the sample record, readers, preparation recipes, the packed store, transforms and the datamodule."""

from skelact.data.sample import SkeletonSample

__all__ = ["SkeletonSample"]
