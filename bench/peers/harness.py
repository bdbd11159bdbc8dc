#!/usr/bin/env python3
"""ISR peer benchmark harness (driven by run-peers.sh; all settings via env).

For each peer: start a fresh origin, start the peer, warm PAGES pages, then
  a. cache-hit throughput/latency (wrk, rotating over the warm pages), repeated
  b. thundering herd on a never-seen page (BURST_N concurrent requests)
  c. stale burst (page past its TTL, BURST_N concurrent requests)
  d. origin down (stale page requested with the origin stopped)
  e. RSS of the peer's process tree
  f. on-demand revalidation (trigger, then check the next response's content)
All traffic is on 127.0.0.1; every loop is bounded in count and time.
"""
import datetime as dt
import http.client
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
E = os.environ.get


def env_int(k, d):
    return int(E(k, str(d)))


CFG = {
    "RUN_DIR": E("RUN_DIR", "/tmp/isr-bench"),
    "PEERS": E("PEERS", "static nginx varnish next ours").split(),
    "ORIGIN_PORT": env_int("ORIGIN_PORT", 18000),
    "NGINX_PORT": env_int("NGINX_PORT", 18001),
    "STATIC_PORT": env_int("STATIC_PORT", 18002),
    "NEXT_PORT": env_int("NEXT_PORT", 18003),
    "VARNISH_PORT": env_int("VARNISH_PORT", 18004),
    "OURS_PORT": env_int("OURS_PORT", 18010),
    "OURS_CMD": E("OURS_CMD", ""),
    "OURS_NAME": E("OURS_NAME", "ours"),
    "OURS_VERSION": E("OURS_VERSION", ""),
    "OURS_REVALIDATE": E("OURS_REVALIDATE", ""),
    "OURS_READY_TIMEOUT": env_int("OURS_READY_TIMEOUT", 120),
    "PAGES": env_int("PAGES", 100),
    "PAGE_SIZE": env_int("PAGE_SIZE", 20480),
    "RENDER_DELAY_MS": float(E("RENDER_DELAY_MS", "50")),
    "SHORT_TTL": float(E("SHORT_TTL", "2")),
    "WRK_THREADS": env_int("WRK_THREADS", 1),
    "WRK_CONNS": env_int("WRK_CONNS", 64),
    "WRK_DURATION": env_int("WRK_DURATION", 10),
    "WRK_REPEATS": env_int("WRK_REPEATS", 5),
    "WARMUP_SECS": env_int("WARMUP_SECS", 5),
    "BURST_N": env_int("BURST_N", 200),
    "PEER_CPUS": E("PEER_CPUS", "0"),
    "LOAD_CPUS": E("LOAD_CPUS", "1"),
    "RESULTS_DIR": E("RESULTS_DIR", os.path.join(os.path.dirname(HERE), "results")),
    "QUIET_BUSY": float(E("QUIET_BUSY", "0.15")),
    "QUIET_MAX_WAIT": env_int("QUIET_MAX_WAIT", 90),
    "FOREIGN_MAX": float(E("FOREIGN_MAX", "10")),
}
NEXT_DIR = E("NEXT_DIR", os.path.join(HERE, "next-app"))
STAMP = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
UNIQ = str(int(time.time()))


def log(*a):
    print("[harness %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def pin(cpus):
    return ["taskset", "-c", cpus] if cpus else []


# ---------------------------------------------------------------- processes
def children_map():
    m = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
            m.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError):
            pass
    return m


