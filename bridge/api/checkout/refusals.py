"""Checkout sentences for the refusal codes of the amended billing rules (§4).

`payment_due` and `billing_not_offered` had no sentence on the checkout page. They are marked
here so the catalogs hold them; the refusal mapping of the checkout views takes them from here.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a text for the catalogs; it is translated where it is shown."""
    return message


NEW_REFUSALS: dict[str, str] = {
    "payment_due": N_(
        "Your renewal invoice is not paid yet. Pay it first, the way you usually pay this "
        "network's invoices, or ask the network operator how; then you can make the change."
    ),
    "billing_not_offered": N_(
        "This plan is not offered with the billing option you picked. "
        "Pick one of the options shown."
    ),
}
