"""The `pbx` command: the operator's and the developer's way in.

One module per group of commands, each defined at module level and added to the
`pbx` group in `pbx.cli.main` (as Flask's own CLI does): `store` (db, demo),
`asterisk` (render, asterisk up|down|status, sync), `system` (controller, web, up,
down) and `features`. `main()` maps every refusal to one line and an exit code.
"""

from pbx.cli.main import cli, main

__all__ = ["cli", "main"]
