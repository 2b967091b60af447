"""Figure 12's Dramatiq peer: the trivial actor on a Redis broker, default settings."""

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from tally import handled

QUEUE = os.environ["PEER_QUEUE"]
dramatiq.set_broker(RedisBroker(url=os.environ["PEER_REDIS_URL"], namespace=QUEUE))


@dramatiq.actor(queue_name=QUEUE)
def handle(seq: int, sent: float) -> None:
    handled(sent)
