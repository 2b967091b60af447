config = {
    "type": "api",
    "name": "DeletePet",
    "path": "/pets/:id",
    "method": "DELETE",
    "emits": [],
    "flows": ["pet-store"],
}


async def handler(req, ctx):
    pet_id = req["pathParams"]["id"]
    pet = await ctx.state.get("pets", pet_id)
    if not pet:
        return {"status": 404, "body": {"error": "pet not found"}}
    pet["status"] = "deleted"
    await ctx.state.set("pets", pet_id, pet)
    return {"status": 202, "body": {"id": pet_id, "status": "deleted"}}
