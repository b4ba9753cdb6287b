"""The library's exposition against specs/catalog.yaml, in both directions.

Names, types, label names and allowed label values must match exactly; the histogram uses
exactly the catalog's buckets; the library's constants equal the catalog's.
"""
from __future__ import annotations

import hashlib

import pytest
import yaml
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from ucm_helpers import REPO, ops, run, sample

from unified_cache import metrics as M
from unified_cache.l2 import COMMAND_ERROR_KINDS

SPEC_CATALOG = yaml.safe_load((REPO / "specs" / "catalog.yaml").read_text())["metrics"]

CATALOG = SPEC_CATALOG


def families(registry) -> dict:
    text = generate_latest(registry).decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def exposed_name(name: str, kind: str) -> str:
    # the parser names counter families without their _total suffix
    return name[: -len("_total")] if kind == "counter" and name.endswith("_total") else name


def check_against_catalog(registry) -> None:
    fams = families(registry)
    expected = {exposed_name(n, m["type"]): (n, m) for n, m in CATALOG.items()}
    assert sorted(fams) == sorted(expected), "exposition and catalog differ"
    for fam_name, fam in fams.items():
        name, spec = expected[fam_name]
        assert fam.type == spec["type"], name
        allowed = spec.get("labels") or {}
        for s in fam.samples:
            labels = {k: v for k, v in s.labels.items() if k not in ("le",)}
            assert set(labels) == set(allowed), (name, s)
            for label, value in labels.items():
                if allowed[label] != "any":
                    assert value in allowed[label], (name, label, value)
            if spec["type"] == "histogram" and s.name.endswith("_bucket"):
                assert s.labels["le"] in {"+Inf"} | {repr(float(b)) for b in spec["buckets"]}


def test_constants_equal_the_catalog():
    ops_spec = CATALOG["unified_cache_operations_total"]["labels"]
    assert list(M.CACHE_LEVELS) == ops_spec["cache_level"]
    assert list(M.STATUSES) == ops_spec["status"]
    assert list(M.REDIS_ROLES) == CATALOG["unified_redis_connection_errors_total"]["labels"]["role"]
    assert list(COMMAND_ERROR_KINDS) == CATALOG["unified_redis_command_errors_total"]["labels"]["kind"]
    assert list(M.DURATION_BUCKETS) == CATALOG["unified_cache_operation_duration_seconds"]["buckets"]
    assert "top 20" in CATALOG["unified_cache_key_access_frequency"]["help"] and M.KEY_FREQUENCY_TOP_N == 20


def test_fresh_registry_exposition_matches_catalog_and_series_start_at_zero(make_config, redis_pair, make_manager, registry):
    async def body():
        async with make_manager(make_config(*redis_pair)) as m:
            await m.set_cached("a", 1)
            await m.get_cached("a")  # gives the key-frequency family one series
            check_against_catalog(registry)
            fams = families(registry)
            # every labelled series exists before its first event
            for level in M.CACHE_LEVELS:
                for status in M.STATUSES:
                    assert registry.get_sample_value(
                        "unified_cache_operations_total", {"cache_level": level, "status": status}
                    ) is not None
                assert registry.get_sample_value(
                    "unified_cache_operation_duration_seconds_count", {"cache_level": level}
                ) is not None
            for role in M.REDIS_ROLES:
                assert sample(registry, "unified_redis_connection_errors_total", role=role) == 0
            buckets = [s.labels["le"] for s in fams["unified_cache_operation_duration_seconds"].samples
                       if s.name.endswith("_bucket") and s.labels["cache_level"] == "l1"]
            assert buckets == [repr(float(b)) for b in CATALOG["unified_cache_operation_duration_seconds"]["buckets"]] + ["+Inf"]
            assert not any(s.name.endswith("_created") for f in fams.values() for s in f.samples)

    run(body())


