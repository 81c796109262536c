"""Celery entry point: `celery -A {{ cookiecutter.package_name }}.worker worker` (and `... beat`).

As in `main.py`, error tracking starts before the tasks are imported.
"""

from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.observability import configure_logging, init_sentry

settings = get_settings()
init_sentry(settings.sentry_options())
configure_logging(json_lines=settings.logs_as_json, level=settings.log_level)

from {{ cookiecutter.package_name }}.core.task_queue import create_celery_app  # noqa: E402

app = create_celery_app(settings)
