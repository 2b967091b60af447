"""The ASGI app and everything it serves.

`from motia import http` in a step file means the 1.0 trigger helper, but once this package
is imported `motia.http` names it; so the package itself is callable and makes the trigger
(`http("POST", "/orders")`), the same as `motia.steps.trigger_helpers.http`.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from motia.steps.trigger_helpers import http

        return http(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
