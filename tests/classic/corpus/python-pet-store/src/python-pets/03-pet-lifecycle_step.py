from pydantic import BaseModel


class PetCreated(BaseModel):
    id: str
    name: str


config = {
    "type": "event",
    "name": "PetLifecycleOrchestrator",
    "description": "new → in_quarantine → available, each status pushed to the petUpdates stream",
    "subscribes": ["py-pet.created"],
    "emits": [],
    "input": PetCreated.model_json_schema(),
    "flows": ["pet-store"],
}


async def handler(input: PetCreated, ctx):
    # The schema above is a JSON Schema dict, so `input` is the plain event data.
    pet_id = input.get("id")
    pet = await ctx.state.get("pets", pet_id)
    for status in ("in_quarantine", "available"):
        pet["status"] = status
        await ctx.streams.petUpdates.set(pet_id, status, {"petId": pet_id, "status": status})
    await ctx.state.set("pets", pet_id, pet)
    ctx.logger.info("Pet is available", {"petId": pet_id, "name": input.get("name")})
