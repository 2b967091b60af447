"""The multi-process fixtures of the Redis tests, for `--workers` metrics."""

from tests.redis.conftest import _bounded_in_time, redis_env, redis_prefix, servers  # noqa: F401
