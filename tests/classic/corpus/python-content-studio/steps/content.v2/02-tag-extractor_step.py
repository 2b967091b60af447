from pydantic import BaseModel


class SubmittedArticle(BaseModel):
    slug: str
    title: str
    body: str
    audience: str


config = {
    "type": "event",
    "name": "TagExtractor",
    "subscribes": ["article.submitted"],
    "emits": [{"topic": "article.tagged", "label": "Tagged"}],
    "input": SubmittedArticle.model_json_schema(),
    "flows": ["content-studio"],
}


async def handler(input: SubmittedArticle, ctx):
    words = {w.strip(".,!?").lower() for w in input.get("body", "").split()}
    tags = sorted(w for w in words if len(w) > 6)
    await ctx.emit({"topic": "article.tagged", "data": {**input, "tags": tags}})