def tree(pid):
    m, out, todo = children_map(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(m.get(p, []))
    return out


def rss_kb(pid):
    total, procs = 0, []
    for p in tree(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for ln in f:
                    if ln.startswith("VmRSS:"):
                        kb = int(ln.split()[1])
                        total += kb
                        procs.append((p, kb))
        except OSError:
            pass
    return total, procs


def kill_tree(pid, sig=signal.SIGTERM, wait=10.0):
    """Signal pid and its descendants (by PID, children first), wait for exit."""
    pids = tree(pid)
    for p in reversed(pids):
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass
    deadline = time.time() + wait
    while time.time() < deadline:
        alive = [p for p in pids if os.path.exists("/proc/%d" % p) and not is_zombie(p)]
        if not alive:
            return
        time.sleep(0.1)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return s[s.rindex(")") + 2] == "Z"
    except OSError:
        return True


def wait_port(port, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


# ---------------------------------------------------------------- http
def get(port, path, headers=None, timeout=15.0):
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        lat = (time.perf_counter() - t0) * 1000
        marker = None
        i = body.find(b'name="x-render" content="')
        if i >= 0:
            marker = body[i + 25:body.find(b'"', i + 25)].decode()
        cache = {k.lower(): v for k, v in r.getheaders()
                 if k.lower() in ("x-cache-status", "x-nextjs-cache", "x-cache", "x-isr-cache", "age")}
        return {"status": r.status, "lat_ms": round(lat, 1), "marker": marker, "cache": cache,
                "bytes": len(body)}
    except Exception as e:
        return {"status": None, "error": "%s: %s" % (type(e).__name__, e),
                "lat_ms": round((time.perf_counter() - t0) * 1000, 1)}
    finally:
        c.close()


def renders(path=None):
    q = "/__renders" + ("?path=" + path if path else "")
    r = http.client.HTTPConnection("127.0.0.1", CFG["ORIGIN_PORT"], timeout=5)
    r.request("GET", q)
    d = json.loads(r.getresponse().read())
    r.close()
    return d


def burst(port, path):
    cmd = pin(CFG["LOAD_CPUS"]) + [sys.executable, os.path.join(HERE, "burst.py"), "--port", str(port),
                                    "--path", path, "-n", str(CFG["BURST_N"]), "--timeout", "30",
                                    "--wait-threshold-ms", str(CFG["RENDER_DELAY_MS"])]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("burst.py failed: " + out.stderr[-500:])
    return json.loads(out.stdout)


def cpu_times():
    out = {}
    with open("/proc/stat") as f:
        for ln in f:
            if ln.startswith("cpu") and ln[3].isdigit():
                parts = ln.split()
                vals = [int(x) for x in parts[1:]]
                out[parts[0][3:]] = (sum(vals), vals[3] + vals[4], vals[7] if len(vals) > 7 else 0)  # total, idle+iowait, steal
    return out


def cpu_busy(before, after, cpus, steal=False):
    """Percent busy of the CPUs in a taskset list like '0' or '0,1' (None if unpinned)."""
    if not cpus:
        return None
    ids = []
    for part in cpus.split(","):
        a, _, b = part.partition("-")
        ids.extend(str(i) for i in range(int(a), int(b or a) + 1))
    tot = sum(after[i][0] - before[i][0] for i in ids)
    idle = sum(after[i][1] - before[i][1] for i in ids)
    if steal:
        return round(100.0 * sum(after[i][2] - before[i][2] for i in ids) / tot, 1) if tot else None
    return round(100.0 * (1 - idle / tot), 1) if tot else None


CLK = os.sysconf("SC_CLK_TCK")


def proc_jiffies(pids):
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                s = f.read()
            v = s[s.rindex(")") + 2:].split()
            t += int(v[11]) + int(v[12])  # utime + stime (all threads)
        except (OSError, ValueError, IndexError):
            pass
    return t


def machine_busy(secs=1.0):
    """Fraction of all CPUs busy over `secs` (anything: ours or foreign)."""
    a = cpu_times()
    time.sleep(secs)
    b = cpu_times()
    tot = sum(b[i][0] - a[i][0] for i in a)
    idle = sum(b[i][1] - a[i][1] for i in a)
    return (1 - idle / tot) if tot else 0.0


def wait_quiet(max_wait):
    """Wait (bounded) until the machine is idle apart from us: other workloads may share it."""
    t0 = time.time()
    busy = machine_busy()
    while busy > CFG["QUIET_BUSY"] and time.time() - t0 < max_wait:
        log("machine busy %.0f%% (foreign load?), waiting" % (100 * busy))
        time.sleep(2)
        busy = machine_busy()
    return round(100 * busy, 1)


OWN_PIDS = []  # peer + origin root PIDs whose trees are "ours" for CPU accounting


def wrk(port, duration, prefix="/p/"):
    cmd = pin(CFG["LOAD_CPUS"]) + ["wrk", "-t%d" % CFG["WRK_THREADS"], "-c%d" % CFG["WRK_CONNS"],
                                    "-d%ds" % duration, "--timeout", "5s",
                                    "-s", os.path.join(HERE, "lua", "rotate.lua"),
                                    "http://127.0.0.1:%d" % port]
    env = dict(os.environ, PAGES=str(CFG["PAGES"]), PREFIX=prefix)
    own = [p for root in OWN_PIDS for p in tree(root)]
    j0, ch0, c0 = proc_jiffies(own), os.times(), cpu_times()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=duration + 30)
    j1, ch1, c1 = proc_jiffies(own), os.times(), cpu_times()
    for ln in out.stdout.splitlines():
        if ln.startswith("WRKJSON "):
            d = json.loads(ln[8:])
            d["cpu_peer"] = cpu_busy(c0, c1, CFG["PEER_CPUS"])
            d["cpu_load"] = cpu_busy(c0, c1, CFG["LOAD_CPUS"])
            d["steal_pct"] = cpu_busy(c0, c1, ",".join(sorted(c0)), steal=True)
            tot = sum(c1[i][0] - c0[i][0] for i in c0)
            busy = tot - sum(c1[i][1] - c0[i][1] for i in c0)
            wrk_j = ((ch1.children_user + ch1.children_system) - (ch0.children_user + ch0.children_system)) * CLK
            per_cpu = tot / len(c0) if tot else 1
            # CPU used by processes that are not the peer, the origin or wrk, in % of one core
            d["foreign_pct"] = round(100.0 * max(0.0, busy - (j1 - j0) - wrk_j) / per_cpu, 1)
            return d
    raise RuntimeError("wrk gave no summary: rc=%s %s %s" % (out.returncode, out.stdout[-400:], out.stderr[-400:]))


# ---------------------------------------------------------------- origin
class Origin:
    def __init__(self):
        self.proc = None

    def start(self):
        cmd = pin(CFG["LOAD_CPUS"]) + [sys.executable, os.path.join(HERE, "origin.py"),
                                        "--port", str(CFG["ORIGIN_PORT"]), "--size", str(CFG["PAGE_SIZE"]),
                                        "--delay-ms", str(CFG["RENDER_DELAY_MS"])]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(CFG["RUN_DIR"], "origin.log"), "a"))
        if not wait_port(CFG["ORIGIN_PORT"], 10):
            raise RuntimeError("origin did not start on port %d" % CFG["ORIGIN_PORT"])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            kill_tree(self.proc.pid)
            self.proc.wait(5)
        self.proc = None


