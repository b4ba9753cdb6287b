"""The scaling benchmark's synthetic spec sets compile: when a spec feature lands that the copies do
not rename (an SLO, a parent alert, an inhibit matcher), `make bench` would measure a failing run."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from benchmarks.synthetic import write_specs

from monspec.build import compile_specs
from monspec.spec import load_specs


def test_two_copies_compile_without_errors_and_double_every_section(tmp_path: Path) -> None:
    one = compile_specs(write_specs(tmp_path / "x1", 1))
    two = compile_specs(write_specs(tmp_path / "x2", 2))
    assert [p.render() for p in two.problems if p.severity == "error"] == []
    assert Counter(p.id for p in two.problems) == Counter({i: 2 * n for i, n in Counter(p.id for p in one.problems).items()})
    specs = load_specs(tmp_path / "x2"), load_specs(tmp_path / "x1")
    for section in ("kpis", "alerts", "slos", "dashboards"):
        assert len(getattr(specs[0], section)) == 2 * len(getattr(specs[1], section)) > 0, section
    assert len(two.model.all_alert_rules) > 1.9 * len(one.model.all_alert_rules)


def test_copies_as_components_compile_each_with_its_own_job_and_absence_alerts(tmp_path: Path) -> None:
    build = compile_specs(write_specs(tmp_path / "c2", 2, components=True))
    assert [p.render() for p in build.problems if p.severity == "error"] == []
    assert sorted(build.specs.project.scrape_jobs) == ["s0", "s1"]
    absence = sorted(a.name for a in build.model.all_alert_rules if a.origin == "absence")
    assert absence == ["UnifiedCacheS0TargetDown", "UnifiedCacheS0TargetMissing",
                       "UnifiedCacheS1TargetDown", "UnifiedCacheS1TargetMissing"]
    rules = build.files["prometheus/rules.yml"].decode()
    assert 'rate(s1_unified_cache_operations_total{job="svc-1", cache_level="l1"}[5m])' in rules  # its job's selector
