"""Classic Motia projects in Python and Ruby (tests/classic/corpus) run unmodified under real
`motia dev` and `motia start`: every step loads, each flow answers as the project's README
documents, and the event chains complete. The Node projects are in test_corpus_node.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.classic.corpus_support import ENV, Corpus, copy_project, field_errors
from tests.conftest import ServerProcess
from tests.tools import require

pytestmark = pytest.mark.slow
MODES = ["dev", "start"]
Factory = Callable[..., ServerProcess]


def serve(name: str, mode: str, tmp_path: Path, server_factory: Factory) -> Corpus:
    project = copy_project(name, tmp_path)
    return Corpus(server_factory(project, mode, env=ENV), project)


@pytest.mark.parametrize("mode", MODES)
def test_python_pet_store(mode: str, tmp_path: Path, server_factory: Factory) -> None:
    """Hyphenated, dotted and digit-led file names in a non-identifier folder; a JSON Schema
    input with a pydantic-annotated handler; cron; a stream; package.json without node_modules."""
    app = serve("python-pet-store", mode, tmp_path, server_factory)
    app.assert_loaded(
        {"CreatePet", "GetPet", "DeletePet", "PetLifecycleOrchestrator", "PetDeletionReaper"}
    )
    app.assert_npm_quiet()

    created = app.http.post("/pets", json={"name": "Rex", "species": "dog", "ageMonths": 3})
    assert created.status_code == 201, created.text
    pet = created.json()
    assert {k: pet[k] for k in ("name", "species", "status")} == {
        "name": "Rex",
        "species": "dog",
        "status": "new",
    }
    refused = app.http.post("/pets", json={"name": "  ", "species": "cat"})
    assert (refused.status_code, refused.json()) == (400, {"error": "name is required"})

    # The orchestrator reads `input.get(...)`: it only works if it got the plain dict.
    app.eventually(lambda: app.http.get(f"/pets/{pet['id']}").json().get("status") == "available")
    updates = app.stream("petUpdates", pet["id"])
    assert sorted(item["status"] for item in updates) == ["available", "in_quarantine"]
    assert app.http.get("/pets/nobody").status_code == 404

    deleted = app.http.delete(f"/pets/{pet['id']}")
    assert (deleted.status_code, deleted.json()) == (202, {"id": pet["id"], "status": "deleted"})
    app.run_cron("PetDeletionReaper")
    app.eventually(lambda: app.http.get(f"/pets/{pet['id']}").status_code == 404)


@pytest.mark.parametrize("mode", MODES)
def test_python_ingestion(mode: str, tmp_path: Path, server_factory: Factory) -> None:
    """Relative and project-root imports, middleware, `input: None`, `subscribes: []`,
    `emits: []`, omitted flows, a noop, virtual and labelled emits, and a handler writing
    into the project folder without reloading anything under `motia dev`."""
    app = serve("python-ingestion", mode, tmp_path, server_factory)
    app.assert_loaded(
        {
            "StartIngestion",
            "ParseDocument",
            "EmbedChunks",
            "IngestionFailed",
            "AuditSink",
            "OpsReview",
            "GetIngestionStatus",
        }
    )
    app.assert_npm_quiet()
    edges = {(e["source"], e["target"]): e for e in app.edges()}
    assert edges["StartIngestion", "OpsReview"]["virtual"] is True
    assert edges["StartIngestion", "OpsReview"]["label"] == "Ops are told"
    assert edges["ParseDocument", "EmbedChunks"]["label"] == "Has text"
    assert edges["ParseDocument", "EmbedChunks"]["conditional"] is True

    document = {"title": "Manual", "text": " ".join(f"word{i}" for i in range(40))}
    refused = app.http.post("/ingest", json=document)
    assert (refused.status_code, refused.json()) == (401, {"error": "missing api key"})

    key = {"x-api-key": "corpus-key"}
    accepted = app.http.post("/ingest", json=document, headers=key)
    assert accepted.status_code == 202, accepted.text
    first = accepted.json()
    assert (first["status"], first["served"], first["estimatedChunks"]) == ("received", 1, 3)
    done = app.eventually(
        lambda: (
            (r := app.http.get(f"/ingest/{first['ingestionId']}").json())["status"] == "complete"
            and r
        )
    )
    assert done == {"ingestionId": first["ingestionId"], "status": "complete", "chunks": 3}
    assert (app.project / ".data" / f"{first['ingestionId']}.json").is_file()
    assert (app.project / "logs" / "ingestion.log").read_text().startswith(first["ingestionId"])

    empty = app.http.post("/ingest", json={"title": "Blank", "text": ""}, headers=key).json()
    # The module is the one that served the first request: the files the handler wrote
    # into the project folder did not reload it.
    assert empty["served"] == 2, app.server.output()
    app.eventually(
        lambda: app.http.get(f"/ingest/{empty['ingestionId']}").json()["status"] == "failed"
    )
    assert app.http.get("/ingest/unknown").status_code == 404
    assert "reloaded" not in app.server.output()

    if mode == "dev":
        # Editing a helper module the steps import does reload them.
        helper = app.project / "steps" / "lib" / "chunking.py"
        helper.write_text(helper.read_text().replace("size=16", "size=8"))
        app.server.wait_for_output("reloaded", timeout=15)
        again = app.http.post("/ingest", json=document, headers=key)
        assert again.json()["estimatedChunks"] == 5, again.text
        app.eventually(
            lambda: app.http.get(f"/ingest/{again.json()['ingestionId']}").json()["chunks"] == 5
        )


@pytest.mark.parametrize("mode", MODES)
def test_python_content_studio(mode: str, tmp_path: Path, server_factory: Factory) -> None:
    """Digit-led and dotted folder names, imports from the project root, annotated handlers
    of JSON Schema steps, the typed-body opt-in, and two streams with one name."""
    app = serve("python-content-studio", mode, tmp_path, server_factory)
    app.assert_loaded(
        {"SubmitArticle", "PreviewArticle", "GetArticle", "TagExtractor", "ContentPersonalization"}
    )
    duplicate = [
        line
        for line in app.server.output().splitlines()
        if "articleFeed" in line
        and "00-article-feed_stream.py" in line
        and "99-article-feed-v2_stream.py" in line
    ]
    assert duplicate, f"no warning names both articleFeed files:\n{app.server.output()}"

    article = {
        "title": "Motia Classic Lives",
        "body": "Everything travels wonderfully between languages",
        "audience": "engineers",
    }
    submitted = app.http.post("/articles", json=article)
    assert (submitted.status_code, submitted.json()) == (
        202,
        {"slug": "motia-classic-lives", "status": "submitted"},
    )
    stored = app.eventually(
        lambda: (r := app.http.get("/articles/motia-classic-lives")).status_code == 200 and r.json()
    )
    assert stored == {
        "slug": "motia-classic-lives",
        "title": "Motia Classic Lives",
        "headline": "Motia Classic Lives — for engineers",
        "tags": ["between", "everything", "languages", "travels", "wonderfully"],
        "status": "published",
    }
    assert app.http.get("/articles/nothing-here").status_code == 404

    preview = app.http.post(
        "/articles/preview", json={"title": "hi there", "body": "one two three"}
    )
    assert (preview.status_code, preview.json()) == (200, {"preview": "HI THERE (3 words)"})
    assert "title" in field_errors(app.http.post("/articles/preview", json={"body": "x"}))

    # The later file wins: its canAccess lets anyone read the `published` group.
    status, frame = app.first_stream_frame("/__motia/streams/articleFeed/published")
    assert status == 200, frame
    assert frame["event"]["type"] == "sync"
    assert [item["slug"] for item in frame["event"]["data"]] == ["motia-classic-lives"]


@pytest.mark.parametrize("mode", MODES)
def test_ruby_reminders(mode: str, tmp_path: Path, server_factory: Factory) -> None:
    """Python API steps, Ruby event steps (string- and symbol-keyed configs, `_step.rb` and
    `.step.rb`), and a cron step whose file name has an extra dot."""
    require("ruby")
    app = serve("ruby-reminders", mode, tmp_path, server_factory)
    app.assert_loaded(
        {"ScheduleReminder", "GetReminder", "SendReminder", "AuditReminder", "ReminderSweep"}
    )
    assert "who" in field_errors(app.http.post("/reminders", json={"who": "", "text": "x"}))

    created = app.http.post("/reminders", json={"who": "ada", "text": "water the plants"})
    assert created.status_code == 201, created.text
    reminder_id = created.json()["id"]
    sent = app.eventually(
        lambda: (
            (r := app.http.get(f"/reminders/{reminder_id}").json()).get("status") == "sent" and r
        )
    )
    assert sent["delivered"] == "WATER THE PLANTS"
    assert sent["who"] == "ada"
    app.eventually(lambda: reminder_id in (app.state("audit", "sent") or []))
    assert app.http.get("/reminders/none").status_code == 404

    app.run_cron("ReminderSweep")
    app.eventually(lambda: app.state("audit", "sweep") == {"sent": 1})
