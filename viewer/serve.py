"""Serving the viewer: uvicorn in the browser mode, or behind a pywebview desktop window.

``serve`` binds the listening socket itself before anything else, so a busy port is reported
at once (``port_busy``) and there is no gap between checking and listening.
"""
from __future__ import annotations

import errno
import logging
import os
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import uvicorn

from catalog import messages
from catalog.errors import UserError

from .app import SITE_NAME

log = logging.getLogger("libpush.viewer")


def _ensure_logging() -> None:
    """Show the viewer's own log lines (index rebuild) when the caller configured nothing."""
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr) if sys.stderr else logging.NullHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or ``UserError('port_busy')`` when it is taken."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise UserError("bind_failed", host=host, port=port, error=e.strerror or e) from e
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name == "nt":
            # Windows: SO_REUSEADDR would let us share a port someone else listens on.
            if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:
            # POSIX: as uvicorn does; a port in TIME_WAIT is free, one being listened on is not.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and hasattr(socket, "IPV6_V6ONLY"):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        busy = e.errno == errno.EADDRINUSE or getattr(e, "winerror", None) in (10048, 10013)
        if busy:
            raise UserError("port_busy", host=host, port=port) from e
        raise UserError("bind_failed", host=host, port=port, error=e.strerror or e) from e
    sock.set_inheritable(True)
    return sock


def url_for(host: str, sock: socket.socket) -> str:
    """The address to open: the wildcard hosts become the loopback address."""
    port = sock.getsockname()[1]
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


class _Server(uvicorn.Server):
    """uvicorn.Server that says when it is listening."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None] | None = None):
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_started is not None:
            self._on_started()


def _config(app) -> uvicorn.Config:
    # Access logs would be one line per video Range request; graceful shutdown must not wait
    # for readers in the middle of a film.
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                          timeout_graceful_shutdown=2)


@dataclass
class BackgroundServer:
    """A viewer running in a thread of this process (the desktop window, tests)."""
    url: str
    server: _Server
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def wait(self) -> None:
        """Until the server stops; Ctrl-C stops it."""
        try:
            while self.thread.is_alive():
                self.thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()


def _start_thread(app, sock: socket.socket, url: str,
                  on_ready: Callable[[str], None] | None = None) -> BackgroundServer:
    ready = threading.Event()
    server = _Server(_config(app), on_started=ready.set)
    errors: list[BaseException] = []

    def run():
        try:
            server.run(sockets=[sock])
        except BaseException as e:  # noqa: BLE001 - reported to the starting thread
            errors.append(e)
            ready.set()

    thread = threading.Thread(target=run, name="libpush-viewer", daemon=True)
    thread.start()
    while not ready.wait(0.2):
        if not thread.is_alive():
            break
    if errors or not server.started:
        sock.close()
        raise RuntimeError(f"the viewer did not start: {errors[0] if errors else 'unknown'}")
    if on_ready is not None:
        on_ready(url)
    return BackgroundServer(url=url, server=server, thread=thread)


def start_in_thread(target: Path, host: str = "127.0.0.1", port: int = 0,
                    on_ready: Callable[[str], None] | None = None) -> BackgroundServer:
    """Serve ``target`` from a background thread; returns once it answers. ``port=0`` takes a
    free port (see ``.url``)."""
    app, sock = _listen(target, host, port)
    return _start_thread(app, sock, url_for(host, sock), on_ready)


def _listen(target: Path, host: str, port: int):
    """(app, listening socket): the port is taken before the app is built (which may rebuild a
    stale search index), so a busy port is reported before any work."""
    from .app import create_app

    target = Path(target)
    if not (target / "catalog.db").is_file():
        raise UserError("target_not_library", path=str(target))
    sock = bind(host, port)
    try:
        return create_app(target), sock
    except BaseException:
        sock.close()
        raise


class _QuietBackendProbe(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().endswith("cannot be loaded")


def _no_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _say(code: str, **values) -> None:
    if sys.stderr is None:  # windowed build without a console
        return
    print(messages.text(code, **values), file=sys.stderr)
    hint = messages.hint(code, **values)
    if hint:
        print(hint, file=sys.stderr)
    sys.stderr.flush()


def serve(target: Path, host: str = "127.0.0.1", port: int = 8080, window: bool = False,
          on_ready: Callable[[str], None] | None = None) -> None:
    """Serve the installed library at ``target`` until Ctrl-C (or until the window closes).

    ``on_ready(url)`` is called once the server listens. With ``window=True`` the library opens
    in a pywebview window; without a display or a window backend, a message says so and the
    library is served for browsers instead.
    """
    _ensure_logging()
    app, sock = _listen(target, host, port)
    url = url_for(host, sock)

    if not window:
        server = _Server(_config(app), on_started=(lambda: on_ready(url)) if on_ready else None)
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled
            pass
        finally:
            sock.close()
        return

    background = _start_thread(app, sock, url, on_ready)
    try:
        if _no_display():
            _say("no_display", url=url)
            background.wait()
            return
        try:
            import webview  # pywebview

            # pywebview logs a traceback for every toolkit it fails to load; one clear
            # message (no_window_backend) says it better.
            logging.getLogger("pywebview").addFilter(_QuietBackendProbe())
            webview.create_window(SITE_NAME, url)
            webview.start()
        except KeyboardInterrupt:
            return
        except Exception as e:  # noqa: BLE001 - no GUI toolkit, no WebView2, broken GTK …
            _say("no_window_backend", url=url, error=str(e).strip().rstrip("。.") or type(e).__name__)
            background.wait()
            return
    finally:
        background.stop()
        sock.close()
