"""The checkout's pages, one module per step, all on the one `checkout` blueprint:

- start.py      the plugin's token becomes a session (`/checkout/start`)
- change.py     the Change page and its summary fragment
- choice.py     the owner's choice and its order summary (shared by change and confirm)
- confirm.py    commit, then Pending (invoice to pay) or Finish (waiting for the new limits)
- pay.py        paying an invoice by card (gateway stripe), with Stripe.js
- scheduled.py  the scheduled change and its cancellation
- receipt.py    a receipt or credit note, opened with the plugin's receipt token
- billing.py    the owner's billing address for receipts (asked once beside Confirm)
- plumbing.py   what they share: blueprint, session and CSRF, core, habits, problem pages

Importing this package registers every route on the blueprint.
"""

from __future__ import annotations

from bridge.api.checkout.pages import billing, change, confirm, pay, receipt, scheduled, start
from bridge.api.checkout.pages.plumbing import blueprint, load_session

__all__ = [
    "billing",
    "blueprint",
    "change",
    "confirm",
    "load_session",
    "pay",
    "receipt",
    "scheduled",
    "start",
]
