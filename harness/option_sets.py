"""The answer sets every baked-project test runs against: one line per supported set."""

OPTION_SETS = {
    "default": {},
    "postgresql": {"database": "postgresql"},
    "celery": {"database": "postgresql", "task_queue": "celery"},
    "python313": {"python_version": "3.13", "docker": "no", "ci": "none"},
}
