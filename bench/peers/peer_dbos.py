"""Figure 12's DBOS peer: the trivial workflow on a queue in PostgreSQL, default settings.
Run as a script, it is the worker: it launches DBOS and waits."""

import os
import threading
from pathlib import Path

from dbos import DBOS
from tally import handled

QUEUE = os.environ["PEER_QUEUE"]
DBOS(config={"name": "motia-bench", "system_database_url": os.environ["PEER_DATABASE_URL"]})


@DBOS.workflow(name="handle")
def handle(seq: int, sent: float) -> None:
    handled(sent)


if __name__ == "__main__":
    DBOS.launch()
    DBOS.register_queue(QUEUE)  # after launch: its settings live in the database
    Path(os.environ["PEER_READY_FILE"]).touch()  # the producer may connect now
    threading.Event().wait()
