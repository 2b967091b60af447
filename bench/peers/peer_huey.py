"""Figure 12's Huey peer: the trivial task on SQLite or Redis (PEER_HUEY_STORE), defaults."""

import os

from huey import RedisHuey, SqliteHuey
from tally import handled

if os.environ.get("PEER_HUEY_STORE") == "sqlite":
    huey = SqliteHuey(os.environ["PEER_QUEUE"], filename=os.environ["PEER_HUEY_FILE"])
else:
    huey = RedisHuey(os.environ["PEER_QUEUE"], url=os.environ["PEER_REDIS_URL"])


@huey.task()
def handle(seq: int, sent: float) -> None:
    handled(sent)
