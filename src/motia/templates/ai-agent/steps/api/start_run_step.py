import uuid

from steps.lib.runs import update

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "StartRun",
    "description": "Ask the agent a question; the answer is streamed on runOutput",
    "method": "POST",
    "path": "/agent/runs",
    "bodySchema": {
        "type": "object",
        "properties": {"question": {"type": "string", "minLength": 1, "maxLength": 500}},
        "required": ["question"],
        "additionalProperties": False,
    },
    "emits": ["agent.plan"],
    "flows": ["agent"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    run_id = uuid.uuid4().hex[:12]
    question: str = req["body"]["question"].strip()
    now = ctx.utils.dates.now().isoformat()
    await update(ctx, run_id, question=question, status="planning", createdAt=now)
    await ctx.emit({"topic": "agent.plan", "data": {"runId": run_id}})
    return {"status": 202, "body": {"id": run_id, "status": "planning"}}
