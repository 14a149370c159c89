"""Dataset recipes: raw files (or a generator) to a packed store with named splits."""

from skelact.data.prepare.synthetic import prepare_synthetic

__all__ = ["prepare_synthetic"]
