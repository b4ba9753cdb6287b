"""The library's one base error, so callers can catch everything it raises on purpose."""


class UnifiedCacheError(Exception):
    """Base class of every error the library raises deliberately."""


class DatabaseError(UnifiedCacheError):
    """L3 (the source of truth) failed; the operation did not happen.

    Redis failures never surface: the cache degrades instead. A database failure must,
    because a write that was not stored cannot be reported as done.
    """


class ConfigurationError(UnifiedCacheError, ValueError):
    """A setting cannot work (unknown scheme, missing driver, bad value)."""
