"""``python -m astra.cli``."""

from astra.cli import main

main()
