"""Cancel a job: a queued one never starts, a running one stops before its next item."""

from typing import Any

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

FINAL = ("done", "failed", "cancelled")

config: ApiRouteConfig = {
    "type": "api",
    "name": "CancelJob",
    "description": "Cancel a queued or running job",
    "method": "POST",
    "path": "/jobs/:id/cancel",
    "emits": [],
    "flows": ["jobs"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    job_id = req["pathParams"]["id"]
    job: dict[str, Any] | None = await ctx.state.get("jobs", job_id)
    if job is None:
        return {"status": 404, "body": {"error": "job not found"}}
    if job["status"] in FINAL:
        return {"status": 409, "body": {"error": f"job is already {job['status']}"}}
    await ctx.state.set("jobs", job_id, {**job, "status": "cancelled"})
    await ctx.streams.jobProgress.set(
        "jobs",
        job_id,
        {"kind": job["kind"], "status": "cancelled", "done": job["done"], "total": job["items"]},
    )
    return {"status": 200, "body": {"id": job_id, "status": "cancelled"}}
