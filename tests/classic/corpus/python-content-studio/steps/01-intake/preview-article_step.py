from pydantic import BaseModel


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


async def handler(req, ctx):
    article = req["body"]  # an Article: the config names the model itself
    words = len(article.body.split())
    return {"status": 200, "body": {"preview": f"{article.title.upper()} ({words} words)"}}
