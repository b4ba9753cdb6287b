"""The Jinja environment of the text artifacts: rules.yml, alertmanager.yml and the runbook (alerts.md).

The templates are the repository's top-level `templates/` folder, shipped inside the package as
`monspec/templates` (a link in src/ to that folder; the wheel holds the files), so an installed
wheel renders what a checkout does. A project overrides any of them by file name with its own folder (`project.templates`,
relative to the specs folder, inside the repository). Spec strings enter templates only as
values, through the `yaml` / `key` filters (and the runbook's escaped fields), never as template code.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from monspec.errors import SpecError
from monspec.render import yamltext
from monspec.spec import SpecSet


@lru_cache(maxsize=8)
def environment(override: Path | None = None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(override)] if override is not None else []
    loaders.append(jinja2.PackageLoader("monspec", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yaml"] = lambda value, indent=0: yamltext.scalar(value, indent)
    env.filters["key"] = yamltext.key
    env.filters["yaml_data"] = lambda value, indent=0: yamltext.emit(value, indent)
    return env


def template_folder(specs: SpecSet) -> Path | None:
    """The project's own templates folder; a spec error when it leaves the repository or is no folder."""
    setting = specs.project.templates
    if setting is None:
        return None
    root = Path(specs.root).resolve()
    folder = (root / setting).resolve()
    # The repository: the nearest folder holding .git; without one, the folder holding the specs.
    repository = next((p for p in (root, *root.parents) if (p / ".git").exists()), root.parent)
    if folder != repository and repository not in folder.parents:
        raise SpecError([specs.project.problem(
            "spec/invalid", f"`templates` folder {setting!r} leaves the repository", "templates",
            hint="keep the project's templates inside its repository, e.g. next to the specs")])
    if not folder.is_dir():
        raise SpecError([specs.project.problem("spec/invalid", f"`templates` folder {setting!r} does not exist",
                                               "templates")])
    return folder


def render_template(specs: SpecSet, name: str, **context) -> str:
    return environment(template_folder(specs)).get_template(name).render(**context)
