"""RunPod entry point.

    python src/handler.py                  # runs test_input.json (RunPod's local test mode)
    python src/handler.py --rp_serve_api   # serves /run, /runsync, /status on localhost:8000

The code lives in the ``hearback`` package (src/hearback/worker.py).
"""

import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run from a checkout without install

from hearback.worker import start  # noqa: E402

if __name__ == "__main__":
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    start()
