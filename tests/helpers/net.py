"""Loopback sockets for the tests, the soak and the benchmark: a free port for a server to listen
on, and a client socket that can hang up the rude way."""

from __future__ import annotations

import socket
import struct


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hard_close(sock_or_writer) -> None:
    """Hang up abruptly: SO_LINGER 0 makes close() send RST instead of FIN."""
    sock = sock_or_writer
    if hasattr(sock_or_writer, "get_extra_info"):
        sock = sock_or_writer.get_extra_info("socket")
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    if hasattr(sock_or_writer, "transport"):
        sock_or_writer.transport.abort()
    else:
        sock.close()


def local_port(stream_or_writer) -> int:
    """Our end's port of a connection: how the server's side of it is found in /proc/net/tcp."""
    writer = getattr(stream_or_writer, "writer", stream_or_writer)
    return writer.get_extra_info("sockname")[1]
