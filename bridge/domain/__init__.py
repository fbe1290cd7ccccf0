"""The billing rules of docs/billing-rules.md, pure: standard library only, no I/O, no clock.

Every instant is passed in as an aware UTC `datetime`. Money is integer minor units.
"""
