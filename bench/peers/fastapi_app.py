"""Figure 12d's FastAPI reference: figure 2's `POST /items` as a FastAPI app would write it
(Pydantic validation of the same body schema, the item kept in a bounded dict, 201 with
the item); no durable write and no event. Served by uvicorn like the Starlette baseline."""

import uuid
from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field

app = FastAPI()
ITEMS: dict[str, dict[str, object]] = {}
KEEP = 10_000  # bounded, so a long run measures requests, not a growing heap's collections


class Item(BaseModel):
    name: str = Field(min_length=1)
    kind: Literal["document", "image", "video"] = "document"
    quantity: int = Field(0, ge=0)


@app.get("/hello")
async def hello() -> dict[str, object]:
    return {"message": "hello", "ok": True}


@app.post("/items", status_code=201)
async def create_item(item: Item) -> dict[str, object]:
    item_id = uuid.uuid4().hex
    ITEMS[item_id] = stored = {"id": item_id, **item.model_dump()}
    if len(ITEMS) > KEEP:
        del ITEMS[next(iter(ITEMS))]
    return stored
