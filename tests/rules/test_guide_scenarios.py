"""The hand-written promtool tests of the guide's scenarios, run with the real promtool against
the rules.yml generated from specs/."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).parent


def test_guide_scenarios_pass(promtool: str, generated: Path, tmp_path: Path) -> None:
    shutil.copy(generated / "prometheus" / "rules.yml", tmp_path / "rules.yml")
    shutil.copy(HERE / "guide_scenarios_test.yml", tmp_path / "guide_scenarios_test.yml")
    result = subprocess.run([promtool, "test", "rules", "guide_scenarios_test.yml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_guide_scenarios_catch_a_broken_cluster_rule(promtool: str, generated: Path, tmp_path: Path) -> None:
    """The guide wrote `master == 0 AND replica == 0` without matching; with `or` instead of `and`
    the cluster alert would page for a lone master failure, and the scenario tests say so."""
    rules = (generated / "prometheus" / "rules.yml").read_text()
    broken = rules.replace("unified_redis_master_connected == 0\n          and on (job, instance)",
                           "unified_redis_master_connected == 0\n          or on (job, instance)")
    assert broken != rules
    (tmp_path / "rules.yml").write_text(broken)
    shutil.copy(HERE / "guide_scenarios_test.yml", tmp_path / "guide_scenarios_test.yml")
    result = subprocess.run([promtool, "test", "rules", "guide_scenarios_test.yml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "alertname: RedisClusterDown" in result.stdout + result.stderr
