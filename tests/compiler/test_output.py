"""Properties of the output as a whole: fresh, deterministic, accepted by the real promtool,
and the PrometheusRule carrying exactly rules.yml's groups."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from monspec.build import compile_specs
from monspec.output import MANIFEST, read_tree, write_tree
from support.processes import require_program

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "golden_specs"


def test_committed_output_is_fresh() -> None:
    result = subprocess.run([sys.executable, "-m", "monspec.cli", "check"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("generated/ is up to date")


def test_check_reports_a_stale_file_with_a_diff(tmp_path: Path) -> None:
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "monspec.cli", "generate", "--specs", str(FIXTURE), "--out", str(out)],
                   check=True, capture_output=True)
    rules = out / "prometheus" / "rules.yml"
    rules.write_text(rules.read_text().replace("for: 2m", "for: 4m"))
    (out / "stray.txt").write_text("left over\n")
    result = subprocess.run([sys.executable, "-m", "monspec.cli", "check", "--specs", str(FIXTURE), "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "-        for: 4m" in lines and "+        for: 2m" in lines
    assert f"not produced by the specs: {out}/stray.txt" in lines
    assert lines[-1] == f"{out}/ is stale: run `monspec generate` (or `make generate`) and commit the result"


def test_generate_removes_files_it_no_longer_produces(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, {"a.yml": b"a\n", "old/b.json": b"{}\n"})
    write_tree(out, {"a.yml": b"a2\n"})
    assert read_tree(out) == {"a.yml": b"a2\n"}
    assert (out / MANIFEST).read_text().splitlines()[1:] == ["a.yml"]


def test_an_unchanged_file_is_kept_as_it_was_and_a_changed_one_written_anew(tmp_path: Path) -> None:
    """Grafana's and Prometheus' file watchers reload what a regenerate changed, nothing else: an
    unchanged file keeps its inode and mtime. A file with a second name (a user's hard-linked
    copy) is written anew, so the copy never follows the output."""
    out = tmp_path / "out"
    write_tree(out, {"same.yml": b"a\n", "changed.yml": b"b\n", "linked.yml": b"c\n"})
    os.link(out / "linked.yml", tmp_path / "copy.yml")
    before = {name: os.stat(out / name) for name in ("same.yml", "changed.yml", "linked.yml")}
    os.utime(out / "same.yml", ns=(10**18, 10**18))
    write_tree(out, {"same.yml": b"a\n", "changed.yml": b"B\n", "linked.yml": b"c\n"})
    after = {name: os.stat(out / name) for name in before}
    assert after["same.yml"].st_ino == before["same.yml"].st_ino and after["same.yml"].st_mtime_ns == 10**18
    assert after["same.yml"].st_nlink == 1  # the old tree's name for it is gone
    assert after["changed.yml"].st_ino != before["changed.yml"].st_ino
    assert after["linked.yml"].st_ino != before["linked.yml"].st_ino and os.stat(tmp_path / "copy.yml").st_nlink == 1
    assert read_tree(out) == {"same.yml": b"a\n", "changed.yml": b"B\n", "linked.yml": b"c\n"}


def test_two_fresh_processes_write_the_same_bytes(tmp_path: Path) -> None:
    trees = []
    for i, seed in enumerate(("1", "2")):
        out = tmp_path / f"out{i}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "monspec.cli", "generate", "--specs", str(REPO / "specs"), "--out", str(out)],
                       check=True, capture_output=True, env=env)
        trees.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert trees[0] == trees[1]
    assert len(trees[0]) >= 3


@pytest.mark.parametrize("specs_dir", [REPO / "specs", FIXTURE], ids=["bundled", "fixture"])
def test_promtool_accepts_rules_and_config(specs_dir: Path, tmp_path: Path) -> None:
    promtool = require_program("promtool")
    build = compile_specs(specs_dir)
    for rel, data in build.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    rules = subprocess.run([promtool, "check", "rules", str(tmp_path / "prometheus" / "rules.yml")], capture_output=True, text=True)
    assert rules.returncode == 0, rules.stdout + rules.stderr
    count = len([r for g in yaml.safe_load(build.files["prometheus/rules.yml"])["groups"] for r in g["rules"]])
    assert f"SUCCESS: {count} rules found" in rules.stdout
    config = subprocess.run([promtool, "check", "config", str(tmp_path / "prometheus" / "prometheus.yml")],
                            capture_output=True, text=True)
    assert config.returncode == 0, config.stdout + config.stderr


def test_prometheusrule_has_exactly_the_groups_of_rules_yml() -> None:
    build = compile_specs(REPO / "specs")
    rules = yaml.safe_load(build.files["prometheus/rules.yml"])
    manifest = yaml.safe_load(build.files["kubernetes/prometheusrule.yaml"])
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert manifest["kind"] == "PrometheusRule"
    assert manifest["metadata"]["name"] == "unified-cache"
    assert manifest["spec"] == rules


def test_prometheus_config_scrapes_the_job_and_loads_the_rules() -> None:
    build = compile_specs(REPO / "specs")
    config = yaml.safe_load(build.files["prometheus/prometheus.yml"])
    assert config["rule_files"] == ["rules.yml"]
    assert config["scrape_configs"] == [{"job_name": "unified-cache", "metrics_path": "/metrics",
                                         "static_configs": [{"targets": ["127.0.0.1:8000"]}]}]
    assert config["global"] == {"scrape_interval": "15s", "evaluation_interval": "30s"}
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]
