"""Data: the sample record, readers, preparation recipes, the packed store, transforms and the datamodule."""

from skelact.data.sample import SkeletonSample
from skelact.data.store import SkeletonStore, open_store, write_store

__all__ = ["SkeletonSample", "SkeletonStore", "open_store", "write_store"]
