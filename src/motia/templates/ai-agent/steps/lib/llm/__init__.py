"""Model providers: the interface (`provider`), an OpenAI-compatible HTTP client, the
offline one used by default, the choice between them (`choose`), and the retries and
circuit breaker around every call (`resilience`)."""
