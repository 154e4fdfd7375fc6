"""``python -m demo.moto_process DIR``: the demo's moto in a process of its own, started by the demo platform once
it has told the bot where everything listens.

Loading moto's RDS is about 1 s of CPU (most of it the EC2 models it imports). In the platform's own process it held
the platform's answers to the bot (the cluster's reads) up meanwhile; here it takes the other core. It seeds
``demo-db`` with its snapshots, then writes one JSON line (``{"event": "seeded", "url": …}``), and serves until its
stdin closes (the platform stopped, or died), at whatever point it is then. ``DIR``, the platform's directory, only
names the process (for ps)."""

from __future__ import annotations

import gc
import json
import os
import sys
import threading


def _until_stdin_closes() -> None:
    sys.stdin.read()
    os._exit(0)  # the platform stopped (or died): at once, even while moto is still loading or seeding


def main() -> int:
    gc.disable()  # start-up allocates what the server keeps: the collector would free nothing
    watching = threading.Thread(target=_until_stdin_closes, name="stdin", daemon=True)
    watching.start()
    import moto.rds.models  # noqa: F401 - loaded by the first RDS call otherwise
    from moto.server import ThreadedMotoServer

    from demo import aws

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    aws.seed_rds(url)
    gc.enable()
    sys.stdout.write(json.dumps({"event": "seeded", "url": url}) + "\n")
    sys.stdout.flush()
    watching.join()  # serves until the platform closes our stdin
    return 0


if __name__ == "__main__":
    sys.exit(main())
