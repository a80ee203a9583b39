"""The playground's web server: the page's three files, a WebSocket for training, export.

Routes
------
``GET /``, ``GET /static/style.css``, ``GET /static/app.js``
    The page, and nothing else: any other path is a 404 (no directory is served).
``GET /api/config``
    Defaults, limits, dataset and feature names.
``WebSocket /ws``
    One training session per connection. The server first sends
    ``{"type": "hello", "session": id, ...}``; the page then sends JSON messages

    - ``{"type": "configure", "settings": {...}}``: validate and apply settings (URL-style
      strings or JSON values); the reply is a frame with the points of the data;
    - ``{"type": "step", "epochs": n}``: train ``n`` epochs (1 to 100; a run trains at most
      ``LIMITS["max_epochs"]`` in all), reply with a frame;
    - ``{"type": "reset"}``: fresh weights, epoch 0, reply with a frame;
    - ``{"type": "frame"}``: reply with a frame.

    A bad message gets ``{"type": "error", "field": ..., "message": ...}`` and the session
    carries on; a message larger than :data:`MAX_MESSAGE_BYTES` instead ends the
    connection under :func:`main` (close code 1009, message too big). The first frame on a
    connection, and any frame after the data changed, carries the data points and the
    input feature maps. A connection that sends nothing for
    ``LIMITS["idle_timeout_seconds"]``, or leaves a reply unread that long, is closed, and
    its place freed.
``GET /api/export/{session}/model`` and ``GET /api/export/{session}/code``
    The trained model as an mlpzero model file, and a Python script that trains it.

Every route and the WebSocket answer only requests whose ``Host`` header names this
server: ``127.0.0.1``, ``localhost`` or ``[::1]`` (or the host it was started on) with the
port it serves on. Anything else gets ``421 Misdirected Request``, so a page on another
site whose name resolves to 127.0.0.1 (DNS rebinding) cannot use the playground.

:func:`main` runs the app with uvicorn on 127.0.0.1 unless told otherwise; told
``localhost``, on both loopback addresses, 127.0.0.1 and ::1, for a browser may resolve
the name to either.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import json
import logging
import math
import re
import secrets
import socket
import sys
import threading
import webbrowser
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import anyio
import numpy as np

try:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the playground needs its web server: pip install 'mlpzero[playground]'"
    ) from error

from .data import CLASSIFICATION, DATASETS, FEATURE_LABELS, REGRESSION, make_dataset
from .session import Session
from .settings import LIMITS, Settings, SettingsError, parse_settings

__all__ = [
    "LOOPBACK_NAMES",
    "MAX_MESSAGE_BYTES",
    "MAX_SESSIONS",
    "SHUTDOWN_SECONDS",
    "create_app",
    "main",
]

logger = logging.getLogger(__name__)

#: At most this many pages train at once; a further connection is refused.
MAX_SESSIONS = 8
#: The largest message the page may send (:func:`main` closes a connection on a larger one).
MAX_MESSAGE_BYTES = 64 * 1024
#: Seconds that Ctrl+C waits for open connections before ending them.
SHUTDOWN_SECONDS = 3
#: The names the server answers to, whatever address it listens on.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

_PAGE_FILES = {
    "index.html": "text/html; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
}


def _static(name: str) -> bytes:
    return resources.files("mlpzero.playground").joinpath("static", name).read_bytes()


def _json_safe(value: Any) -> Any:
    """Replace NaN and infinities (a diverged run) by ``None``: JSON has no such numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _dumps(message: dict[str, Any]) -> str:
    try:
        return json.dumps(message, allow_nan=False)
    except ValueError:
        return json.dumps(_json_safe(message), allow_nan=False)


def _error(field: str, message: str) -> dict[str, Any]:
    return {"type": "error", "field": field, "message": message}


class _Registry:
    """The live sessions, by id."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()

    def open(self) -> tuple[str, Session] | None:
        with self.lock:
            if len(self.sessions) >= self.limit:
                return None
            session_id = secrets.token_urlsafe(12)
            session = self.sessions[session_id] = Session()
            return session_id, session

    def close(self, session_id: str) -> None:
        with self.lock:
            self.sessions.pop(session_id, None)

    def get(self, session_id: str) -> Session | None:
        with self.lock:
            return self.sessions.get(session_id)


def _previews() -> dict[str, list[list[float]]]:
    """A small sample of every dataset, for the page's dataset buttons."""
    return {
        name: np.round(np.column_stack(make_dataset(name, 120, noise=0, seed=0)), 2).tolist()
        for name in DATASETS
    }


