"""python -m replybench: the command line."""

from replybench.cli import main

main()
