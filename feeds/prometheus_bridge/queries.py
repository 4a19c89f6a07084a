"""What each of the contract's fields is in PromQL over node_exporter's series, and the records
built from the answers: one record per instance that `up` names.

CPU modes are percentages of all the node's CPUs over the rate window: user with nice (a niced
batch job is busy CPU all the same), system with irq and softirq, iowait, idle; steal (time a
hypervisor gave to other guests) is left out, so the four add up to 100 less steal, and
100 - cpu_idle_pct is the busy CPU Argus forecasts either way.

Fields a node may lack for a good reason default to 0, as the contract allows: swap (no swap
configured), CLOSE_WAIT (node_exporter's tcpstat collector is off by default), front_close_wait
(tcpstat counts sockets, not which side of a proxy they are on: the count goes to
back_close_wait) and java_cpu_pct (a query of the operator's, or 0). Any other missing field means
the instance cannot be described honestly this tick: it is skipped and named in the log.

status, most specific first (the simulator's rules, so that the model sees what it was trained on):
offline when `up` is 0; critical_issue at an incident threshold (memory 95 %, disk 90 %, CPU 95 %,
iowait 30 %, 500 CLOSE_WAIT); recovery on the first tick after offline or critical_issue; heavy_load
above 80 % CPU or a load above the CPU count; idle below 8 % CPU; healthy otherwise. The contract's
maintenance and morning_spike are never derived (Prometheus does not know them)."""
from dataclasses import dataclass, field

from feeds.schema import METRICS, UPTIME_CAP_DAYS

MIB = 1048576  # MB/s as the contract's examples compute it (bytes / 1048576)
REQUIRED = ("cpu_user_pct", "cpu_sys_pct", "cpu_iowait_pct", "cpu_idle_pct", "mem_used_pct", "disk_usage_pct",
            "net_in_mb_s", "net_out_mb_s", "load_average", "uptime_days")
DEFAULT_ZERO = ("java_cpu_pct", "swap_used_pct", "back_close_wait", "front_close_wait")
KEPT_WHILE_OFFLINE = ("mem_used_pct", "swap_used_pct", "disk_usage_pct")  # what a down node still holds
CRITICAL = {"mem_used_pct": 95.0, "disk_usage_pct": 90.0, "cpu_pct": 95.0, "cpu_iowait_pct": 30.0,
            "back_close_wait": 500}


def selector(match: str) -> str:
    """The label matchers inside `--match '{job="node"}'` (without the braces)."""
    match = match.strip()
    if not match:
        return ""
    if not (match.startswith("{") and match.endswith("}")):
        raise ValueError(f"--match must be a label selector in braces, like '{{job=\"node\"}}', not {match!r}")
    return match[1:-1].strip().rstrip(",")


