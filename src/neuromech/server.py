"""``neuromech serve``: the built graph behind a real SPARQL server (the Oxigraph server).

Layout: the Oxigraph server (the ``oxigraph`` CLI from PyPI) runs on a private loopback port
over an on-disk store loaded with the build (asserted triples in ``nm:graph/asserted``,
inferred ones in ``nm:graph/inferred``, queried as their union). In front of it a small proxy
listens on ``--bind``/``--port`` (127.0.0.1:7878 by default) and

- cuts off any request still unanswered after the time limit (default 30 s) with an HTTP 504
  and a clear message, then restarts the Oxigraph process so the runaway query stops using
  CPU (Oxigraph's own ``--timeout-s`` is passed too, but measured in 0.5.13 it does not stop
  a long aggregate or join);
- refuses SPARQL updates and Graph Store writes with HTTP 403 unless started writable (the
  Oxigraph process itself then runs ``serve-read-only``).

Everything else (the query UI at ``/``, ``/query``, ``/store``) is Oxigraph's own.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import logging
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from neuromech.errors import NeuroMechError, UsageError
from neuromech.namespaces import INFERRED_GRAPH
from neuromech.publish import build_nquads, read_build
from neuromech.remote_store import ASSERTED_GRAPH

log = logging.getLogger(__name__)

DEFAULT_BIND = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT_S = 30.0
_READY_TIMEOUT_S = 60.0
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "content-length",
    }
)


class ServerError(NeuroMechError):
    """The SPARQL server could not be started."""

    exit_code = 69


def oxigraph_binary() -> str:
    """Return the path of the ``oxigraph`` server CLI (installed from PyPI beside this Python).

    Raises:
        ServerError: when it is not installed.
    """
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file():
        return str(beside)
    found = shutil.which("oxigraph")
    if found:
        return found
    raise ServerError("the `oxigraph` server is not installed; run `pip install oxigraph` (or `make setup`)")


def free_port(bind: str = DEFAULT_BIND) -> int:
    """Return a TCP port that is free on ``bind`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((bind, 0))
        return int(sock.getsockname()[1])


def check_port(bind: str, port: int) -> None:
    """Check that ``bind:port`` can be listened on.

    Raises:
        UsageError: naming the port when it is taken or the address is not local.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as the HTTP servers bind: a port whose last connections linger in TIME_WAIT is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((bind, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"port {port} on {bind} is already in use (another server?); choose another with --port"
                ) from err
            raise UsageError(f"cannot listen on {bind}:{port}: {err.strerror}") from err


def load_location(dist_dir: Path, location: Path) -> dict[str, int]:
    """Load the build in ``dist_dir`` into a new Oxigraph store at ``location``.

    Returns:
        The number of triples loaded per named graph.
    """
    graphs = read_build(dist_dir)
    location.mkdir(parents=True, exist_ok=True)
    data = location.parent / f"{location.name}.load.nq"
    data.write_bytes(build_nquads(graphs))
    try:
        done = subprocess.run(
            [oxigraph_binary(), "load", "--location", str(location), "--file", str(data)],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        data.unlink(missing_ok=True)
    if done.returncode != 0:
        raise ServerError(f"oxigraph load failed: {done.stderr.strip()[-500:]}")
    return {str(ASSERTED_GRAPH): graphs.asserted_count, str(INFERRED_GRAPH): graphs.inferred_count}


class OxigraphProcess:
    """One Oxigraph server process on a private loopback port (started, restarted, stopped)."""

    def __init__(self, location: Path, writable: bool, timeout: float) -> None:
        """Describe the process; :meth:`start` runs it."""
        self.location = location
        self.writable = writable
        self.timeout = timeout
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = location.parent / f"{location.name}.server.log"

    def start(self) -> None:
        """Start the server and wait until it answers.

        Raises:
            ServerError: when the process exits or does not answer in time.
        """
        self.port = free_port("127.0.0.1")
        command = [
            oxigraph_binary(),
            "serve" if self.writable else "serve-read-only",
            "--location",
            str(self.location),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--union-default-graph",
            "--timeout-s",
            str(max(1, int(self.timeout))),
        ]
        with self._log.open("wb") as log_file:
            # a session of its own: Ctrl-C in the terminal reaches us, and we stop it cleanly
            self._process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                output = self._log.read_text(encoding="utf-8", errors="replace").strip()[-500:]
                raise ServerError(f"the oxigraph server exited at start (code {self._process.returncode}): {output}")
            try:
                with urllib.request.urlopen(f"{self.url}/query?query=ASK%7B%7D", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise ServerError(f"the oxigraph server did not answer within {_READY_TIMEOUT_S:g} s")

    @property
    def url(self) -> str:
        """Base URL of the process."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 5 s)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], backend: OxigraphProcess, timeout: float) -> None:
        self.backend = backend
        self.query_timeout = timeout
        self.restart_lock = threading.Lock()
        super().__init__(address, _ProxyHandler)

    def restart_backend(self) -> None:
        with self.restart_lock:
            log.warning("restarting the oxigraph server to stop a query over the time limit")
            self.backend.stop()
            self.backend.start()


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _Proxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _is_write(self) -> bool:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.endswith("/update"):
            return True
        return path.endswith("/store") and self.command in ("PUT", "POST", "DELETE")

    def _reply(self, status: int, message: str) -> None:
        body = (message + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self._is_write() and not self.server.backend.writable:
            self._reply(
                403, "this SPARQL server is read-only; start it with `neuromech serve --writable` to accept updates"
            )
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP and k.lower() != "host"}
        timeout = self.server.query_timeout
        with self.server.restart_lock:  # wait while a runaway query's server is being restarted
            pass
        connection = http.client.HTTPConnection("127.0.0.1", self.server.backend.port, timeout=timeout)
        started = time.monotonic()
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError:
            connection.close()
            self.server.restart_backend()  # before answering, so the client's next request is served
            self._reply(
                504,
                f"query cut off: no answer within the server's time limit of {timeout:g} s "
                "(`neuromech serve --timeout`); narrow the query or add a LIMIT",
            )
            return
        except OSError as err:
            self._reply(502, f"the SPARQL server behind this proxy is not answering ({err}); try again")
            return
        finally:
            connection.close()
        log.debug("%s %s answered in %.3f s", self.command, self.path, time.monotonic() - started)
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward  # noqa: N815 -- http.server's naming


@dataclass
class RunningServer:
    """A started ``neuromech serve``: its URLs and what it holds."""

    bind: str
    port: int
    writable: bool
    timeout: float
    graphs: dict[str, int]

    @property
    def url(self) -> str:
        """Base URL (the query UI)."""
        return f"http://{self.bind}:{self.port}"

    @property
    def query_url(self) -> str:
        """SPARQL query endpoint."""
        return f"{self.url}/query"

    @property
    def store_url(self) -> str:
        """Graph Store Protocol endpoint."""
        return f"{self.url}/store"


@contextlib.contextmanager
def running(
    dist_dir: Path | None,
    *,
    bind: str = DEFAULT_BIND,
    port: int = DEFAULT_PORT,
    writable: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    location: Path | None = None,
) -> Iterator[RunningServer]:
    """Run the server for the duration of a ``with`` block; stop it and clean up afterwards.

    Args:
        dist_dir: build to load (``None``: start empty, which only makes sense writable).
        bind: address to listen on (loopback by default).
        port: port to listen on (``0``: any free port).
        writable: accept SPARQL updates and Graph Store writes.
        timeout: seconds after which a request is cut off.
        location: keep the Oxigraph store in this folder (default: a temporary one, deleted).

    Raises:
        UsageError: the port is taken or the build is missing.
        ServerError: the Oxigraph server does not start.
    """
    if timeout <= 0:
        raise UsageError("--timeout must be positive")
    if port:
        check_port(bind, port)
    owned = location is None
    folder = Path(tempfile.mkdtemp(prefix="neuromech-serve-")) if owned else location
    assert folder is not None
    database = folder / "store"
    try:
        if dist_dir is None:
            if not writable:
                raise UsageError("an empty server is only useful writable")
            database.mkdir(parents=True, exist_ok=True)
            graphs: dict[str, int] = {}
        else:
            graphs = load_location(dist_dir, database)
        backend = OxigraphProcess(database, writable, timeout)
        backend.start()
        try:
            try:
                proxy = _Proxy((bind, port), backend, timeout)
            except OSError as err:
                raise UsageError(f"cannot listen on {bind}:{port}: {err.strerror}; choose another --port") from err
            thread = threading.Thread(target=proxy.serve_forever, name="neuromech-serve", daemon=True)
            thread.start()
            try:
                yield RunningServer(bind, int(proxy.server_address[1]), writable, timeout, graphs)
            finally:
                proxy.shutdown()
                proxy.server_close()
                thread.join(5)
        finally:
            backend.stop()
    finally:
        if owned:
            shutil.rmtree(folder, ignore_errors=True)


class _Stop(Exception):
    """Raised by the signal handler to leave a serving loop."""


@contextlib.contextmanager
def stop_on_signal() -> Iterator[None]:
    """Turn SIGINT (Ctrl-C) and SIGTERM into a clean exit from the ``with`` block.

    Install it before starting anything, so a signal during start-up also cleans up.
    """

    def stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001 -- signal handler signature
        raise _Stop

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except (_Stop, KeyboardInterrupt):
        log.info("stopping")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def wait_forever() -> None:
    """Sleep until a signal ends the process's serving loop."""
    while True:
        time.sleep(3600)


def serve(
    dist_dir: Path,
    *,
    bind: str = DEFAULT_BIND,
    port: int = DEFAULT_PORT,
    writable: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    location: Path | None = None,
    on_ready: Callable[[RunningServer], None] | None = None,
) -> None:
    """Serve the build until SIGINT (Ctrl-C) or SIGTERM, then stop everything it started.

    ``on_ready`` is called once the server answers (the CLI prints the URLs there).
    """
    with (
        stop_on_signal(),
        running(dist_dir, bind=bind, port=port, writable=writable, timeout=timeout, location=location) as server,
    ):
        if on_ready is not None:
            on_ready(server)
        wait_forever()
