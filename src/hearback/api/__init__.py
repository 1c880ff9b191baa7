"""HTTP API: an OpenAI-compatible transcription endpoint and durable jobs on your own machine.

    hearback serve [--host H] [--port P]     (or: uvicorn --factory hearback.api:create_app)

One module per concern: ``app`` builds the app (models on ``app.state``, one error shape),
``transcriptions`` is the OpenAI-compatible surface, ``jobs`` the async jobs, ``openai_format``
shapes OpenAI's response formats, ``deps`` hands routes what they need, ``uploads`` saves
request bodies. A new route is one function in one router module. May import anything in the
package but the CLI; jobs' work runs in :mod:`hearback.jobs`, not in the routers.
"""

from .app import create_app, serve
from .settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "serve"]
