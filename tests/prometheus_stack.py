"""Debian's real `prometheus` and `prometheus-node-exporter`, started by tests on free loopback
ports with temporary storage. Missing binaries fail the test and say what to install (never a skip)."""
import os
import shutil
import subprocess
import time

import requests

from core.local_redis import free_port

INSTALL = "apt-get install -y prometheus prometheus-node-exporter (.ci/run installs them where missing)"


def binary(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
    assert found, f"Debian's `{name}` is needed by this test and is not installed: {INSTALL}"
    return found


class PrometheusStack:
    """A node_exporter (tcpstat on) and a Prometheus scraping it every second as job `node` (with
    `more_node_targets`), and itself as job `prometheus` (a target without node series)."""

    def __init__(self, workdir, more_node_targets=()):
        self.workdir = workdir
        self.processes = []
        self.exporter = f"127.0.0.1:{free_port()}"
        self.start([binary("prometheus-node-exporter"), f"--web.listen-address={self.exporter}",
                    "--collector.tcpstat"], "node-exporter")
        self.wait(f"http://{self.exporter}/metrics")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        jobs = {"node": [self.exporter, *more_node_targets], "prometheus": [f"127.0.0.1:{self.port}"]}
        scrape = "\n".join(f"  - job_name: {job}\n    static_configs:\n      - targets: {targets!r}"
                           for job, targets in jobs.items())
        config = workdir / "prometheus.yml"
        config.write_text(f"global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                          f"scrape_configs:\n{scrape}\n")
        self.start([binary("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}"], "prometheus")
        self.wait(self.url + "/-/ready")

    def start(self, command, name):
        log = open(self.workdir / f"{name}.log", "w")
        self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir))

    def wait(self, url, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                assert process.poll() is None, f"{process.args[0]} exited: see {self.workdir}"
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{url} did not answer in {timeout}s")

    def query(self, promql):
        body = requests.get(self.url + "/api/v1/query", params={"query": promql}, timeout=10).json()
        assert body["status"] == "success", body
        return body["data"]["result"]

    def wait_for_rates(self, timeout=30):
        """Until rate() over node_exporter's counters has two samples to work with."""
        deadline = time.monotonic() + timeout
        while not self.query('rate(node_cpu_seconds_total{job="node",mode="idle"}[5m])'):
            assert time.monotonic() < deadline, "Prometheus has no rate of node_exporter's CPU yet"
            time.sleep(0.5)

    def exporter_metrics(self) -> dict:
        """node_exporter's own /metrics, parsed: {(name, labels): value}."""
        from prometheus_client.parser import text_string_to_metric_families

        text = requests.get(f"http://{self.exporter}/metrics", timeout=10).text
        return {(s.name, frozenset(s.labels.items())): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(15)