def q(text: str) -> str:
    """A PromQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_queries(match="", rate_window="5m", mountpoint="/", java_cpu_query="") -> dict:
    """{field: PromQL} for every field that has a query, plus `up` and `cpus`."""
    m = selector(match)

    def s(metric, *extra):
        matchers = ",".join(filter(None, (m, *extra)))
        return metric + "{" + matchers + "}" if matchers else metric

    cpus = f'count by (instance) ({s("node_cpu_seconds_total", "mode=" + q("idle"))})'
    cpu = lambda modes: (f'100 * sum by (instance) (rate({s("node_cpu_seconds_total", f"mode=~{q(modes)}")}'  # noqa: E731
                         f'[{rate_window}])) / {cpus}')
    net = lambda way: (f'sum by (instance) (rate({s(f"node_network_{way}_bytes_total", "device!=" + q("lo"))}'  # noqa: E731
                       f'[{rate_window}])) / {MIB}')
    root = f"mountpoint={q(mountpoint)}"
    queries = {
        "up": s("up"),
        "cpus": cpus,
        "cpu_user_pct": cpu("user|nice"),
        "cpu_sys_pct": cpu("system|irq|softirq"),
        "cpu_iowait_pct": cpu("iowait"),
        "cpu_idle_pct": cpu("idle"),
        "mem_used_pct": f'100 * (1 - {s("node_memory_MemAvailable_bytes")} / {s("node_memory_MemTotal_bytes")})',
        "swap_used_pct": f'100 * (1 - {s("node_memory_SwapFree_bytes")} / {s("node_memory_SwapTotal_bytes")})',
        "disk_usage_pct": (f'100 * (1 - max by (instance) ({s("node_filesystem_avail_bytes", root)})'
                           f' / max by (instance) ({s("node_filesystem_size_bytes", root)}))'),
        "net_in_mb_s": net("receive"),
        "net_out_mb_s": net("transmit"),
        "back_close_wait": f'sum by (instance) ({s("node_tcp_connection_states", "state=" + q("close_wait"))})',
        "load_average": s("node_load1"),
        "uptime_days": f'({s("node_time_seconds")} - {s("node_boot_time_seconds")}) / 86400',
    }
    if java_cpu_query:
        queries["java_cpu_pct"] = java_cpu_query
    return queries


def server_names(instances) -> dict:
    """{instance: server_name}: the host part of `instance` (`10.0.0.5:9100` -> `10.0.0.5`,
    `[::1]:9100` -> `::1`), or the whole instance where two instances share a host."""
    def host(instance):
        if instance.startswith("["):
            return instance[1:].partition("]")[0]
        head, colon, port = instance.rpartition(":")
        return head if colon and port.isdigit() and ":" not in head else instance

    hosts = {i: host(i) or i for i in instances}
    taken = {}
    for h in hosts.values():
        taken[h] = taken.get(h, 0) + 1
    return {i: (h if taken[h] == 1 else i) for i, h in hosts.items()}


@dataclass
class Tick:
    records: list
    skipped: dict = field(default_factory=dict)  # instance -> the fields it lacked


def clamp(value, low, high):
    return min(max(value, low), high)


def contract_value(name, value):
    if name in ("back_close_wait", "front_close_wait"):
        return max(0, int(round(value)))
    if name == "uptime_days":
        return int(clamp(value, 0, UPTIME_CAP_DAYS))
    if name.endswith("_pct"):
        return round(clamp(value, 0.0, 100.0), 2)
    return round(max(value, 0.0), 4)


def derive_status(values: dict, cpus, previous) -> str:
    cpu_pct = 100.0 - values["cpu_idle_pct"]
    figures = {**values, "cpu_pct": cpu_pct}
    if any(figures[name] >= limit for name, limit in CRITICAL.items()):
        return "critical_issue"
    if previous in ("offline", "critical_issue"):
        return "recovery"
    if cpu_pct > 80 or (cpus and values["load_average"] > cpus):
        return "heavy_load"
    if cpu_pct < 8:
        return "idle"
    return "healthy"


def build_records(answers: dict, timestamp: str, previous: dict) -> Tick:
    """Records from {query name: {instance: value}}. `previous` holds, per instance, the last
    tick's status and kept values (offline records reuse them); it is replaced by this tick's."""
    names = server_names(sorted(answers["up"]))
    records, skipped, now = [], {}, {}
    for instance, server in names.items():
        last = previous.get(instance, {})
        if answers["up"][instance] == 0:
            values = {name: 0 for name in METRICS}
            values.update(cpu_idle_pct=100.0, **{k: last.get(k, 0.0) for k in KEPT_WHILE_OFFLINE})
            status = "offline"
        else:
            missing = [name for name in REQUIRED if instance not in answers.get(name, {})]
            if missing:
                skipped[instance] = missing
                if last:
                    now[instance] = last
                continue
            values = {name: contract_value(name, answers.get(name, {}).get(instance, 0)) for name in METRICS}
            status = derive_status(values, answers.get("cpus", {}).get(instance), last.get("status"))
        records.append({"timestamp": timestamp, "server_name": server, "status": status, **values})
        now[instance] = {"status": status, **{k: values[k] for k in KEPT_WHILE_OFFLINE}}
    previous.clear()
    previous.update(now)
    return Tick(records, skipped)
