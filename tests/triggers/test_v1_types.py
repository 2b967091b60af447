"""`types.d.ts` for 1.0-form steps: the trigger types, helpers and ctx additions, and one
`Handlers` entry per 1.0 step; `tsc` accepts correct steps and rejects wrong ones."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from motia.runtime.loading import load_project
from motia.typegen import render_types
from tests.conftest import write_project
from tests.tooling.test_generate_types import TS_PROJECT, tsc
from tests.tools import npm_install, require

V1_STEP = """\
import { http, queue, state, Handlers, StateChange } from 'motia'
import { z } from 'zod'

export const config = {
  name: 'Triage',
  flows: ['triage'],
  triggers: [
    http('POST', '/triage', { bodySchema: z.object({ level: z.number() }) }),
    queue('triage.requested', { input: z.object({ level: z.number() }),
      condition: (input: { level: number }) => input.level > 1 }),
    state({ group: 'triage', condition: (change: StateChange) => change.type === 'set' }),
    { type: 'cron', expression: '0 0 * * * *' },
  ],
  enqueues: ['triage.requested'],
} as const

export const handler: Handlers['Triage'] = async (input, ctx) => {
  if (ctx.isApi()) {
    await ctx.enqueue({ topic: 'triage.requested', data: { level: 1 } })
    return { status: 202, body: {} }
  }
  const count = await ctx.state.update<{ n: number }>('t', 'k', [
    { type: 'increment', path: 'n', by: 1 },
  ])
  const groups: string[] = await ctx.state.listGroups()
  return ctx.match({
    queue: (data) => data,
    state: (change) => change.new_value,
    default: () => [count.n, groups.length, ctx.trigger?.type],
  })
}
"""

WRONG = """\
import { Handlers, StateChange } from 'motia'

export const wrongEnqueue: Handlers['Triage'] = async (_input, ctx) => {
  await ctx.enqueue({ topic: 'nobody.listens', data: { level: 1 } })
}
export const wrongChangeField = (change: StateChange) => change.newValue
"""


@pytest.fixture
def ts_project(tmp_path: Path) -> Path:
    require("npx")
    fixture = npm_install(TS_PROJECT)
    copy = tmp_path / "ts_project"
    shutil.copytree(fixture, copy, ignore=shutil.ignore_patterns("node_modules", "types.d.ts"))
    (copy / "node_modules").symlink_to(fixture / "node_modules", target_is_directory=True)
    write_project(copy, {"steps/triage/triage.step.ts": V1_STEP})
    project = load_project(copy)
    assert not project.errors, [str(p) for p in project.errors]
    (copy / "types.d.ts").write_text(render_types(copy, project))
    return copy


def test_the_handlers_entry_of_a_1_0_step_unites_its_triggers_inputs(ts_project: Path) -> None:
    text = (ts_project / "types.d.ts").read_text()
    entry = text[text.index("'Triage': StepHandler<") :]
    entry = entry[: entry.index(">;")]
    for part in ("ApiRequest<{", "level: number", "StateChange", "undefined"):
        assert part in entry
    assert "topic: 'triage.requested'" in entry
    assert "export function http(" in text and "export interface TriggeredStepConfig" in text


def test_tsc_accepts_a_1_0_step_and_rejects_wrong_uses(ts_project: Path) -> None:
    result = tsc(ts_project)
    assert result.returncode == 0, result.stdout + result.stderr
    (ts_project / "steps" / "wrong.ts").write_text(WRONG)
    result = tsc(ts_project)
    output = result.stdout + result.stderr
    errors = {
        int(m.group(1)): m.group(2)
        for m in re.finditer(r"^steps/wrong\.ts\((\d+),\d+\): error (.*)$", output, re.M)
    }
    assert sorted(errors) == [4, 6], output
    assert "nobody.listens" in errors[4]
    assert "newValue" in errors[6]
