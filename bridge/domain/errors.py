"""The root of the error tree (drawn in bridge/errors.py) and the domain's own errors."""

from __future__ import annotations


class BridgeError(Exception):
    """Every error the bridge raises on purpose: a stable `code` and a sentence for people."""

    code = "bridge_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotEligible(BridgeError):
    """A selection the rules refuse; `code` says why (unknown_product, other_group, ...)."""

    code = "not_eligible"
