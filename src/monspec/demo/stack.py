"""The demo stack: every program on a free loopback port, all state under one work folder.

`Stack.plan` writes the derived configs and decides ports and command lines; `start` runs
the programs in dependency order and records them in `demo.json` in the work folder, which
is all that `stop` and the faults need later, from any process. Nothing is written outside
the work folder: Redis gets `--dir` there and no snapshots, Prometheus and Alertmanager
keep their data there, each program runs with the folder as its working directory.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from monspec.demo.configs import alertmanager_config, prometheus_config
from monspec.demo.processes import Program, free_ports, redis_info, wait_until
from monspec.errors import MonspecError

STATE = "demo.json"
NOTIFICATIONS = "notifications.jsonl"
# Start order; stopped in reverse. Prometheus last, so its first scrape finds everything up.
ORDER = ("receiver", "redis-master", "redis-replica", "cache-a", "cache-b", "alertmanager", "prometheus")
CACHES = ("cache-a", "cache-b")


def default_workdir() -> Path:
    return Path(tempfile.gettempdir()) / f"monspec-demo-{os.getuid()}"


@dataclass
class Workload:
    """What each `ucm demo` instance runs: a working set that fits its L1 (70-90 % full when warm)."""

    keys: int = 800
    l1_size: int = 1000
    rate: float = 300.0
    health_interval: float | None = None  # None: the library's default (5 s)
    env: dict[str, str] = field(default_factory=dict)  # more UCM_* settings for both instances
    warming_interval: float | None = 60.0  # the guide's high-traffic mode


def _program(name: str, *candidates: str) -> str:
    for path in (shutil.which(name), *candidates):
        if path and os.access(path, os.X_OK):
            return path
    raise MonspecError(f"`{name}` is not installed: run scripts/install-programs.sh (Debian packages prometheus, "
                       "prometheus-alertmanager, redis-server)")


def grafana_provisioning(folder: Path, generated: Path, prometheus_url: str) -> None:
    """A provisioning folder for a Grafana you have: a data source for the demo's Prometheus and
    the generated dashboards provider, pointed at the generated dashboards where they are."""
    import yaml

    (folder / "datasources").mkdir(parents=True, exist_ok=True)
    (folder / "dashboards").mkdir(parents=True, exist_ok=True)
    datasource = {"apiVersion": 1, "datasources": [{"name": "Prometheus", "type": "prometheus", "access": "proxy",
                                                    "url": prometheus_url, "isDefault": True}]}
    (folder / "datasources" / "monspec-demo.yaml").write_text(yaml.safe_dump(datasource, sort_keys=False))
    providers = yaml.safe_load((generated / "grafana" / "provisioning" / "dashboards.yaml").read_text())
    for provider in providers.get("providers", []):
        provider.setdefault("options", {})["path"] = str(generated / "grafana" / "dashboards")
    (folder / "dashboards" / "monspec-demo.yaml").write_text(yaml.safe_dump(providers, sort_keys=False))


class Stack:
    def __init__(self, workdir: Path, programs: dict[str, Program], ports: dict[str, int]):
        self.workdir = workdir
        self.programs = programs
        self.ports = ports

    # --- where things are -----------------------------------------------------------------

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def prometheus_url(self) -> str:
        return self.url("prometheus")

    @property
    def alertmanager_url(self) -> str:
        return self.url("alertmanager")

    def target(self, cache: str) -> str:
        return f"127.0.0.1:{self.ports[cache]}"

    @property
    def notifications(self) -> Path:
        return self.workdir / NOTIFICATIONS

    # --- plan, start, stop ------------------------------------------------------------------

    @classmethod
    def plan(cls, workdir: Path, generated: Path, workload: Workload | None = None,
             adjust: Callable[[str, str], str] | None = None) -> Stack:
        """Ports, command lines and derived configs; `adjust(file name, text)` may rewrite a config
        (the live tests compress time this way)."""
        workload = workload or Workload()
        workdir = workdir.resolve()
        generated = generated.resolve()
        running = [p.name for p in cls._recorded(workdir) if p.running]
        if running:
            raise MonspecError(f"a demo is already running in {workdir} ({', '.join(running)}): stop it first "
                               f"(`monspec demo stop --workdir {workdir}`)")
        workdir.mkdir(parents=True, exist_ok=True)
        adjust = adjust or (lambda _name, text: text)
        names = (*ORDER, "smtp")
        ports = dict(zip(names, free_ports(len(names)), strict=True))
        redis, prom, am = _program("redis-server"), _program("prometheus"), \
            _program("alertmanager", "/usr/bin/prometheus-alertmanager")

        def write(rel: str, text: str) -> Path:
            path = workdir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(adjust(path.name, text), encoding="utf-8")
            return path

        rules = write("prometheus/rules.yml", (generated / "prometheus" / "rules.yml").read_text())
        prom_config = write("prometheus/prometheus.yml", prometheus_config(
            (generated / "prometheus" / "prometheus.yml").read_text(), rules,
            [f"127.0.0.1:{ports[c]}" for c in CACHES], f"127.0.0.1:{ports['alertmanager']}"))
        am_config = write("alertmanager/alertmanager.yml", alertmanager_config(
            (generated / "alertmanager" / "alertmanager.yml").read_text(), workdir / "alertmanager" / "secrets",
            f"http://127.0.0.1:{ports['receiver']}", f"127.0.0.1:{ports['smtp']}"))

        grafana_provisioning(workdir / "grafana" / "provisioning", generated, f"http://127.0.0.1:{ports['prometheus']}")

        def redis_argv(name: str, *extra: str) -> list[str]:
            # Persistence as in production (append-only file, fsync each second): a restarted
            # Redis comes back warm, so a recovery does not page for a cold L2.
            return [redis, "--port", str(ports[name]), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
                    "--dir", str(workdir / name), "--protected-mode", "no", "--repl-diskless-sync-delay", "0", *extra]

        def cache_argv(name: str) -> list[str]:
            argv = [sys.executable, "-m", "unified_cache.cli", "demo", "--port", str(ports[name]), "--duration", "0",
                    "--redis-url", f"redis://127.0.0.1:{ports['redis-master']}/0",
                    "--replica-url", f"redis://127.0.0.1:{ports['redis-replica']}/0",
                    "--keys", str(workload.keys), "--l1-size", str(workload.l1_size), "--rate", str(workload.rate)]
            if workload.health_interval:
                argv += ["--health-interval", str(workload.health_interval)]
            if workload.warming_interval:
                argv += ["--warming-interval", str(workload.warming_interval)]
            return argv

        def log(name: str) -> str:
            return str(workdir / name / f"{name}.log")

        argvs = {
            "receiver": [sys.executable, "-m", "monspec.demo.receiver", "--http-port", str(ports["receiver"]),
                         "--smtp-port", str(ports["smtp"]), "--log", str(workdir / NOTIFICATIONS)],
            "redis-master": redis_argv("redis-master"),
            "redis-replica": redis_argv("redis-replica", "--replicaof", "127.0.0.1", str(ports["redis-master"])),
            "cache-a": cache_argv("cache-a"),
            "cache-b": cache_argv("cache-b"),
            "alertmanager": [am, f"--config.file={am_config}", f"--storage.path={workdir / 'alertmanager' / 'data'}",
                             f"--web.listen-address=127.0.0.1:{ports['alertmanager']}", "--cluster.listen-address=",
                             "--log.level=warn"],
            "prometheus": [prom, f"--config.file={prom_config}", f"--storage.tsdb.path={workdir / 'prometheus' / 'data'}",
                           f"--web.listen-address=127.0.0.1:{ports['prometheus']}", "--web.enable-lifecycle",
                           "--log.level=warn"],
        }
        probes = {
            "receiver": f"http://127.0.0.1:{ports['receiver']}/",
            "redis-master": f"redis:{ports['redis-master']}",
            "redis-replica": f"redis:{ports['redis-replica']}",
            "cache-a": f"http://127.0.0.1:{ports['cache-a']}/metrics",
            "cache-b": f"http://127.0.0.1:{ports['cache-b']}/metrics",
            "alertmanager": f"http://127.0.0.1:{ports['alertmanager']}/-/ready",
            "prometheus": f"http://127.0.0.1:{ports['prometheus']}/-/ready",
        }
        envs = {c: {**workload.env, "UCM_DATA_DIR": str(workdir / c)} for c in CACHES}
        programs = {name: Program(name, argvs[name], log(name), probes[name], envs.get(name, {})) for name in ORDER}
        return cls(workdir, programs, ports)

    def start(self) -> Stack:
        """Start every program in order; on any failure stop what was started and re-raise."""
        try:
            for name in ORDER:
                self.programs[name].start()
                self.save()
            self.wait_replica_synced()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop, in reverse order, exactly the processes this stack started (checked by pid and command)."""
        for name in reversed(ORDER):
            self.programs[name].stop()
            self.programs[name].pid = None
        self.save()

    def crash(self, *names: str) -> None:
        """SIGKILL `names` at once (signals first, then the waits), as one failure."""
        for name in names:
            self.programs[name].signal_kill()
        for name in names:
            self.programs[name].kill()
        self.save()

    def restart(self, name: str, argv: list[str] | None = None) -> None:
        """Start a stopped program again, with `argv` instead of its usual command line if given."""
        program = self.programs[name]
        program.stop()
        program.argv = list(argv or program.usual_argv)
        program.start()
        self.save()

    def wait_replica_synced(self, timeout: float = 30.0) -> None:
        port = self.ports["redis-replica"]
        wait_until(lambda: redis_info(port, "replication").get("master_link_status") == "up", timeout,
                   what="the Redis replica to sync with the master")

    def describe(self) -> list[str]:
        """What `monspec demo start` prints: where everything is and what to do next."""
        w, prom = self.workdir, self.prometheus_url
        return [
            f"demo running; all its state is in {w}",
            f"  Prometheus     {prom}  (alerts: {prom}/alerts)",
            f"  Alertmanager   {self.alertmanager_url}",
            *(f"  {cache:14} http://{self.target(cache)}/metrics" for cache in CACHES),
            f"  Redis          master 127.0.0.1:{self.ports['redis-master']}, replica 127.0.0.1:{self.ports['redis-replica']}",
            f"  notifications  tail -f {w / 'receiver' / 'receiver.log'}",
            "",
            f"verify:   monspec verify --prometheus {prom}",
            f"a fault:  monspec demo fault master-down --workdir {w}   (all: monspec demo fault; repair: ... fault recover)",
            f"stop:     make demo-stop   (or monspec demo stop --workdir {w})",
            f"Grafana:  GF_PATHS_PROVISIONING={w / 'grafana' / 'provisioning'} grafana-server ...   (a data source for",
            "          this Prometheus and the generated dashboards; or copy that folder into your Grafana's provisioning/)",
        ]

    # --- the state file ---------------------------------------------------------------------

    def save(self) -> None:
        state = {"ports": self.ports, "programs": [p.to_json() for p in self.programs.values()]}
        (self.workdir / STATE).write_text(json.dumps(state, indent=2) + "\n")

    @classmethod
    def load(cls, workdir: Path) -> Stack:
        workdir = workdir.resolve()
        try:
            state = json.loads((workdir / STATE).read_text())
        except FileNotFoundError:
            raise MonspecError(f"no demo in {workdir} (no {STATE}): start one with `monspec demo start`") from None
        programs = {p["name"]: Program(**p) for p in state["programs"]}
        return cls(workdir, programs, state["ports"])

    @classmethod
    def _recorded(cls, workdir: Path) -> list[Program]:
        try:
            return list(cls.load(workdir).programs.values())
        except MonspecError:
            return []
