"""Messages Lightning prints on every run that say nothing about the run, filtered one exact text each.

Each filter names the message and why it is not fixed at its cause. Warnings that skelact caused are fixed
where they arise instead (the checkpoint "dirpath has changed" warning of every `skelact test`:
`skelact.methods.exact_resume.KeepSelectionOnResume`).
"""

from __future__ import annotations

import logging
import warnings

# Lightning 2.6's logger connector advertises its cloud logger on every run without one (an info record of
# its rank-zero logger); skelact logs to TensorBoard and CSV on purpose, so the tip has nothing to act on.
# The model-checkpoint variant ("... cloud uploads and versioning") is the same advertisement.
LIGHTNING_TIPS = ("💡 Tip: For seamless cloud logging", "💡 Tip: For seamless cloud uploads")
RANK_ZERO_LOGGER = "lightning.pytorch.utilities.rank_zero"

# lightning.pytorch.utilities._pytree builds `LeafSpec()`, which torch 2.13 deprecates (a FutureWarning
# raised inside Lightning on every fit and test, for the combined loader); nothing in skelact calls it, and
# only a Lightning release can change the call.
PYTREE_DEPRECATION = r"`isinstance\(treespec, LeafSpec\)` is deprecated"
PYTREE_MODULE = r"lightning\.pytorch\.utilities\._pytree"


class _DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(LIGHTNING_TIPS)


_TIP_FILTER = _DropTips()


def quiet_lightning() -> None:
    """Install the filters (idempotent): Lightning's advertisement and one deprecation from its internals."""
    logger = logging.getLogger(RANK_ZERO_LOGGER)
    if _TIP_FILTER not in logger.filters:
        logger.addFilter(_TIP_FILTER)
    warnings.filterwarnings(
        "ignore", message=PYTREE_DEPRECATION, category=FutureWarning, module=PYTREE_MODULE
    )
