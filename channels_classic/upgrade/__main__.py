"""``python -m channels_classic.upgrade``: see ``channels_classic.upgrade.command``."""

import sys

from .command import main

sys.exit(main())
