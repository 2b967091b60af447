"""Messages between the processes that share one SQLite file, over Unix datagram sockets.

Every process binds a socket of its own in the file's peer folder and connects one socket
to each peer it finds there; a message is one datagram per peer. There is no hub to start
or keep alive: a process that dies takes its socket with it, and its file is removed by the
first peer that finds nobody listening on it. A process that starts says hello to the
peers it finds, so those that listed the folder before it appeared look again at once
(the folder's modification time tells them too, and they look every `RELIST_EVERY` s).

A connected datagram socket waits while its peer's receive queue is full, so a busy peer
slows the sender down instead of losing messages; a peer that takes nothing for
`SEND_WAIT` seconds (a stopped process) misses that message and every later one until
its queue has room again, so it cannot hold the others up. Payloads over `INLINE_LIMIT` bytes are
written to a file in the folder and sent by name; such files are removed after `KEEP_SPILLED`
seconds.

Like Redis pub/sub, nothing is kept for a process that is not running: what it must not
miss (queued events) lives in the database, and these messages only make it look sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

Receiver = Callable[[bytes], None]

HELLO = b"h"
SPILLED = b"@"  # a payload kept in a file: the frame carries the channel and the file name
INLINE_LIMIT = 60 * 1024
KEEP_SPILLED = 60.0
SEND_WAIT = 5.0
RELIST_EVERY = 1.0
STAT_EVERY = 0.01
RECEIVE_BUFFER = INLINE_LIMIT + 64
# A Unix socket path is at most 108 bytes; keep room for the socket's own name.
MAX_FOLDER_PATH = 80


def peer_folder(database: Path) -> Path:
    """Where the processes of one database file meet: beside the file when its path is
    short enough for a socket address, else a folder named after it in the temp folder."""
    resolved = database.resolve()
    beside = resolved.parent / f"{resolved.name}.peers"
    if len(str(beside)) <= MAX_FOLDER_PATH:
        return beside
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / _TEMP_PARENT / digest


_TEMP_PARENT = f"motia-{os.getuid()}"


def _check_private(folder: Path) -> None:
    """Stream changes pass through the folder: it must be ours, and writable by us only
    (in a shared temp folder another user could have made it first)."""
    found = folder.stat()
    if found.st_uid != os.getuid() or found.st_mode & 0o022:
        raise PermissionError(
            f"{folder} belongs to another user or others may write in it; remove it"
        )


class _Peer:
    def __init__(self, name: str, sock: socket.socket) -> None:
        self.name = name
        self.sock = sock
        self.sending = asyncio.Lock()
        # Took nothing for SEND_WAIT seconds (stopped, or its loop is stuck): until its
        # queue has room again, messages to it are dropped rather than waited for.
        self.stalled = False


class Fanout:
    """This process's end: `send` reaches every peer's receivers of that channel."""

    def __init__(self, folder: Path, *, send_wait: float = SEND_WAIT) -> None:
        self.folder = folder
        self._send_wait = send_wait
        self.name = f"{os.getpid()}-{os.urandom(4).hex()}.sock"
        self._receivers: dict[bytes, Receiver] = {}
        self._peers: dict[str, _Peer] = {}
        self._listed_mtime: int | None = None
        self._listed_at = 0.0
        self._checked_at = -STAT_EVERY
        self._folder_path = str(folder)
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._spilled: list[tuple[float, Path]] = []
        # Why the other processes cannot be reached, when `start` could not bind.
        self.problem: str | None = None

    @property
    def started(self) -> bool:
        return self._sock is not None

    @property
    def peer_count(self) -> int:
        self._checked_at = -STAT_EVERY  # asked rarely: look at the folder now
        self._relist_if_changed()
        return len(self._peers)

    def has_peers(self) -> bool:
        """Whether a `send` now would reach anyone (cheap: no system call most times)."""
        if self._sock is None:
            return False
        self._relist_if_changed()
        return bool(self._peers)

    def on(self, channel: bytes, receive: Receiver) -> None:
        """Hand the payloads of `channel` (one byte) that peers send to `receive`."""
        self._receivers[channel] = receive

    async def start(self) -> None:
        """Bind our socket and greet the peers; idempotent. When the folder cannot be
        used (a read-only file system, say) the process runs alone: `problem` says why,
        and sends do nothing."""
        if self._sock is not None:
            return
        self._loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            if self.folder.parent.name == _TEMP_PARENT:
                self.folder.parent.mkdir(mode=0o700, exist_ok=True)
                _check_private(self.folder.parent)
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            _check_private(self.folder)
            sock.setblocking(False)
            sock.bind(str(self.folder / self.name))
        except OSError as exc:
            sock.close()
            self.problem = f"cannot open a peer socket in {self.folder}: {exc.strerror or exc}"
            return
        self.problem = None
        self._sock = sock
        self._loop.add_reader(sock.fileno(), self._readable)
        self._sweep_spilled_of_the_dead()
        self._relist()
        await self._send_frame(HELLO)

    async def send(self, channel: bytes, payload: bytes) -> None:
        """Send to every peer (not to ourselves); never raises for a peer's sake."""
        if self._sock is None:
            return
        self._relist_if_changed()
        if not self._peers:
            return
        if len(payload) > INLINE_LIMIT:
            try:
                frame = SPILLED + channel + self._spill(payload).encode()
            except OSError:
                return  # a full disk, say: the peers miss this one, as a late one
        else:
            frame = channel + payload
        await self._send_frame(frame)

    async def _send_frame(self, frame: bytes) -> None:
        for peer in list(self._peers.values()):
            await self._send_to(peer, frame)

    async def _send_to(self, peer: _Peer, frame: bytes) -> None:
        try:
            if not peer.sending.locked():
                try:
                    peer.sock.send(frame)
                    peer.stalled = False
                    return
                except BlockingIOError:
                    if peer.stalled:
                        return  # still full: this message is lost to it
                    # its queue is full: wait below, behind nobody
            async with peer.sending:
                if peer.stalled:  # it stalled while we waited for our turn
                    with contextlib.suppress(BlockingIOError):
                        peer.sock.send(frame)
                        peer.stalled = False
                    return
                assert self._loop is not None
                async with asyncio.timeout(self._send_wait):
                    await self._loop.sock_sendall(peer.sock, frame)
        except TimeoutError:
            peer.stalled = True  # it misses this message, and the next while it is full
        except OSError:
            self._forget(peer.name, stale=True)

    # --- peers ---------------------------------------------------------------------------

    def _relist_if_changed(self) -> None:
        # A peer that starts greets us (HELLO): the folder's time is a second way to hear
        # of it, looked at no more often than STAT_EVERY, not a system call per message.
        now = time.monotonic()
        if now - self._checked_at < STAT_EVERY:
            return
        self._checked_at = now
        try:
            mtime = os.stat(self._folder_path).st_mtime_ns
        except OSError:
            return
        if mtime != self._listed_mtime or now - self._listed_at > RELIST_EVERY:
            self._relist()

    def _relist(self) -> None:
        try:
            self._listed_mtime = self.folder.stat().st_mtime_ns
            names = {n for n in os.listdir(self.folder) if n.endswith(".sock") and n != self.name}
        except OSError:
            return
        self._listed_at = time.monotonic()
        for gone in set(self._peers) - names:
            self._forget(gone, stale=False)
        for name in names - set(self._peers):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.setblocking(False)
            try:
                sock.connect(str(self.folder / name))
            except OSError:  # nobody listens there any more (killed): remove its file
                sock.close()
                with contextlib.suppress(OSError):
                    (self.folder / name).unlink()
                continue
            self._peers[name] = _Peer(name, sock)

    def _forget(self, name: str, *, stale: bool) -> None:
        peer = self._peers.pop(name, None)
        if peer is not None:
            peer.sock.close()
        if stale:
            with contextlib.suppress(OSError):
                (self.folder / name).unlink()

    # --- receiving -----------------------------------------------------------------------

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        for _ in range(256):  # then let the loop run other work
            try:
                frame = sock.recv(RECEIVE_BUFFER)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            self._dispatch(frame)

    def _dispatch(self, frame: bytes) -> None:
        channel, payload = frame[:1], frame[1:]
        if channel == HELLO:
            self._relist()
            return
        if channel == SPILLED:
            channel, name = payload[:1], payload[1:].decode(errors="replace")
            try:
                payload = (self.folder / os.path.basename(name)).read_bytes()
            except OSError:
                return  # removed already: the message is lost, as a late pub/sub one is
        receive = self._receivers.get(channel)
        if receive is not None:
            with contextlib.suppress(Exception):  # a receiver bug must not stop us
                receive(payload)

    def _spill(self, payload: bytes) -> str:
        now = time.monotonic()
        while self._spilled and now - self._spilled[0][0] > KEEP_SPILLED:
            with contextlib.suppress(OSError):
                self._spilled.pop(0)[1].unlink()
        path = self.folder / f"{self.name[:-5]}-{os.urandom(6).hex()}.payload"
        with open(path, "wb") as file:
            file.write(payload)
        self._spilled.append((now, path))
        return path.name

    def _sweep_spilled_of_the_dead(self) -> None:
        """Payload files of a process that was killed stay behind: remove the old ones."""
        cutoff = time.time() - KEEP_SPILLED
        with contextlib.suppress(OSError):
            for path in self.folder.glob("*.payload"):
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()

    async def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(sock.fileno())
        sock.close()
        with contextlib.suppress(OSError):
            (self.folder / self.name).unlink()
        for name in list(self._peers):
            self._forget(name, stale=False)
        # A peer reading one of these right now misses that message, as a late one would.
        for _, path in self._spilled:
            with contextlib.suppress(OSError):
                path.unlink()
        self._spilled.clear()
