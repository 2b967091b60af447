"""Python event step: picks a category from the document's words."""

config = {
    "type": "event",
    "name": "ClassifyDocument",
    "description": "Classify a submitted document",
    "subscribes": ["document.submitted"],
    "emits": ["document.classified"],
    "input": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}},
        "required": ["id", "title"],
    },
    "flows": ["documents"],
}

CATEGORIES = {
    "invoice": ("invoice", "payment", "amount"),
    "contract": ("agreement", "contract", "party"),
}


async def handler(input_data, ctx):
    words = f"{input_data.get('title', '')} {input_data.get('text', '')}".lower()
    category = next(
        (name for name, keys in CATEGORIES.items() if any(k in words for k in keys)), "other"
    )
    classified = {
        **input_data,
        "category": category,
        "classifiedAt": ctx.utils.dates.now().isoformat(),
    }
    await ctx.state.set(ctx.trace_id, "classified", classified)
    await ctx.emit({"topic": "document.classified", "data": classified})
    ctx.logger.info("Document classified", {"id": input_data.get("id"), "category": category})
