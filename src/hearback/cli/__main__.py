"""``python -m hearback.cli``: the ``hearback`` command."""

import sys

from .main import main

if __name__ == "__main__":  # not when a spawned process (the server's export workers) imports it
    sys.exit(main())