_PREVIEWS = _previews()


def _config(idle_timeout: float) -> dict[str, Any]:
    """What the page needs to know: ``idle_timeout`` is the one in force, which
    :func:`create_app` may have set apart from ``LIMITS``."""
    return {
        "defaults": Settings().as_dict(),
        "limits": {**LIMITS, "idle_timeout_seconds": idle_timeout},
        "datasets": {"classification": list(CLASSIFICATION), "regression": list(REGRESSION)},
        "features": FEATURE_LABELS,
        "previews": _PREVIEWS,
    }


_HOST_HEADER = re.compile(r"(\[[0-9a-f:.]+\]|[^\[\]:]+)(?::([0-9]{1,5}))?")
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def _host_name(host: str) -> str:
    """``host`` as it appears in a ``Host`` header: lower case, IPv6 in brackets."""
    host = host.strip().lower()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class _HostCheck:
    """ASGI middleware: refuse any request whose ``Host`` is not ``name:port`` for one of
    ``names`` and the port the request came in on (DNS rebinding protection)."""

    def __init__(self, app: Any, names: tuple[str, ...]) -> None:
        self.app = app
        self.names = names

    def refusal(self, scope: dict[str, Any]) -> str | None:
        """Why the request is refused, or None when its ``Host`` names this server."""
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        server = scope.get("server")
        port = None if server is None else server[1]
        match = _HOST_HEADER.fullmatch(host.lower())
        if match is not None and port is not None:
            default = _DEFAULT_PORTS.get(scope.get("scheme", "http"))
            asked = int(match[2]) if match[2] is not None else default
            if match[1] in self.names and asked == port:
                return None
        allowed = ", ".join(f"{name}:{port}" for name in self.names)
        return f"this server answers only to {allowed}; the request was for the host {host!r}"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        logger.warning("refused a request: %s", refusal)
        response = JSONResponse({"error": refusal}, status_code=421)
        if scope["type"] == "websocket" and "websocket.http.response" not in scope.get(
            "extensions", {}
        ):
            await send({"type": "websocket.close", "code": 1008, "reason": ""})  # HTTP 403
            return
        await response(scope, receive, send)


