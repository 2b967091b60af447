"""Figure 12's arq peer: the trivial job function, default worker settings."""

import os
from typing import Any

from arq.connections import RedisSettings
from tally import handled


async def handle(ctx: dict[str, Any], seq: int, sent: float) -> None:
    handled(sent)


class WorkerSettings:
    functions = [handle]
    redis_settings = RedisSettings.from_dsn(os.environ["PEER_REDIS_URL"])
    queue_name = os.environ["PEER_QUEUE"]
