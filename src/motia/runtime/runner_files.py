"""Step and stream files of other languages (TypeScript, JavaScript, Ruby) and a classic
`motia.config.ts`: their runner imports them and describes each one, and the described
configs go through the same checks as Python's. This is the runner pass the loader of
`motia.steps` takes (see `motia.steps.runner_pass`)."""

from __future__ import annotations

from pathlib import Path

from motia.errors import Problem
from motia.runners import npm
from motia.runners.describe import describe_files
from motia.runners.languages import LANGUAGES, RunnerLanguage
from motia.runners.process import RunnerFailed
from motia.runners.protocol import FileReport
from motia.runners.remote import RemoteCanAccess, RemoteHandler, RemoteStreamAuth
from motia.steps.languages import language_of
from motia.steps.load_support import relative
from motia.steps.model import LoadedProject
from motia.steps.project_config import CONFIG_NAMES, check_project_config
from motia.steps.step_checks import build_step
from motia.steps.stream_files import build_stream
from motia.steps.triggers import expand_v1_step, is_v1_config


def describe_runner_files(
    project_dir: Path, files: dict[str, list[Path]], project: LoadedProject
) -> None:
    """The runner pass: each runner's files, runner by runner."""
    for runner, paths in files.items():
        load_runner_files(project_dir, LANGUAGES[runner], paths, project)


def load_runner_files(
    project_dir: Path, language: RunnerLanguage, paths: list[Path], project: LoadedProject
) -> None:
    """Steps and streams in another language: a runner reads their configs, which then
    go through the same validation as Python steps."""
    report = project.problems.append
    names = ", ".join(str(relative(project_dir, p)) for p in paths)
    binary = language.binary_path()
    if binary is None:
        # A Python project's motia.config.ts (classic projects all had one) is worth a
        # warning, not a refusal to start.
        config_only = all(path.name in CONFIG_NAMES for path in paths)
        report(
            Problem(
                f"`{language.binary}` was not found, and these files need the "
                f"{language.label} runner: {names}" + ("; it is not read" if config_only else ""),
                hint=language.install_hint,
                severity="warning" if config_only else "error",
            )
        )
        return
    missing: list[str] = []
    if language.name == "node":
        classic, missing = npm.classic_and_other_missing(project_dir)
        if classic is not None:
            report(classic)
    try:
        reports = describe_files(language, binary, project_dir, paths)
    except RunnerFailed as exc:
        report(Problem(f"the {language.label} runner failed while loading {names}: {exc}"))
        return
    loaded: list[str] = []
    for path, file_report in zip(paths, reports, strict=False):
        rel = relative(project_dir, path)
        if file_report.error is not None:
            report(_load_error(rel, file_report, missing, project_dir))
            continue
        if file_report.kind == "config":
            authenticates = check_project_config(rel, file_report.config or {}, report)
            project.authenticate = (
                RemoteStreamAuth(language.name, str(path)) if authenticates else None
            )
            if project.authenticate is not None:
                loaded.append(str(path))
            continue
        if file_report.kind == "stream":
            can_access = (
                RemoteCanAccess(language.name, str(path))
                if "canAccess" in file_report.functions
                else None
            )
            stream = build_stream(path, rel, file_report.config, report, can_access)
            if stream is not None:
                project.streams.append(stream)
                loaded.append(str(path))
            continue
        config = file_report.config or {}
        step_type = config.get("type")
        handler = (
            RemoteHandler(language.name, str(path), str(step_type), str(config.get("name")))
            if file_report.handler
            else None
        )
        language_name = language_of(path).name
        if is_v1_config(config) and language.name != "node":
            report(
                Problem(
                    f"the 1.0 step form (triggers) is for Python, JavaScript and TypeScript "
                    f"steps; this {language.label} step cannot use it yet",
                    file=rel,
                    step=str(config.get("name")),
                    field="triggers",
                    hint="write it in the classic form: type 'api' | 'event' | 'cron'",
                )
            )
            continue
        if is_v1_config(config):
            steps = expand_v1_step(
                path, rel, config, handler, report, build_step, language_name, file_report.functions
            )
            project.steps += steps
            if steps:
                loaded.append(str(path))
            continue
        step = build_step(path, rel, file_report.config, handler, report, language_name)
        if step is not None:
            project.steps.append(step)
            loaded.append(str(path))
    if loaded:
        project.runner_files[language.name] = loaded
        project.runner_binaries[language.name] = binary


def _load_error(
    rel: Path, file_report: FileReport, missing: list[str], project_dir: Path
) -> Problem:
    error = file_report.error
    assert error is not None
    not_installed = npm.not_installed_problem(rel, error, missing, project_dir)
    if not_installed is not None:
        return not_installed
    # The first frames of the stack say where; the message says what.
    frames = error.stack.strip().splitlines()[1:3] if error.stack else []
    return Problem(
        f"could not be loaded: {error.message}",
        file=rel,
        line=error.line,
        hint=("at " + " | ".join(f.strip() for f in frames)) if frames else None,
    )
