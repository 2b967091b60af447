import uuid

from pydantic import BaseModel


class PetCreate(BaseModel):
    name: str
    species: str
    ageMonths: int = 0


class Pet(BaseModel):
    id: str
    name: str
    species: str
    status: str


config = {
    "type": "api",
    "name": "CreatePet",
    "description": "Register a pet; the lifecycle orchestrator takes it from there",
    "path": "/pets",
    "method": "POST",
    "bodySchema": PetCreate.model_json_schema(),
    "responseSchema": {201: Pet.model_json_schema()},
    "emits": [{"topic": "py-pet.created", "label": "Pet registered"}],
    "flows": ["pet-store"],
}


async def handler(req, ctx):
    body = req.get("body") or {}
    name = (body.get("name") or "").strip()
    if not name:
        return {"status": 400, "body": {"error": "name is required"}}

    pet = {
        "id": str(uuid.uuid4()),
        "name": name,
        "species": body.get("species", "unknown"),
        "ageMonths": body.get("ageMonths", 0),
        "status": "new",
    }
    await ctx.state.set("pets", pet["id"], pet)
    await ctx.emit({"topic": "py-pet.created", "data": {"id": pet["id"], "name": name}})
    ctx.logger.info("Pet created", {"petId": pet["id"]})
    return {"status": 201, "body": {k: pet[k] for k in ("id", "name", "species", "status")}}
