"""One window per database on a host: a second launch raises the first and exits.

The first instance listens on a local socket whose name is derived from the database
URL and the OS user; a second launch on the same database connects, sends "raise" and
leaves. Two users, or two databases, never meet. A socket file left behind by a
crashed instance is removed before listening again.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

RAISE = b"raise\n"
CONNECT_TIMEOUT_MS = 500
WRITE_TIMEOUT_MS = 1000


def normalised_url(db_url: str) -> str:
    """One spelling per database: the same SQLite file, however it was named."""
    url = db_url.strip()
    if url.startswith("sqlite:///"):
        return "sqlite:///" + os.path.realpath(os.path.expanduser(url[len("sqlite:///") :]))
    if "://" not in url:
        return "sqlite:///" + os.path.realpath(os.path.expanduser(url))
    return url


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def server_name(db_url: str, user: str | None = None) -> str:
    """The local socket name for `db_url` and `user` (default: the OS user)."""
    key = f"{user or _os_user()}\n{normalised_url(db_url)}".encode()
    return "sophmate-desktop-" + hashlib.sha256(key).hexdigest()[:24]


class SingleInstance(QObject):
    raise_requested = Signal()

    def __init__(self, db_url: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_url = db_url
        self.name = server_name(db_url)
        self._server: QLocalServer | None = None

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def ask_running_instance_to_raise(self) -> bool:
        """True when another instance on this database answered and was asked to raise."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            return False  # nobody listens, or a stale socket file: we are the first
        socket.write(RAISE)
        delivered = socket.waitForBytesWritten(WRITE_TIMEOUT_MS) or socket.bytesToWrite() == 0
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(WRITE_TIMEOUT_MS)
        return delivered

    def listen(self) -> None:
        """Serve "raise" requests from later launches (needs the Qt event loop)."""
        if self.listening:
            return
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.newConnection.connect(self._accept)
        if not server.listen(self.name):
            if server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
                # Left behind by an instance that did not exit cleanly (nobody answered
                # ask_running_instance_to_raise before we got here).
                QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                log.warning(
                    "cannot listen for other launches on %s: %s", self.name, server.errorString()
                )
                server.deleteLater()
                return
        self._server = server

    def _accept(self) -> None:
        server = self._server
        if server is None:
            return
        while server.hasPendingConnections():
            socket = server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine().data()).strip()
            if line == RAISE.strip():
                self.raise_requested.emit()

    def close(self) -> None:
        """Stop listening and remove the socket file."""
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None
