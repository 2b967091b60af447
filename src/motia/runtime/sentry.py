"""Error tracking with Sentry: handler failures, dead letters and 500 answers become Sentry
events tagged with the step, trace id, topic and attempt.

Imported only when `sentry.dsn` (`SENTRY_DSN`) is set. The SDK reads `SENTRY_ENVIRONMENT`
and `SENTRY_RELEASE` itself. Reports carry no request data unless `sentry.requestBodies`
asks for the body, and every event passes through the log redaction list before it is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from motia.errors import SettingsError
from motia.runtime.hooks import Run, RunHooks

if TYPE_CHECKING:
    from motia.adapters.queue.base import Failure
    from motia.redaction import Redactor
    from motia.settings.model import Settings
    from motia.steps.model import Step

INSTALL_HINT = "pip install 'motia-python[sentry]'"
# On stop, how long queued reports may take to reach Sentry.
FLUSH_SECONDS = 2.0


class SentryReporter(RunHooks):
    def __init__(self, settings: Settings, redactor: Redactor | None) -> None:
        try:
            import sentry_sdk
        except ImportError as exc:
            raise SettingsError(
                f"sentry.dsn (SENTRY_DSN) is set but the Sentry SDK is not installed: "
                f"{INSTALL_HINT}"
            ) from exc
        self._sdk = sentry_sdk
        self._redactor = redactor
        self._request_bodies = settings.sentry_request_bodies
        try:
            sentry_sdk.init(
                dsn=settings.sentry_dsn,
                # Only what Motia hands over: no framework integrations that read requests,
                # no local variables of the failing frames, no user data.
                default_integrations=False,
                auto_enabling_integrations=False,
                send_default_pii=False,
                include_local_variables=False,
                max_request_body_size="never",
                before_send=self._scrub,
                shutdown_timeout=FLUSH_SECONDS,
            )
        except Exception as exc:  # BadDsn, and whatever else the SDK refuses
            raise SettingsError(
                f"sentry.dsn (SENTRY_DSN) is not a valid Sentry DSN: {exc}; it looks like "
                "https://<key>@<host>/<project id>"
            ) from exc

    def run_failed(self, run: Run, error: BaseException) -> None:
        self._sdk.capture_exception(error, tags=_tags(run))

    def run_dead_lettered(self, run: Run, failure: Failure) -> None:
        self._sdk.capture_message(
            f"{run.step.name}: event moved to the dead-letter queue ({failure.reason}): "
            f"{failure.error}",
            level="error",
            tags={**_tags(run), "dead_letter": "true"},
            extras={"stack": failure.stack} if failure.stack else None,
            fingerprint=["motia-dead-letter", run.step.name, failure.reason],
        )

    def request_failed(
        self,
        step: Step | None,
        trace_id: str,
        error: BaseException,
        status: int,
        request: dict[str, Any] | None = None,
    ) -> None:
        """An API request answered 5xx: its handler (or Motia itself) raised `error`."""
        tags = {"kind": "api", "trace_id": trace_id, "http_status": str(status)}
        if step is not None:
            tags["step"] = step.name
        if request is None:
            self._sdk.capture_exception(error, tags=tags)
            return
        details: dict[str, Any] = {"method": request["method"], "url": request["path"]}
        if self._request_bodies and request.get("body") is not None:
            body = request["body"]
            dump = getattr(body, "model_dump", None)  # a typed body: its JSON form
            # Secret keys are masked by `_scrub`, as in every event.
            details["data"] = dump(mode="json") if callable(dump) else body
        with self._sdk.new_scope() as scope:
            scope.add_event_processor(lambda event, hint: {**event, "request": details})
            self._sdk.capture_exception(error, tags=tags)

    def flush(self) -> None:
        self._sdk.flush(timeout=FLUSH_SECONDS)

    def _scrub(self, event: Any, hint: Any) -> Any:
        return event if self._redactor is None else self._redactor.mask(event)


def _tags(run: Run) -> dict[str, str]:
    tags = {
        "step": run.step.name,
        "kind": run.kind,
        "trace_id": run.trace_id,
        "attempt": str(run.attempt),
    }
    if run.kind == "event":
        tags["topic"] = run.trigger.removeprefix("topic ")  # an event run's trigger
    return tags
