"""Figure 12's Celery peer: the trivial task on a Redis broker, default settings."""

import os

from celery import Celery
from tally import handled

app = Celery("motia_bench", broker=os.environ["PEER_REDIS_URL"])
app.conf.task_default_queue = os.environ["PEER_QUEUE"]  # a queue of the run's own


@app.task
def handle(seq: int, sent: float) -> None:
    handled(sent)
