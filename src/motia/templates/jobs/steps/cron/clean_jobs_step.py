"""Every ten minutes: forget finished jobs once the retention period has passed.

The first run that sees a job finished stamps when it may go (`expiresAt`), by this
step's own clock; a later run deletes it. Times written by the other languages' steps
are never compared with this clock, so a skewed clock (or the test kit's fake one)
cannot delete a job early or keep it forever.
"""

import os
from datetime import datetime, timedelta
from typing import Any

from motia import CronConfig, FlowContext

RETENTION_SECONDS = float(os.environ.get("JOB_RETENTION_SECONDS", "3600"))
FINISHED = ("done", "failed", "cancelled")

config: CronConfig = {
    "type": "cron",
    "name": "CleanJobs",
    "description": "Delete finished jobs JOB_RETENTION_SECONDS after they finished",
    "cron": "*/10 * * * *",
    "emits": ["jobs.cleaned"],
    "flows": ["jobs"],
}


async def handler(ctx: FlowContext) -> None:
    now = ctx.utils.dates.now()
    jobs: list[dict[str, Any]] = await ctx.state.get_group("jobs")
    expired = []
    for job in jobs:
        if job.get("status") not in FINISHED:
            continue
        if "expiresAt" not in job:
            expires = now + timedelta(seconds=RETENTION_SECONDS)
            await ctx.state.set("jobs", job["id"], {**job, "expiresAt": expires.isoformat()})
        elif datetime.fromisoformat(job["expiresAt"]) <= now:
            expired.append(job["id"])
    for job_id in expired:
        await ctx.state.delete("jobs", job_id)
        await ctx.streams.jobProgress.delete("jobs", job_id)
    if expired:
        await ctx.emit({"topic": "jobs.cleaned", "data": {"count": len(expired), "ids": expired}})
