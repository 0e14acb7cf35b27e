"""`python -m prompteur.cli`: the same as the `prompteur` console script."""

from ._app import main

main()
