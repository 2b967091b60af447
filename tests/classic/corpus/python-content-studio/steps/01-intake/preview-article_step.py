from pydantic import BaseModel

from motia import ApiRequest


class Article(BaseModel):
    title: str
    body: str


config = {
    "type": "api",
    "name": "PreviewArticle",
    "path": "/articles/preview",
    "method": "POST",
    "bodySchema": Article,
    "emits": [],
    "flows": ["content-studio"],
}


async def handler(req: ApiRequest[Article], ctx):
    # The config names the model itself, so the annotation asks for (and gets) an Article.
    article = req["body"]
    words = len(article.body.split())
    return {"status": 200, "body": {"preview": f"{article.title.upper()} ({words} words)"}}
