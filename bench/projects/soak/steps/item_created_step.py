"""item.created: publish the item to its feed group (stream subscribers receive it)."""

config = {
    "type": "event",
    "name": "PublishItem",
    "subscribes": ["item.created"],
    "flows": ["soak"],
}

FEEDS = 8


async def handler(item, ctx):
    feed = f"feed-{sum(item['id'].encode()) % FEEDS}"
    await ctx.streams.itemFeed.set(feed, item["id"], {"name": item["name"]})
    ctx.logger.info("item published", {"id": item["id"], "feed": feed})
