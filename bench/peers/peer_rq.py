"""Figure 12's RQ peer: the trivial job function (the worker runs `rq worker`, defaults)."""

from tally import handled


def handle(seq: int, sent: float) -> None:
    handled(sent)