def _same_origin(websocket: WebSocket) -> bool:
    """Refuse WebSockets opened by pages from other sites (browsers send ``Origin``)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:  # no URL (an unclosed IPv6 bracket): no page of this server's
        return False
    return netloc == websocket.headers.get("host")


def create_app(
    max_sessions: int = MAX_SESSIONS,
    *,
    host: str | None = None,
    idle_timeout: float | None = None,
) -> Starlette:
    """The playground as an ASGI app.

    Parameters
    ----------
    max_sessions:
        How many pages may train at once, at least 1.
    host:
        A name or address the server answers to besides :data:`LOOPBACK_NAMES` (the
        ``--host`` it was started with).
    idle_timeout:
        Seconds without a message after which a page is disconnected; default
        ``LIMITS["idle_timeout_seconds"]``.
    """
    if isinstance(max_sessions, bool) or not isinstance(max_sessions, int) or max_sessions < 1:
        raise ValueError(f"max_sessions must be an integer >= 1, got {max_sessions!r}")
    if idle_timeout is None:
        idle_timeout = LIMITS["idle_timeout_seconds"]
    if (
        isinstance(idle_timeout, bool)
        or not isinstance(idle_timeout, (int, float))
        or not idle_timeout > 0
        or not math.isfinite(idle_timeout)
    ):
        raise ValueError(f"idle_timeout must be a positive number of seconds, got {idle_timeout!r}")
    if host is not None and (not isinstance(host, str) or not host.strip()):
        raise ValueError(f"host must name the server, such as 192.168.1.5, got {host!r}")
    names = LOOPBACK_NAMES
    if host is not None and _host_name(host) not in names:
        names = (*names, _host_name(host))
    registry = _Registry(max_sessions)

    async def page(request: Request) -> Response:
        name = request.path_params.get("name", "index.html")
        if name not in _PAGE_FILES:
            return JSONResponse({"error": f"no such file: {name!r}"}, status_code=404)
        headers = {
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            # No other site may frame the page: framed, it is same-origin, so it would
            # take places for that site and could be hidden under its buttons.
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "frame-ancestors 'none'",
        }
        return Response(_static(name), media_type=_PAGE_FILES[name], headers=headers)

    async def config(request: Request) -> Response:
        return JSONResponse(_config(idle_timeout))

    async def export(request: Request) -> Response:
        session = registry.get(request.path_params["session"])
        kind = request.path_params["kind"]
        if session is None:
            return JSONResponse({"error": "unknown or closed session"}, status_code=404)
        try:
            if kind == "model":
                content, filename = await run_in_threadpool(session.export_model)
                media_type = "application/octet-stream"
            elif kind == "code":
                content = (await run_in_threadpool(session.export_code)).encode()
                filename, media_type = "train_playground_model.py", "text/x-python"
            else:
                return JSONResponse({"error": f"no such export: {kind!r}"}, status_code=404)
        except SettingsError as error:
            return JSONResponse({"error": str(error), "field": error.field}, status_code=409)
        disposition = f'attachment; filename="{filename}"'
        return Response(
            content, media_type=media_type, headers={"Content-Disposition": disposition}
        )

    async def socket(websocket: WebSocket) -> None:
        if not _same_origin(websocket):
            await websocket.close(code=1008, reason="cross-origin connection refused")
            return
        await websocket.accept()
        opened = registry.open()
        if opened is None:
            refusal = f"too many open pages (at most {max_sessions})"
            await websocket.send_text(_dumps(_error("session", refusal)))
            # The page shows a close's reason; without one it says to restart the command.
            await websocket.close(code=1013, reason=refusal)
            return
        session_id, session = opened
        has_data = False  # whether this page got the data points yet

        async def deliver(message: dict[str, Any]) -> bool:
            """Send ``message``; False when the page took nothing for ``idle_timeout``
            (it stopped reading: waiting on would keep its place for good)."""
            with anyio.move_on_after(idle_timeout) as waiting:
                await websocket.send_text(_dumps(message))
            return not waiting.cancelled_caught

        try:
            if not await deliver({"type": "hello", "session": session_id, **_config(idle_timeout)}):
                return
            while True:
                message = None
                with anyio.move_on_after(idle_timeout):
                    message = await websocket.receive()
                if message is None:
                    reason = f"idle for {idle_timeout:g} s, so closed: reload the page to go on"
                    await websocket.close(code=1000, reason=reason)
                    break
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    reply = _error("message", "expected a text message holding JSON")
                else:
                    reply = await run_in_threadpool(_handle, session, text, not has_data)
                    has_data = has_data or "data" in reply
                if not await deliver(reply):
                    break
        except WebSocketDisconnect:
            pass
        except asyncio.CancelledError:
            # The server stopping (Ctrl+C) gave up waiting for this page to read a
            # reply: the connection ends here, which is no error of the page's.
            return
        finally:
            registry.close(session_id)

    routes = [
        Route("/", page),
        Route("/static/{name:path}", page),
        Route("/api/config", config),
        Route("/api/export/{session}/{kind}", export),
        WebSocketRoute("/ws", socket),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(_HostCheck, names=names)])
    app.state.registry = registry
    return app


def _handle(session: Session, text: str, needs_data: bool = False) -> dict[str, Any]:
    """Answer one message from the page (runs in a worker thread).

    ``needs_data``: the page has no data points yet, so the frame must carry them.
    """
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        return _error("message", f"message larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        return _error("message", "expected a JSON object")
    except ValueError:  # valid JSON, but an integer longer than Python converts
        return _error("message", "a number in the message has too many digits")
    except RecursionError:
        return _error("message", "expected a JSON object: this one is nested too deeply")
    if not isinstance(message, dict):
        return _error("message", f"expected a JSON object, got {type(message).__name__}")
    kind = message.get("type")
    try:
        with np.errstate(all="ignore"):  # a diverging run is a result to show, not an error
            if kind == "configure":
                restarted = session.configure(parse_settings(message.get("settings")))
                return session.frame(include_data=restarted or needs_data)
            if kind == "step":
                session.step(message.get("epochs", 1))
                return session.frame(include_data=needs_data)
            if kind == "reset":
                session.reset()
                return session.frame(include_data=needs_data)
            if kind == "frame":
                return session.frame(include_data=True)
    except SettingsError as error:
        return _error(error.field, str(error))
    except Exception as error:  # never let one request end the session
        logger.exception("playground request failed: %s", text[:200])
        return _error("server", f"the request failed: {type(error).__name__}: {error}")
    return _error("type", f"expected configure, step, reset or frame, got {kind!r}")


def main(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True) -> None:
    """Serve the playground on ``http://host:port/`` until interrupted (``port`` 0: a free
    port, whose number the printed address shows). ``localhost`` is served on 127.0.0.1
    and ::1 alike (:func:`_bind`)."""
    import uvicorn

    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer from 0 to 65535, got {port!r}")
    given = host
    if isinstance(host, str) and host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 address as a URL writes it
    if not isinstance(host, str) or not host.strip():
        # An empty address would listen on every network interface.
        raise ValueError(f"host must name an address such as 127.0.0.1, got {given!r}")
    if host.lower() == "localhost":  # a host name in any case
        host = "localhost"
    both = host == "localhost"  # the name, not one address: serve both, 127.0.0.1 first
    config = uvicorn.Config(
        create_app(host=host),
        host="127.0.0.1" if both else host,
        port=port,
        log_level="warning",
        ws_max_size=MAX_MESSAGE_BYTES,
        # Ctrl+C waits this long for the pages' connections to close, then ends them: a
        # client that stopped reading would otherwise keep the command running.
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )
    # Listen before showing the address: port 0 then has its number, a port in use ends
    # the command here rather than after a browser was sent to whatever holds it, and a
    # request that comes at once waits for the server rather than being refused.
    sockets = _bind(config, both)
    for listening in sockets:
        listening.listen(config.backlog)
    port = sockets[0].getsockname()[1]
    # Not localhost for ::1: where the name means 127.0.0.1 alone it would lead nowhere.
    url = f"http://{'localhost' if host == '127.0.0.1' else _host_name(host)}:{port}/"
    if not _is_loopback(host):
        print(f"warning: serving on {host}, reachable beyond this machine", file=sys.stderr)
    print(f"mlpzero playground: {url}  (Ctrl+C to stop)", flush=True)
    opener = threading.Timer(1.0, webbrowser.open, args=(url,))
    if open_browser:
        opener.start()
    # uvicorn.run took Ctrl+C as the normal end; Server.run lets its KeyboardInterrupt out.
    try:
        uvicorn.Server(config).run(sockets=sockets)
    except KeyboardInterrupt:
        pass
    finally:
        opener.cancel()  # stopped within the second: no browser for a server that is gone
        for listening in sockets:
            listening.close()


def _is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address (any 127.x.x.x, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may lead anywhere
        return False


#: Ports drawn for ``localhost`` on port 0 before giving up: each draw is free on
#: 127.0.0.1 and, but for a rare chance, on ::1 too.
_PORT_DRAWS = 8


def _bind(config: Any, both: bool) -> list[socket.socket]:
    """The server's listening sockets: ``config``'s address, and with ``both`` the IPv6
    loopback address ``::1`` on the same port too, so that ``localhost`` is served
    whichever of its addresses a browser tries (127.0.0.1 alone where this machine has
    no IPv6). A port 0 that another program holds on ::1 is drawn again; an address
    that cannot be listened on (a port asked for that is taken, a name that does not
    resolve) raises :class:`OSError` naming it."""
    for _ in range(_PORT_DRAWS):
        first = _listening_socket(config.host, config.port)
        if not both:
            return [first]
        port = first.getsockname()[1]
        try:
            second = _ipv6_loopback(port)
        except OSError as error:
            first.close()
            if config.port != 0:
                message = f"cannot listen on [::1]:{port}: {error.strerror}"
                raise OSError(error.errno, message) from None
            continue
        return [first] if second is None else [first, second]
    raise OSError(errno.EADDRINUSE, f"no port was free on 127.0.0.1 and ::1 in {_PORT_DRAWS} tries")


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` as uvicorn binds one (IPv6 for an address with a
    colon), but failing with :class:`OSError` rather than ending the process, so that
    the command reports it as it reports any error."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        message = f"cannot listen on {_host_name(host)}:{port}: {error.strerror or error}"
        raise OSError(error.errno, message) from None
    sock.set_inheritable(True)
    return sock


def _ipv6_loopback(port: int) -> socket.socket | None:
    """A socket bound to ``[::1]:port``, or None where this machine has no IPv6 loopback
    address; :class:`OSError` when the port is taken there."""
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:  # IPv6 is off
        return None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's socket
        sock.bind(("::1", port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise
        return None  # no ::1 to bind: localhost cannot lead there either
    return sock


if __name__ == "__main__":
    main()
