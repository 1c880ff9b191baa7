"""The ``hearback`` command: ``transcribe`` files (:mod:`~hearback.cli.main`), ``serve`` the HTTP
API, manage the voice library (:mod:`~hearback.cli.speakers`), list ``models`` and check a
deployment (``doctor``, :mod:`~hearback.cli.doctor`). May import anything in the package, each
subcommand's heavy parts only when it runs; nothing imports it.
"""

from .main import main

__all__ = ["main"]
