"""skelact: skeleton-based human action recognition."""

from skelact.errors import ConfigError, FormatError, LayoutError, SkelactError

__version__ = "0.1.0"

__all__ = ["ConfigError", "FormatError", "LayoutError", "SkelactError", "__version__"]
