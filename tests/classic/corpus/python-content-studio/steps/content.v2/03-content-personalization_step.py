from pydantic import BaseModel


class TaggedArticle(BaseModel):
    slug: str
    title: str
    body: str
    audience: str
    tags: list[str]


config = {
    "type": "event",
    "name": "ContentPersonalization",
    "subscribes": ["article.tagged"],
    "emits": [],
    "input": TaggedArticle.model_json_schema(),
    "flows": ["content-studio"],
}


async def handler(input: TaggedArticle, ctx) -> None:
    audience = input.get("audience", "everyone")
    article = {
        "slug": input.get("slug"),
        "title": input.get("title"),
        "headline": f"{input.get('title')} — for {audience}",
        "tags": input.get("tags", []),
        "status": "published",
    }
    await ctx.state.set("articles", article["slug"], article)
    await ctx.streams.articleFeed.set("published", article["slug"], article)
