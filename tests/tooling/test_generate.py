"""`motia generate step`: every type scaffolds a file that loads without problems."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from motia.cli import generate as generate_module
from motia.cli.main import cli
from motia.runtime.loading import load_project
from tests.runners.support import node_project, require


def gen(*args: str) -> str:
    result = CliRunner().invoke(cli, ["generate", "step", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_every_step_type_loads_without_problems(tmp_path: Path) -> None:
    steps = tmp_path / "steps"
    gen(
        "--type",
        "api",
        "--name",
        "CreateThing",
        "--path",
        "/things/:id",
        "--method",
        "post",
        "--emits",
        "thing.created",
        "--flow",
        "things",
        "-d",
        str(tmp_path),
        "--folder",
        "steps/api",
    )
    gen(
        "--type",
        "event",
        "--name",
        "HandleThing",
        "--subscribes",
        "thing.created",
        "--emits",
        "thing.done",
        "--flow",
        "things",
        "-d",
        str(tmp_path),
        "--folder",
        "steps/events",
    )
    gen(
        "--type",
        "event",
        "--name",
        "FinishThing",
        "--subscribes",
        "thing.done",
        "-d",
        str(tmp_path),
        "--folder",
        "steps/events",
    )
    gen(
        "--type",
        "cron",
        "--name",
        "NightlyThing",
        "--cron",
        "0 3 * * *",
        "--emits",
        "thing.created",
        "-d",
        str(tmp_path),
        "--folder",
        "steps/cron",
    )
    gen(
        "--type",
        "noop",
        "--name",
        "ThingReviewer",
        "--subscribes",
        "thing.done",
        "--emits",
        "thing.approved",
        "-d",
        str(tmp_path),
        "--folder",
        "steps/external",
    )
    gen(
        "--type",
        "api",
        "--name",
        "ListThings",
        "--path",
        "/things",
        "--method",
        "GET",
        "-d",
        str(tmp_path),
        "--folder",
        "steps/api",
    )

    assert sorted(p.relative_to(steps).as_posix() for p in steps.rglob("*.py")) == [
        "api/create_thing_step.py",
        "api/list_things_step.py",
        "cron/nightly_thing_step.py",
        "events/finish_thing_step.py",
        "events/handle_thing_step.py",
        "external/thing_reviewer_step.py",
    ]
    project = load_project(tmp_path)
    assert project.problems == []
    by_name = {s.name: s for s in project.steps}
    assert set(by_name) == {
        "CreateThing",
        "HandleThing",
        "FinishThing",
        "NightlyThing",
        "ThingReviewer",
        "ListThings",
    }
    assert by_name["CreateThing"].api.method == "POST"
    assert by_name["CreateThing"].api.path == "/things/:id"
    assert by_name["CreateThing"].body_schema is not None
    assert by_name["HandleThing"].event.subscribes == ["thing.created"]
    assert by_name["NightlyThing"].cron.cron == "0 3 * * *"
    assert by_name["CreateThing"].flows == ["things"]


def test_default_folder_and_refusing_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    gen("--type", "cron", "--name", "Tick")
    assert (tmp_path / "steps" / "cron" / "tick_step.py").is_file()
    result = CliRunner().invoke(cli, ["generate", "step", "--type", "cron", "--name", "Tick"])
    assert result.exit_code == 1 and "already exists" in result.output
    gen("--type", "cron", "--name", "Tick", "--force")


@pytest.mark.parametrize(
    ("lang", "file", "runtime"),
    [
        ("typescript", "send-mail.step.ts", "Node.js"),
        ("javascript", "send-mail.step.js", "Node.js"),
        ("ruby", "send_mail_step.rb", "Ruby"),
    ],
)
def test_other_languages_generate_steps_their_runner_loads(
    tmp_path: Path, lang: str, file: str, runtime: str
) -> None:
    require("ruby" if lang == "ruby" else "node")
    project_dir = node_project(tmp_path / "project") if lang == "typescript" else tmp_path
    output = gen(
        "--type",
        "event",
        "--name",
        "SendMail",
        "--subscribes",
        "mail.requested",
        "--lang",
        lang,
        "-d",
        str(project_dir),
        "--folder",
        "steps",
    )
    assert f"{runtime} runner" in output
    source = (project_dir / "steps" / file).read_text()
    assert "SendMail" in source and "mail.requested" in source
    project = load_project(project_dir)
    assert [p.message for p in project.problems] == [
        "subscribes to topic 'mail.requested', which no step emits"
    ]
    [step] = project.steps
    assert (step.name, step.language, step.event.subscribes) == (
        "SendMail",
        lang,
        ["mail.requested"],
    )


def test_missing_options_without_a_terminal_are_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["generate", "step", "--type", "api", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "missing --name" in result.output


def test_interactive_prompts_for_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generate_module, "_interactive", lambda: True)
    answers = "event\nAuditOrder\norder.created\naudit.done\n"
    result = CliRunner().invoke(cli, ["generate", "step", "--dir", str(tmp_path)], input=answers)
    assert result.exit_code == 0, result.output
    assert "Step type" in result.output and "Topic(s) to subscribe to" in result.output
    project = load_project(tmp_path)
    (step,) = project.steps
    assert step.name == "AuditOrder"
    assert step.event.subscribes == ["order.created"]
    assert step.emits == frozenset({"audit.done"})


def test_dir_is_the_project_folder_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "shop"
    (project / "steps").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    output = gen("--type", "cron", "--name", "Tick", "-d", str(project))
    assert "created" in output and "tick_step.py" in output
    gen("--type", "cron", "--name", "Tock", "-d", str(project), "--folder", "src/jobs")
    assert not list(elsewhere.rglob("*.py"))
    names = {step.name for step in load_project(project).steps}
    assert names == {"Tick", "Tock"}
    assert (project / "steps" / "cron" / "tick_step.py").is_file()
    assert (project / "src" / "jobs" / "tock_step.py").is_file()


@pytest.mark.parametrize(
    "folder", ["lib", "handlers/orders", "steps/.drafts", "steps/node_modules/x", ".", "../x"]
)
def test_a_folder_motia_does_not_load_is_refused(tmp_path: Path, folder: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    result = CliRunner().invoke(
        cli,
        ["generate", "step", "-t", "cron", "-n", "Tick", "-d", str(project), "--folder", folder],
    )
    assert result.exit_code == 2, result.output
    assert "is not a folder Motia loads steps from" in result.output
    assert "steps/ or src/" in result.output
    assert not list(tmp_path.rglob("tick_step.py"))


def test_the_old_meaning_of_dir_is_caught_with_the_new_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-d steps/audit` used to name the step's folder; now it would be a project inside
    the project, so it is refused with the command that does what was meant."""
    (tmp_path / "config.yml").write_text("{}\n")
    (tmp_path / "steps" / "audit").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["generate", "step", "-t", "cron", "-n", "Tick", "-d", "steps/audit"]
    )
    assert result.exit_code == 2, result.output
    assert "-d/--dir is the project folder" in result.output
    assert "--folder steps/audit" in result.output
    assert not list(tmp_path.rglob("tick_step.py"))


def test_a_missing_project_folder_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = CliRunner().invoke(
        cli, ["generate", "step", "-t", "cron", "-n", "Tick", "-d", str(missing)]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output and "--folder" in result.output
    assert not missing.exists()
