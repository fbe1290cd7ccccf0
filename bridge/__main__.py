"""`python -m bridge ...`: the `bridge` command, run from wherever `bridge` is imported."""

from bridge.cli import main

main()
