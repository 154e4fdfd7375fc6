"""A TCP proxy on loopback that can hold back a server's reply: the network fault a client's timeout-and-retry
meets in production (the request was served, the answer came too late)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class DelayingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.rules: list[tuple[bytes, float]] = []  # (what the client sends, delay of the reply to it), used once
        self.lock = threading.Lock()
        self.delayed = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def delay_reply_to(self, pattern: bytes, seconds: float) -> None:
        with self.lock:
            self.rules.append((pattern, seconds))

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            pending: list[float] = []  # delays owed to the next replies on this connection
            threading.Thread(target=self._pipe, args=(client, server, pending, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, pending, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, pending: list[float], upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                if upstream:
                    with self.lock:
                        for rule in list(self.rules):
                            if rule[0] in data:
                                self.rules.remove(rule)
                                pending.append(rule[1])
                elif pending:
                    with self.lock:
                        self.delayed += 1
                    time.sleep(pending.pop(0))
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()