def test_catalog_semantics_of_each_level(make_config, redis_pair, make_manager, registry):
    async def body():
        async with make_manager(make_config(*redis_pair)) as m:
            await m.get_cached("absent")  # l1 miss, l2 miss, l3 miss
            await m.set_cached("k", "v")
            await m.get_cached("k")  # l1 hit
            m.l1.clear()
            await m.get_cached("k")  # l1 miss, l2 hit
            got = {(lvl, st): ops(registry, lvl, st) for lvl in M.CACHE_LEVELS for st in M.STATUSES}
            assert got == {("l1", "hit"): 1, ("l1", "miss"): 2, ("l2", "hit"): 1, ("l2", "miss"): 1,
                           ("l3", "hit"): 0, ("l3", "miss"): 1, ("l1", "error"): 0, ("l2", "error"): 0,
                           ("l3", "error"): 0}
            count = lambda lvl: sample(registry, "unified_cache_operation_duration_seconds_count", cache_level=lvl)
            assert (count("l1"), count("l2"), count("l3")) == (3, 2, 1)
            assert sample(registry, "unified_redis_master_connected") == 1
            assert sample(registry, "unified_redis_replica_connected") == 1
            assert sample(registry, "unified_database_connections_active") == 0
            assert sample(registry, "unified_database_pool_utilization") == 0

    run(body())


def test_key_frequency_keeps_only_the_top_20_hashed_by_default(make_config, redis_pair, make_manager, registry):
    async def body():
        async with make_manager(make_config(*redis_pair)) as m:
            for i in range(30):
                for _ in range(i + 1):
                    await m.get_cached(f"key{i}")
            series = {s.labels["key"]: s.value for s in families(registry)["unified_cache_key_access_frequency"].samples}
            assert series == {M.key_label(f"key{i}", "hashed"): i + 1 for i in range(10, 30)}
            assert M.key_label("key0", "hashed") == "sha256:" + hashlib.sha256(b"key0").hexdigest()[:16]
            for _ in range(50):  # key0 climbs into the top 20; key10 drops out
                await m.get_cached("key0")
            series = {s.labels["key"]: s.value for s in families(registry)["unified_cache_key_access_frequency"].samples}
            assert len(series) == 20 and series[M.key_label("key0", "hashed")] == 51
            assert M.key_label("key10", "hashed") not in series

    run(body())


@pytest.mark.parametrize("mode, expected", [("plain", {"secret:1": 2}), ("off", {})])
def test_key_labels_plain_is_opt_in_and_off_exports_nothing(make_config, redis_pair, make_manager, registry, mode, expected):
    async def body():
        async with make_manager(make_config(*redis_pair, key_frequency_labels=mode)) as m:
            await m.get_cached("secret:1")
            await m.get_cached("secret:1")
            fam = families(registry)["unified_cache_key_access_frequency"]
            assert {s.labels["key"]: s.value for s in fam.samples} == expected

    run(body())


def test_no_replica_configured_exports_no_replica_series(make_config, redis_pair, make_manager, registry):
    async def body():
        async with make_manager(make_config(redis_pair[0])) as m:
            await m.get_cached("x")
            assert registry.get_sample_value("unified_redis_replica_connected") is None
            assert sample(registry, "unified_redis_master_connected") == 1
            assert m.health_status == "healthy"

    run(body())


def test_global_registry_exposition_matches_catalog(make_config, redis_pair):
    """The default registry (what `ucm demo` serves) carries the standard collectors itself."""
    from unified_cache import ManagerMode, UnifiedConnectionManager

    async def body():
        async with UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, config=make_config(*redis_pair)) as m:
            await m.get_cached("x")
            names = set(families(REGISTRY))
            catalog = {exposed_name(n, s["type"]) for n, s in CATALOG.items()}
            assert catalog <= names
            # other code in this process may own other families; ours and the standard ones are exact
            ours = {n for n in names if n.startswith(("unified_", "process_", "python_"))}
            assert ours == catalog

    run(body())
