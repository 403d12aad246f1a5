"""``SimServer``: the simulated provider on 127.0.0.1, in a background thread or in your loop.

The thread has its own event loop, so a client measuring in the notebook's loop never shares
a loop (or its scheduling delays) with the server it measures.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from benchwork.sim.app import SimApp
from benchwork.sim.models import DEMO_MODELS, SimModel

__all__ = ["HOST", "SimServer"]

HOST = "127.0.0.1"  # the simulator never binds any other address
_SHUTDOWN_TIMEOUT_S = 0.25


class SimServer:
    """An OpenAI-compatible (and Anthropic Messages) streaming server with simulated models.

    ``answers`` maps the last user message of a request to its right answer (or to a tool answer
    ``{"tool_calls": [...], "final": ...}``, see ``benchwork.sim.tools``); ``port=0`` picks a
    free port; with ``require_api_key`` a request must carry ``Authorization: Bearer <key>`` (or
    ``x-api-key``). Use ``start()``/``stop()``, ``with SimServer(...) as sim:``, or, inside a
    running loop that should host the server itself, ``await astart()``/``await astop()``.
    """

    def __init__(
        self,
        models: Iterable[SimModel] = DEMO_MODELS,
        answers: dict[str, Any] | None = None,
        port: int = 0,
        require_api_key: str | None = None,
        log_limit: int | None = 100_000,
    ) -> None:
        self._app = SimApp(models, answers, require_api_key, log_limit)
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- addresses and state
    @property
    def models(self) -> list[SimModel]:
        """The served model profiles."""
        return list(self._app.models.values())

    @property
    def port(self) -> int:
        """The bound port (the requested one before the server starts)."""
        return self._port if self._port is not None else self._requested_port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the root, e.g. for litellm's anthropic route."""
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the base URL an OpenAI client wants."""
        return f"{self.url}/v1"

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._runner is not None

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the request log (no headers, no keys), oldest first."""
        return self._app.requests

    def reset_log(self) -> None:
        """Forget logged requests; numbering restarts at 1."""
        self._app.reset_log()

    def set_answers(self, answers: dict[str, Any]) -> None:
        """Replace the prompt → expected answer map (values may be tool answers), also while running."""
        self._app.set_answers(answers)

    def __repr__(self) -> str:
        state = f"on {self.base_url}" if self.running else "stopped"
        return f"<SimServer {len(self._app.models)} models {state}>"

    # ----------------------------------------------------------------- in the current loop
    async def astart(self) -> SimServer:
        """Start serving on the running event loop; returns once listening."""
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        self._app.closing = asyncio.Event()
        runner = web.AppRunner(
            self._app.build(),
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,  # a client that leaves cancels its (e.g. hanging) handler
            shutdown_timeout=_SHUTDOWN_TIMEOUT_S,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, HOST, self._requested_port, reuse_address=True)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._runner = runner
        return self

    async def astop(self) -> None:
        """Stop serving: hanging requests end, streams are cut after a short grace period."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # ----------------------------------------------------------------- in a background thread
    def start(self) -> SimServer:
        """Serve on a daemon thread with its own event loop; returns once listening."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.astart())
            except BaseException as e:
                failure.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.astop())
                loop.close()

        thread = threading.Thread(target=run, name="benchwork-sim", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise failure[0]
        self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        """Stop the background server and wait for its thread (a no-op when not started)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