# ---------------------------------------------------------------- peers
class Peer:
    name = "?"
    port = 0
    ready_timeout = 30
    short_ok = True  # supports the /s/ short-TTL prefix

    def __init__(self):
        self.proc = None
        self.pid = None

    def version(self):
        return ""

    def start(self):
        raise NotImplementedError

    def stop(self):
        if self.pid:
            kill_tree(self.pid)
        if self.proc:
            try:
                self.proc.wait(5)
            except Exception:
                pass
        self.pid = self.proc = None

    def revalidate(self, path):
        return None  # None = not supported by this harness adapter

    def _popen(self, cmd, cwd=None, env=None, shell=False):
        logf = open(os.path.join(CFG["RUN_DIR"], "%s.log" % self.key), "a")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=logf, stderr=subprocess.STDOUT,
                                     shell=shell, start_new_session=True)
        self.pid = self.proc.pid


class NginxPeer(Peer):
    name, kind = "nginx-proxy_cache", "isr"

    def __init__(self):
        super().__init__()
        self.port = CFG["NGINX_PORT"]

    def version(self):
        return subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]

    def start(self):
        subprocess.run(["rm", "-rf", os.path.join(CFG["RUN_DIR"], "nginx-cache")], check=True)
        out = subprocess.run([os.path.join(HERE, "nginx", "ctl.sh"), "start", self.kind, str(self.port),
                              str(CFG["ORIGIN_PORT"])], capture_output=True, text=True,
                             env=dict(os.environ, RUN_DIR=CFG["RUN_DIR"], PEER_CPUS=CFG["PEER_CPUS"]))
        if out.returncode != 0:
            raise RuntimeError("nginx start failed: " + out.stderr.strip())
        self.pid = int(out.stdout.strip().split()[-1])

    def stop(self):
        subprocess.run([os.path.join(HERE, "nginx", "ctl.sh"), "stop", self.kind],
                       env=dict(os.environ, RUN_DIR=CFG["RUN_DIR"]))
        self.pid = None

    def revalidate(self, path):
        return get(self.port, path, {"X-Revalidate": "1"})


