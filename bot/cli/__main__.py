"""`python -m bot.cli`: the `sis-maint` command."""

import sys

from bot.cli.main import main

sys.exit(main())
