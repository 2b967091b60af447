"""A Ruby step in the 1.0 form is refused at load with a clear problem (the Ruby runner
has no conditions yet); its classic form still loads."""

from __future__ import annotations

from pathlib import Path

from motia.runtime.loading import load_project
from tests.conftest import write_project
from tests.runners.support import require


def test_a_ruby_step_in_the_1_0_form_is_a_clear_error(tmp_path: Path) -> None:
    require("ruby")
    write_project(
        tmp_path,
        {
            "steps/tick_step.rb": """
                def config
                  { name: 'RubyTick', triggers: [{ type: 'cron', expression: '* * * * *' }] }
                end

                def handler(input, context); end
            """,
        },
    )
    project = load_project(tmp_path)
    [problem] = project.errors
    assert (str(problem.file), problem.step, problem.field) == (
        "steps/tick_step.rb",
        "RubyTick",
        "triggers",
    )
    assert "1.0 step form" in problem.message and "Ruby" in problem.message
