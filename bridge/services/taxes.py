"""The network's tax at start-up: its mode is fixed once an invoice was taxed (billing-rules.md §12)."""

from __future__ import annotations

from bridge.errors import ConfigError
from bridge.services.context import Context


def check_tax_mode(ctx: Context) -> None:
    """Refuse to start when `tax.mode` differs from the mode of taxed invoices already stored
    (prices would silently change meaning); the rate may change, and so may tax be switched off."""
    if ctx.tax is None:
        return
    with ctx.uow() as uow:
        stored = uow.invoices.tax_modes()
    other = sorted(mode for mode in stored if mode != ctx.tax.mode)
    if other:
        where = ctx.settings.config_path or "config.yaml"
        raise ConfigError(
            f"{where}: field 'tax.mode': is '{ctx.tax.mode}', but invoices were already taxed "
            f"'{other[0]}'; the mode is fixed once an invoice was taxed, so set tax.mode to "
            f"'{other[0]}' (the rate may change)"
        )
