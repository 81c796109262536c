"""Load the template's hooks as modules, or render and run them as cookiecutter does."""

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from cookiecutter.environment import StrictEnvironment
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from harness.baking import TEMPLATE_DIR


def template_options() -> dict:
    """cookiecutter.json as cookiecutter reads it, private keys included."""
    context = generate_context(context_file=str(TEMPLATE_DIR / "cookiecutter.json"))
    return dict(context["cookiecutter"])


def offered_options() -> dict:
    """What cookiecutter gives hooks as `_cookiecutter`: each option with its list of choices."""
    return {name: value for name, value in template_options().items() if not name.startswith("_")}


def default_answers() -> dict:
    """The answers `--no-input` gives, rendered by cookiecutter itself."""
    return dict(prompt_for_config({"cookiecutter": template_options()}, no_input=True))


def load_hook(name: str) -> ModuleType:
    """Import a hook unrendered: its Jinja lives in a string, so its functions are usable."""
    spec = importlib.util.spec_from_file_location(name, TEMPLATE_DIR / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_rendered_hook(name: str, answers: dict, cwd: Path) -> subprocess.CompletedProcess:
    """Render a hook with `answers` the way cookiecutter does and run it in `cwd`."""
    source = (TEMPLATE_DIR / "hooks" / f"{name}.py").read_text()
    context = {"cookiecutter": answers, "_cookiecutter": offered_options()}
    rendered = StrictEnvironment(context=context).from_string(source).render(**context)
    with tempfile.TemporaryDirectory() as scripts:
        script = Path(scripts) / f"{name}.py"
        script.write_text(rendered)
        return subprocess.run(
            [sys.executable, str(script)],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