class StaticPeer(NginxPeer):
    name, kind = "nginx-static (limit)", "static"
    short_ok = False

    def __init__(self):
        super().__init__()
        self.port = CFG["STATIC_PORT"]

    def start(self):
        root = os.path.join(CFG["RUN_DIR"], "static-root", "p")
        os.makedirs(root, exist_ok=True)
        for n in range(1, CFG["PAGES"] + 1):  # the same pages the origin renders
            r = http.client.HTTPConnection("127.0.0.1", CFG["ORIGIN_PORT"], timeout=10)
            r.request("GET", "/p/%d" % n)
            with open(os.path.join(root, str(n)), "wb") as f:
                f.write(r.getresponse().read())
            r.close()
        super().start()

    def revalidate(self, path):
        return None


class VarnishPeer(Peer):
    name = "varnish"

    def __init__(self):
        super().__init__()
        self.port = CFG["VARNISH_PORT"]

    def version(self):
        v = subprocess.run(["varnishd", "-V"], capture_output=True, text=True)
        return (v.stderr + v.stdout).split("(")[1].split()[0] if "(" in (v.stderr + v.stdout) else "?"

    def start(self):
        vcl = os.path.join(CFG["RUN_DIR"], "default.vcl")
        with open(os.path.join(HERE, "varnish", "default.vcl.in")) as f:
            src = f.read().replace("@ORIGIN_PORT@", str(CFG["ORIGIN_PORT"]))
        with open(vcl, "w") as f:
            f.write(src)
        workdir = os.path.join(CFG["RUN_DIR"], "varnish-work")
        subprocess.run(["rm", "-rf", workdir], check=True)
        cmd = pin(CFG["PEER_CPUS"]) + ["varnishd", "-F", "-j", "none", "-n", workdir,
                                       "-a", "127.0.0.1:%d" % self.port, "-T", "127.0.0.1:0",
                                       "-f", vcl, "-s", "malloc,256m"]
        self._popen(cmd)

    def revalidate(self, path):
        return get(self.port, path, {"X-Revalidate": "1"})


class NextPeer(Peer):
    name = "next-start (ISR)"
    ready_timeout = 60

    def __init__(self):
        super().__init__()
        self.port = CFG["NEXT_PORT"]

    def version(self):
        try:
            with open(os.path.join(NEXT_DIR, "node_modules", "next", "package.json")) as f:
                v = json.load(f)["version"]
            node = subprocess.run(["node", "-v"], capture_output=True, text=True).stdout.strip()
            return "%s (node %s)" % (v, node)
        except OSError:
            return "?"

    def start(self):
        if not os.path.exists(os.path.join(NEXT_DIR, ".next", "BUILD_ID")):
            raise RuntimeError("next-app is not built (run: cd next-app && npm ci && npx next build)")
        # forget pages generated at runtime by an earlier run, so every run starts cold
        appdir = os.path.join(NEXT_DIR, ".next", "server", "app")
        for sub in ("p", "s"):
            d = os.path.join(appdir, sub)
            if os.path.isdir(d):
                for fn in os.listdir(d):
                    if not fn.startswith("["):
                        os.remove(os.path.join(d, fn))
        # Next 16 persists ISR pages under .next/server/route-cache (older: .next/cache)
        for d in (os.path.join(NEXT_DIR, ".next", "server", "route-cache"),
                  os.path.join(NEXT_DIR, ".next", "cache", "fetch-cache")):
            subprocess.run(["rm", "-rf", d])
        env = dict(os.environ, NEXT_TELEMETRY_DISABLED="1", NODE_ENV="production",
                   ORIGIN_URL="http://127.0.0.1:%d" % CFG["ORIGIN_PORT"])
        cmd = pin(CFG["PEER_CPUS"]) + ["node", os.path.join(NEXT_DIR, "node_modules", "next", "dist", "bin", "next"),
                                       "start", "-p", str(self.port), "-H", "127.0.0.1"]
        self._popen(cmd, cwd=NEXT_DIR, env=env)

    def revalidate(self, path):
        r = get(self.port, "/api/revalidate?path=" + path)
        return r


