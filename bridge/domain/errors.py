"""The root of the error tree (drawn in bridge/errors.py) and the domain's own errors."""

from __future__ import annotations

from dataclasses import dataclass


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


class MoneyError(BridgeError, ValueError):
    """An amount or currency that cannot be represented exactly."""

    code = "invalid_amount"


@dataclass(frozen=True)
class CatalogProblem:
    """One problem of a catalog or policy, naming the product (if any) and the field."""

    product: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = (
            f"product '{self.product}', field '{self.field}'"
            if self.product
            else f"field '{self.field}'"
        )
        return f"{where}: {self.message}"


class CatalogInvalid(BridgeError, ValueError):
    """The catalog (or policy) has problems; each names the product and field."""

    code = "catalog_invalid"

    def __init__(self, problems: list[CatalogProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
