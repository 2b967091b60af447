import json
import os
from pathlib import Path

config = {
    "type": "event",
    "name": "EmbedChunks",
    "subscribes": ["document.parsed"],
    "emits": [],
    "flows": ["ingestion"],
}

PROJECT = Path(os.getcwd())


async def handler(input, ctx):
    ingestion_id = input["ingestionId"]
    chunks = input["chunks"]
    # Handlers of real projects keep local artefacts in the project folder.
    data_dir = PROJECT / ".data"
    data_dir.mkdir(exist_ok=True)
    (data_dir / f"{ingestion_id}.json").write_text(json.dumps({"chunks": chunks}))
    (PROJECT / "logs").mkdir(exist_ok=True)
    log = PROJECT / "logs" / "ingestion.log"
    previous = log.read_text() if log.exists() else ""
    log.write_text(previous + f"{ingestion_id} {len(chunks)}\n")
    await ctx.state.set("ingestion", ingestion_id, {"status": "complete", "chunks": len(chunks)})
    # emits: [] lets a step emit any topic; nothing listens to this one yet.
    await ctx.emit({"topic": "ingestion.completed", "data": {"ingestionId": ingestion_id}})
