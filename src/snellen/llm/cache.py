"""The reply cache: every reply is kept in the run store, keyed by the model, the
conversation, the sampling parameters and the sample index, so asking again costs no call.

The cache lives in the run's database (``Run.cache_get`` / ``Run.cache_put``); writes are
``INSERT OR IGNORE``, so worker threads and processes may fill it at once. Failed requests
are not cached: a rerun tries them again.
"""

from __future__ import annotations

from snellen.llm.base import CachedModel, cache_key

__all__ = ["CachedModel", "cache_key"]
