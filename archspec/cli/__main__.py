"""`python -m archspec.cli`: the same as the `archspec` console script."""

from archspec.cli import main

main()
