"""`python -m pbx.cli ...`: how `pbx up` starts its background processes, and how tests run the command."""

from pbx.cli.main import main

main()
