"""``python -m snellen`` is the ``snellen`` command."""

import sys

from snellen.cli import main

sys.exit(main())