class OursPeer(Peer):
    ready_timeout = CFG["OURS_READY_TIMEOUT"]

    def __init__(self):
        super().__init__()
        self.name = CFG["OURS_NAME"]
        self.port = CFG["OURS_PORT"]

    def version(self):
        return CFG["OURS_VERSION"]

    def start(self):
        env = dict(os.environ, PORT=str(self.port), ORIGIN_PORT=str(CFG["ORIGIN_PORT"]),
                   ORIGIN_URL="http://127.0.0.1:%d" % CFG["ORIGIN_PORT"], LONG_TTL="60",
                   SHORT_TTL=str(CFG["SHORT_TTL"]).rstrip("0").rstrip("."))
        self._popen(pin(CFG["PEER_CPUS"]) + ["bash", "-c", CFG["OURS_CMD"]], cwd=HERE, env=env)

    def revalidate(self, path):
        if not CFG["OURS_REVALIDATE"]:
            return None
        cmd = CFG["OURS_REVALIDATE"].replace("{path}", path).replace("{port}", str(self.port))
        out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=15)
        return {"status": "rc=%d" % out.returncode}


def make_peer(name):
    p = {"static": StaticPeer, "nginx": NginxPeer, "varnish": VarnishPeer,
         "next": NextPeer, "ours": OursPeer}[name]()
    p.key = name
    return p


