config = {
    "type": "api",
    "name": "GetPet",
    "path": "/pets/:id",
    "method": "GET",
    "emits": [],
    "flows": ["pet-store"],
}


async def handler(req, ctx):
    pet_id = req.get("pathParams", {}).get("id")
    pet = await ctx.state.get("pets", pet_id)
    # Older runtimes wrapped stored dicts as {"data": ...}; accept both shapes.
    if isinstance(pet, dict) and "data" in pet and "id" not in pet:
        pet = pet["data"]
    if not pet:
        return {"status": 404, "body": {"error": "pet not found"}}
    return {"status": 200, "body": pet}
