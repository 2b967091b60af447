config = {
    "type": "cron",
    "name": "PetDeletionReaper",
    "description": "Nightly: remove the pets marked as deleted",
    "cron": "0 2 * * *",
    "emits": [],
    "flows": ["pet-store"],
}


async def handler(ctx):
    pets = await ctx.state.get_group("pets") or []
    removed = 0
    for pet in pets:
        if pet.get("status") == "deleted":
            await ctx.state.delete("pets", pet["id"])
            removed += 1
    ctx.logger.info("Reaper finished", {"removed": removed})
