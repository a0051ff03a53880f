"""Moved to :mod:`gateway.lexicon.report` (the one lexicon); kept so old imports still work."""

from gateway.lexicon.report import *  # noqa: F403
from gateway.lexicon.report import ASR_VARIANTS, CONFUSABLE, NOT_NAMES, VOCAB  # noqa: F401
