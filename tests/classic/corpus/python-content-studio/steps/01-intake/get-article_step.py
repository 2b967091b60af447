config = {
    "type": "api",
    "name": "GetArticle",
    "path": "/articles/:slug",
    "method": "GET",
    "emits": [],
    "flows": ["content-studio"],
}


async def handler(req, ctx):
    article = await ctx.state.get("articles", req["pathParams"]["slug"])
    if article is None:
        return {"status": 404, "body": {"error": "not found"}}
    return {"status": 200, "body": article}
