"""The text artifacts render from templates/: one header per file written by the driver, a project
overriding a template by file name (inside its repository only), and the templates shipped in the wheel."""
from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from monspec.build import compile_specs
from monspec.errors import SpecError
from monspec.render import GENERATED

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "golden_specs"


def _project(tmp_path: Path, templates: str | None = None) -> Path:
    """A repository holding a copy of the fixture specs, with `project.templates` set when given."""
    (tmp_path / ".git").mkdir(parents=True)
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    if templates is not None:
        project = specs / "project.yaml"
        project.write_text(project.read_text() + f"  templates: {templates}\n")
    return specs


def test_yaml_and_markdown_files_open_with_the_one_header_json_with_none() -> None:
    files = compile_specs(FIXTURE).files
    for path, data in files.items():
        text = data.decode()
        if path.endswith((".yml", ".yaml")):
            assert text.startswith(f"# {GENERATED}\n"), path
        elif path.endswith(".md"):
            assert text.startswith(f"<!-- {GENERATED} -->\n\n# "), path
        else:
            assert path.endswith(".json") and GENERATED not in text, path
            continue
        assert text.count(GENERATED) == 1, path


def test_a_project_template_replaces_the_bundled_one_of_its_name(tmp_path: Path) -> None:
    specs = _project(tmp_path, "../runbook-templates")
    (tmp_path / "runbook-templates").mkdir()
    (tmp_path / "runbook-templates" / "alerts.md.j2").write_text(
        "# On call: {{ title }}\n{% for a in own %}\n## {{ a.name }}\n{{ a.expr }}\n{% endfor %}\n")
    project = specs / "project.yaml"
    project.write_text(project.read_text().replace("title: Shop API", "title: 'Shop {{ 7 * 7 }} API'"))
    files = compile_specs(specs).files
    default = compile_specs(FIXTURE).files
    runbook = files["docs/alerts.md"].decode()
    # The override is used, and a spec string holding template syntax is printed, not run.
    assert runbook.startswith(f"<!-- {GENERATED} -->\n\n# On call: Shop {{{{ 7 * 7 }}}} API\n## ErrorRatioCritical\n```promql\n")
    assert "**Troubleshooting:**" not in runbook
    assert files["alertmanager/alertmanager.yml"] == default["alertmanager/alertmanager.yml"]  # the others stay


@pytest.mark.parametrize("setting, message", [
    ("../../elsewhere", "`templates` folder '../../elsewhere' leaves the repository"),
    ("missing", "`templates` folder 'missing' does not exist"),
])
def test_a_templates_folder_outside_the_repository_or_missing_is_a_spec_error(tmp_path: Path, setting: str, message: str) -> None:
    specs = _project(tmp_path / "repo", setting)
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(SpecError) as exc:
        compile_specs(specs)
    [problem] = exc.value.problems
    line = (specs / "project.yaml").read_text().splitlines().index(f"  templates: {setting}") + 1
    assert problem.render().startswith(f"{specs / 'project.yaml'}:{line}:14: error: {message}")


def test_an_installed_wheel_holds_the_templates_and_writes_the_same_bytes(tmp_path: Path) -> None:
    """`pip wheel`, installed into a fresh venv (the dependencies borrowed from this one), then
    `monspec generate` there: byte for byte the committed generated/."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"), str(REPO)],
                   check=True, capture_output=True, timeout=600)
    [wheel] = (tmp_path / "dist").glob("monspec-*.whl")
    listing = subprocess.run([sys.executable, "-m", "zipfile", "-l", str(wheel)], capture_output=True, text=True, check=True).stdout
    for name in ("rules.yml.j2", "alertmanager.yml.j2", "alerts.md.j2"):
        assert f"monspec/templates/{name}" in listing
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], check=True, capture_output=True, timeout=300)
    out = tmp_path / "out"
    result = subprocess.run([venv / "bin" / "monspec", "generate", "--specs", str(REPO / "specs"), "--out", str(out)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    where = subprocess.run([python, "-c", "import monspec; print(monspec.__file__)"], capture_output=True, text=True, check=True)
    assert where.stdout.startswith(site)  # the wheel's monspec, not this checkout's
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(REPO / "generated").as_posix() for p in (REPO / "generated").rglob("*") if p.is_file())
    assert files == committed
    _, mismatch, errors = filecmp.cmpfiles(out, REPO / "generated", files, shallow=False)
    assert (mismatch, errors) == ([], [])
