"""``python -m hearback.cli``: the ``hearback`` command."""

import sys

from .main import main

sys.exit(main())