# ---------------------------------------------------------------- scenario
def run_peer(key):
    res = {"key": key}
    if key == "ours" and not CFG["OURS_CMD"]:
        res["skipped"] = "OURS_CMD not set"
        return res
    peer = make_peer(key)
    res["name"], res["version"] = peer.name, peer.version()
    origin = Origin()
    try:
        origin.start()
        peer.start()
        OWN_PIDS[:] = [origin.proc.pid, peer.pid]
        if not wait_port(peer.port, peer.ready_timeout):
            raise RuntimeError("%s did not listen on %d within %ss (see %s/%s.log)" % (
                peer.name, peer.port, peer.ready_timeout, CFG["RUN_DIR"], key))
        time.sleep(0.3)
        get(CFG["ORIGIN_PORT"], "/__reset")
        # warm: PAGES pages, each requested twice (miss, then hit)
        def warm(prefix):
            t0 = time.time()
            r0 = renders()["total"]
            first = [get(peer.port, "%s%d" % (prefix, n)) for n in range(1, CFG["PAGES"] + 1)]
            second = [get(peer.port, "%s%d" % (prefix, n)) for n in range(1, CFG["PAGES"] + 1)]
            bad = [r for r in first + second if r["status"] != 200]
            w = {"prefix": prefix, "secs": round(time.time() - t0, 1), "non200": len(bad),
                 "renders": renders()["total"] - r0, "sample_cache": second[0].get("cache"),
                 "bytes": second[0].get("bytes")}
            if bad:
                raise RuntimeError("warm-up of %s got non-200: %s" % (prefix, bad[:2]))
            return w

        res["warm"] = warm("/p/")
        log(peer.name, "warm", res["warm"])

        # a. hit throughput. Each measured run gets its own page set, warmed right
        # before it, so every page stays inside its 60 s TTL for the whole run
        # (pure hits, no background regeneration competing for the peer's core).
        # The static reference always uses /p/1..PAGES.
        if CFG["WARMUP_SECS"] > 0:
            wrk(peer.port, CFG["WARMUP_SECS"], "/p/")
        # A run during which other processes (e.g. another benchmark)
        # used >= FOREIGN_MAX % of a core is kept in the JSON but marked dirty and
        # retried, up to WRK_REPEATS extra attempts.
        runs, during = [], 0
        for i in range(2 * CFG["WRK_REPEATS"]):
            if sum(1 for x in runs if x["clean"]) >= CFG["WRK_REPEATS"]:
                break
            prefix = "/p/" if key == "static" else "/p/r%d-" % (i + 1)
            if key != "static":
                warm(prefix)
            idle_before = wait_quiet(CFG["QUIET_MAX_WAIT"])
            before = renders()["total"]
            w = wrk(peer.port, CFG["WRK_DURATION"], prefix)
            w["origin_renders_during"] = renders()["total"] - before
            during += w["origin_renders_during"]
            w["machine_busy_before_pct"] = idle_before
            w["prefix"] = prefix
            w["clean"] = w["foreign_pct"] is not None and w["foreign_pct"] < CFG["FOREIGN_MAX"]
            log(peer.name, "wrk run", i + 1, "" if w["clean"] else "(DIRTY: foreign load, will retry)", "rps=%.0f p50=%.2fms p99=%.2fms errs=%d cpu=%s/%s steal=%s%% foreign=%s%% renders=%d" % (
                w["rps"], w["p50_us"] / 1000, w["p99_us"] / 1000, w["err_status"] + w["err_read"] + w["err_timeout"],
                w["cpu_peer"], w["cpu_load"], w["steal_pct"], w["foreign_pct"], w["origin_renders_during"]))
            runs.append(w)
        res["hit"] = {"runs": runs, "origin_renders_during": during}

        if key == "static":
            res["rss_kb"], res["rss_procs"] = rss_kb(peer.pid)
            return res

        # hit-burst baseline: BURST_N concurrent requests to a cached page
        res["hit_burst"] = burst(peer.port, "/p/1")

        # b. thundering herd on a never-seen page
        hp = "/p/herd%s" % UNIQ
        b = burst(peer.port, hp)
        time.sleep(0.5)
        b["origin_renders"] = renders(hp)["count"]
        res["herd"] = b
        log(peer.name, "herd", b["origin_renders"], "renders, max", b["lat_ms"]["max"])

        # c. stale burst
        sp = "/s/stale%s" % UNIQ
        first = get(peer.port, sp)
        time.sleep(0.2)
        second_hit = get(peer.port, sp)
        time.sleep(CFG["SHORT_TTL"] + 1.5)
        r0 = renders(sp)["count"]
        b = burst(peer.port, sp)
        time.sleep(max(1.0, 5 * CFG["RENDER_DELAY_MS"] / 1000))
        r1 = renders(sp)["count"]
        after = get(peer.port, sp)
        b.update({"origin_renders": r1 - r0, "renders_before": r0, "first": first, "second": second_hit,
                  "after": after})
        res["stale"] = b
        log(peer.name, "stale", b["origin_renders"], "renders, max", b["lat_ms"]["max"], "markers", b["render_markers"])

        # f. on-demand revalidation of a warm /p/ page (long TTL)
        op = "/p/2"
        pre = get(peer.port, op)
        r0 = renders(op)["count"]
        trig = peer.revalidate(op)
        if trig is None:
            res["ondemand"] = {"supported": False}
        else:
            g1 = get(peer.port, op)
            time.sleep(0.5)
            g2 = get(peer.port, op)
            res["ondemand"] = {"supported": True, "trigger": trig, "pre": pre.get("marker"),
                               "g1": g1.get("marker"), "g1_lat_ms": g1.get("lat_ms"), "g1_cache": g1.get("cache"),
                               "g2": g2.get("marker"), "renders": renders(op)["count"] - r0}

        # d. origin down
        dp = "/s/down%s" % UNIQ
        d0 = get(peer.port, dp)
        time.sleep(CFG["SHORT_TTL"] + 1.5)
        origin.stop()
        d1 = get(peer.port, dp)
        time.sleep(1.5)
        d2 = get(peer.port, dp)
        cold = get(peer.port, "/p/cold%s" % UNIQ)
        res["down"] = {"cached": d0, "first": d1, "again": d2, "cold": cold}
        log(peer.name, "down", d1.get("status"), d2.get("status"), "cold", cold.get("status"))

        # e. memory
        res["rss_kb"], res["rss_procs"] = rss_kb(peer.pid)
    except Exception as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
        log(peer.name if hasattr(peer, "name") else key, "FAILED", res["error"])
    finally:
        try:
            peer.stop()
        finally:
            origin.stop()
    return res


# ---------------------------------------------------------------- report
def fmt_ms(us):
    return "%.2f" % (us / 1000.0)


