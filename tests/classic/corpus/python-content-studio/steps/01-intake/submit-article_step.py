from lib.text import slugify
from pydantic import BaseModel


class Article(BaseModel):
    title: str
    body: str
    audience: str = "everyone"


config = {
    "type": "api",
    "name": "SubmitArticle",
    "path": "/articles",
    "method": "POST",
    "bodySchema": Article.model_json_schema(),
    "emits": ["article.submitted"],
    "flows": ["content-studio"],
}


async def handler(req: dict, ctx):
    body = req["body"]
    slug = slugify(body["title"])
    await ctx.emit({"topic": "article.submitted", "data": {**body, "slug": slug}})
    return {"status": 202, "body": {"slug": slug, "status": "submitted"}}