def report(results):
    L = []
    L.append("# ISR peers benchmark, %s" % dt.datetime.now().strftime("%Y-%m-%d %H:%M"))
    L.append("")
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except Exception:
        pass
    L.append("Machine: %d cores (%s), %s. Peers pinned to CPU `%s`; wrk, burst client and origin pinned to CPU `%s`." % (
        os.cpu_count(), cpu, os.uname().release, CFG["PEER_CPUS"] or "none", CFG["LOAD_CPUS"] or "none"))
    L.append("Origin: %d-byte pages, %g ms render delay. wrk -t%d -c%d -d%ds, %d runs (+%ds warm-up), rotating over %d cached pages. Bursts: %d concurrent connections, request written at once, `Connection: close`." % (
        CFG["PAGE_SIZE"], CFG["RENDER_DELAY_MS"], CFG["WRK_THREADS"], CFG["WRK_CONNS"], CFG["WRK_DURATION"],
        CFG["WRK_REPEATS"], CFG["WARMUP_SECS"], CFG["PAGES"], CFG["BURST_N"]))
    L.append("")
    L.append("## a. Cache-hit throughput and latency (e. memory)")
    L.append("")
    L.append("| peer | version | req/s median (min–max) | p50 ms | p99 ms | bytes/resp | errors | CPU busy peer/load % | origin renders during runs | RSS MB |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if "skipped" in r:
            L.append("| %s | | skipped: %s | | | | | | | |" % (r["key"], r["skipped"]))
            continue
        if "hit" not in r:
            L.append("| %s | %s | FAILED: %s | | | | | | | |" % (r.get("name", r["key"]), r.get("version", ""),
                                                               r.get("error", "?").replace("|", "/")[:300]))
            continue
        allruns = r["hit"]["runs"]
        clean = [x for x in allruns if x.get("clean", True)]
        runs = clean if len(clean) >= min(3, CFG["WRK_REPEATS"]) else allruns
        mark = "" if runs is clean else " †"
        rps = [x["rps"] for x in runs]
        errs = sum(x["err_status"] + x["err_read"] + x["err_timeout"] + x["err_connect"] + x["err_write"] for x in runs)
        bpr = statistics.median(x["bytes"] / max(1, x["requests"]) for x in runs)
        cp = [x.get("cpu_peer") for x in runs if x.get("cpu_peer") is not None]
        cl = [x.get("cpu_load") for x in runs if x.get("cpu_load") is not None]
        cpus = "%.0f/%.0f" % (statistics.median(cp), statistics.median(cl)) if cp and cl else "n/a"
        L.append("| %s | %s | **%.0f** (%.0f–%.0f), %d run%s%s | %s | %s | %d | %d | %s | %d | %s |" % (
            r["name"], r["version"], statistics.median(rps), min(rps), max(rps), len(rps),
            "" if len(rps) == 1 else "s", mark,
            fmt_ms(statistics.median(x["p50_us"] for x in runs)), fmt_ms(statistics.median(x["p99_us"] for x in runs)),
            bpr, errs, cpus, r["hit"]["origin_renders_during"],
            "%.1f" % (r["rss_kb"] / 1024.0) if "rss_kb" in r else "?"))
    L.append("")
    L.append("Medians use the clean runs only (foreign CPU < %g %% of a core); † = fewer than 3 clean runs, all runs used." % CFG["FOREIGN_MAX"])
    L.append("")
    L.append("Per-run req/s [foreign CPU, % of one core: used by processes other than peer/origin/wrk, e.g. other workloads on this machine; steal %]: ")
    L.append("")
    for r in results:
        if "hit" in r:
            L.append("- %s: %s" % (r["name"], ", ".join("%.0f [%s; %s]%s" % (
                x["rps"], x.get("foreign_pct"), x.get("steal_pct"), "" if x.get("clean", True) else " DIRTY")
                for x in r["hit"]["runs"])))
    L.append("")
    L.append("## b–d, f. Behaviour (ideal: herd 1 render; stale burst 1 render, all old content, max ≈ hit-burst max; origin down 200 stale)")
    L.append("")
    L.append("| peer | hit-burst max ms | herd: renders / p50 / max ms / statuses | stale burst: renders / max ms (max TTFB) / content old:new | fresh after burst | origin down: 1st / again / cold page | on-demand: next GET fresh? |")
    L.append("|---|---|---|---|---|---|---|")
    for r in results:
        if "herd" not in r:
            continue
        hb = r["hit_burst"]
        h = r["herd"]
        s = r["stale"]
        old = s["first"].get("marker", "") or ""
        oldn = old.split(";")[0] if old else "?"
        mk = s["render_markers"]
        n_old = mk.get(oldn, 0)
        n_new = sum(v for k, v in mk.items() if k != oldn)
        after = s["after"].get("marker") or ""
        fresh_after = "yes" if after and after.split(";")[0] != oldn else "no (%s)" % after
        d = r.get("down", {})

        def ds(x):
            if not x:
                return "?"
            if x.get("status") is None:
                return "err"
            st = str(x["status"])
            if x.get("marker") and d.get("cached", {}).get("marker") and x["marker"] == d["cached"]["marker"]:
                st += " stale"
            return st
        od = r.get("ondemand", {})
        if not od:
            ods = "?"
        elif not od.get("supported"):
            ods = "n/a"
        else:
            ods = "%s (%d render%s; 0.5 s later: %s)" % (
                "yes" if od.get("g1") != od.get("pre") else "no, old",
                od.get("renders", 0), "" if od.get("renders") == 1 else "s",
                "fresh" if od.get("g2") != od.get("pre") else "old")
        L.append("| %s | %.1f | %d / %.1f / %.1f / %s | %d / %.1f (%.1f) / %d:%d | %s | %s / %s / %s | %s |" % (
            r["name"], hb["lat_ms"]["max"],
            h["origin_renders"], h["lat_ms"]["p50"], h["lat_ms"]["max"], " ".join("%s×%d" % kv for kv in h["status"].items()),
            s["origin_renders"], s["lat_ms"]["max"], s["ttfb_ms"]["max"], n_old, n_new, fresh_after,
            ds(d.get("first")), ds(d.get("again")), (d.get("cold") or {}).get("status", "err") or "err", ods))
    L.append("")
    L.append("Legend: *hit-burst* = the same %d-request burst on an already cached page (the peer's own queueing floor). "
             "*herd* = burst on a never-seen page; renders = origin renders of that path. "
             "*stale burst* = burst on a page past its %gs TTL; content old:new = responses carrying the previous render "
             "vs. a newer one (old = served stale without waiting). TTFB = first response bytes; the max latency is "
             "to EOF (`Connection: close`). *origin down* = origin stopped, stale page requested twice (1.5 s apart), "
             "then a never-cached page. *on-demand* = nginx/Varnish: request with `X-Revalidate: 1` (cache bypass that "
             "stores the result); Next: GET /api/revalidate?path= (revalidatePath); ours: OURS_REVALIDATE." % (
                 CFG["BURST_N"], CFG["SHORT_TTL"]))
    L.append("")
    L.append("Cache headers seen in the stale burst:")
    L.append("")
    for r in results:
        if "stale" in r:
            L.append("- %s: %s" % (r["name"], ", ".join("%s ×%d" % kv for kv in r["stale"]["cache_headers"].items()) or "none"))
    errs = [r for r in results if "error" in r]
    if errs:
        L.append("")
        L.append("## Failures")
        for r in errs:
            L.append("- %s: %s" % (r.get("name", r["key"]), r["error"]))
    return "\n".join(L) + "\n"


def main():
    os.makedirs(CFG["RUN_DIR"], exist_ok=True)
    os.makedirs(CFG["RESULTS_DIR"], exist_ok=True)
    log("config", json.dumps({k: v for k, v in CFG.items()}))
    results = []
    for key in CFG["PEERS"]:
        log("=== peer", key)
        results.append(run_peer(key))
    base = os.path.join(CFG["RESULTS_DIR"], "%s-peers" % STAMP)
    with open(base + ".json", "w") as f:
        json.dump({"config": CFG, "results": results}, f, indent=1, default=str)
    try:
        md = report(results)
    except (TypeError, KeyError, ValueError) as e:
        # a peer that misbehaves in a scenario leaves gaps; keep the raw numbers, say what broke
        md = "# report incomplete: %s: %s\n\nRaw figures: %s.json\n" % (type(e).__name__, e, base)
    with open(base + ".md", "w") as f:
        f.write(md)
    print(md)
    log("wrote", base + ".md", "and", base + ".json")


if __name__ == "__main__":
    main()
