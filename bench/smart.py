#!/usr/bin/env python3
"""Smarter regeneration (issue 17) measured against the real Regen server jar.

    python3 bench/smart.py                       # every scenario, ~5 minutes
    python3 bench/smart.py hot budget            # some of them
    DURATION=20 REGEN_JAR=/tmp/regen-smart.jar python3 bench/smart.py hot

Scenarios (each bounded; each prints one line and appends a section to
bench/results/<timestamp>-smart.md with the Regen config it used):
  hot          one page at 20 req/s for DURATION s (default 60), revalidate 2 s, refresh-ahead 0.2
               and then 0 (the previous behaviour): STALE responses, the oldest Age served.
  eager        500 tagged pages, 100 of them with recent traffic, soft revalidation of the tag under
               budget 8: how soon the 100 are re-rendered, STALE seen by a visitor loop meanwhile and
               after, and that the other 400 wait for a visitor.
  unchanged    3 nodes on one redis-server, 50 pages with constant bodies, revalidate 2 s, 30 s of
               load: store body writes, metadata writes, L1 copies dropped vs kept, Redis commands,
               whether a page's ETag ever changed.
  conditional  50 x 20 KB pages, revalidate 1 s, 20 s of load; origin answering 304 to If-None-Match
               vs ignoring it: body bytes the origin sends per background render.
  budget       1,000 stale pages refreshed at once under budget 4 while a visitor requests 50 cold
               pages: origin max in-flight, the visitor's miss latency, backlog drain time, shed.

The origin is this file run as a subprocess (--origin-serve PORT): deterministic pages (the body
depends only on path, version and size), an ETag per version, 304 on a matching If-None-Match when
told, Cache-Tag when told, and counters (renders per path, bodies, bytes, in-flight, max in-flight).
Everything is on 127.0.0.1; every process started is stopped by the pid it got (try/finally and
atexit). Knobs (env): REGEN_JAR, DURATION, UNCHANGED_DURATION, CONDITIONAL_DURATION,
SMART_PORT_BASE (18300), REGEN_JVM_OPTS, RUN_DIR (/tmp/regen-smart), RESULTS_DIR.
"""
import atexit
import http.client
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
HOST = "smart.test"
SECRET = secrets.token_hex(16)
KB = 1024


def env_int(name, default, lo, hi):
    raw = os.environ.get(name, str(default))
    try:
        v = int(raw)
    except ValueError:
        sys.exit("smart.py: %s must be a whole number, got %r" % (name, raw))
    if not lo <= v <= hi:
        sys.exit("smart.py: %s must be %d-%d, got %d" % (name, lo, hi, v))
    return v


# ---------------------------------------------------------------------------------------------
# The origin (runs in its own process, so its threads do not share a GIL with the load clients)
# ---------------------------------------------------------------------------------------------
PAGE_RE = re.compile(r"^/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$")


class OriginState:
    def __init__(self):
        self.lock = threading.Lock()
        self.cfg = {"size": 20 * KB, "delay_ms": 50.0, "etag": False, "honor_inm": False,
                    "cache_tag": None, "cap": 0}
        self.prefix_gen = {}  # "/e/" -> version of every page under it
        self.path_bump = {}
        self.fillers = {}
        self.reset()

    def reset(self):
        with self.lock:
            self.paths = {}  # path -> [renders, last end (epoch s), 200s, 304s, last start (epoch s)]
            self.total = self.full = self.not_modified = self.body_bytes = 0
            self.max_inflight = getattr(self, "inflight", 0)
            self.inflight = getattr(self, "inflight", 0)
            self.over_cap = 0

    def version(self, path):
        prefix = path[:path.index("/", 1) + 1]
        return self.prefix_gen.get(prefix, 1) + self.path_bump.get(path, 0)

    def filler(self, n):
        f = self.fillers.get(n)
        if f is None:
            words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
                     "incididunt ut labore et dolore magna aliqua ").encode()
            f = (words * (n // len(words) + 1))[:n]
            self.fillers[n] = f
        return f


def origin_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "smart-origin/1"
        disable_nagle_algorithm = True
        wbufsize = 1 << 17

        def log_message(self, fmt, *a):
            pass

        def _json(self, obj, code=200):
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(n) or b"{}")
            u = urlsplit(self.path)
            if u.path == "/__config":
                with state.lock:
                    unknown = set(body) - set(state.cfg)
                    if unknown:
                        return self._json({"error": "unknown %s" % sorted(unknown)}, 400)
                    state.cfg.update(body)
                    return self._json(state.cfg)
            if u.path == "/__bump":
                with state.lock:
                    for p in body.get("prefixes", []):
                        state.prefix_gen[p] = state.prefix_gen.get(p, 1) + 1
                    for p in body.get("paths", []):
                        state.path_bump[p] = state.path_bump.get(p, 0) + 1
                return self._json({"ok": True})
            if u.path == "/__reset":
                state.reset()
                return self._json({"ok": True})
            return self._json({"error": "no such endpoint"}, 404)

        def do_GET(self):
            u = urlsplit(self.path)
            if u.path == "/__health":
                return self._json({"ok": True})
            if u.path == "/__stats":
                prefix = parse_qs(u.query).get("prefix", [None])[0]
                with state.lock:
                    d = {"total": state.total, "full": state.full, "not_modified": state.not_modified,
                         "body_bytes": state.body_bytes, "inflight": state.inflight,
                         "max_inflight": state.max_inflight, "over_cap": state.over_cap}
                    if prefix is not None:
                        d["paths"] = {p: v for p, v in state.paths.items() if p.startswith(prefix)}
                return self._json(d)
            if not PAGE_RE.match(u.path):
                return self._json({"error": "not a page"}, 404)
            path = u.path
            with state.lock:
                cfg = dict(state.cfg)
                version = state.version(path)
                state.total += 1
                state.inflight += 1
                state.max_inflight = max(state.max_inflight, state.inflight)
                if cfg["cap"] and state.inflight > cfg["cap"]:
                    state.over_cap += 1
            code, sent, started = 200, 0, time.time()
            try:
                if cfg["delay_ms"] > 0:
                    time.sleep(cfg["delay_ms"] / 1000.0)
                etag = '"%08x-v%d"' % (zlib.crc32(path.encode()), version)
                extra = {}
                if cfg["etag"]:
                    extra["ETag"] = etag
                if cfg["cache_tag"]:
                    extra["Cache-Tag"] = cfg["cache_tag"]
                inm = self.headers.get("If-None-Match")
                if cfg["etag"] and cfg["honor_inm"] and inm and (
                        inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]):
                    code = 304
                    self.send_response(304)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.end_headers()
                    return
                head = ('<!doctype html>\n<html><head><meta charset="utf-8"><title>%s</title></head>'
                        '<body><h1 data-version="%d">%s version %d</h1>\n<p>' % (path, version, path, version)).encode()
                tail = b"</p></body></html>\n"
                data = head + state.filler(max(0, cfg["size"] - len(head) - len(tail))) + tail
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                    sent = len(data)
            finally:
                with state.lock:
                    state.inflight -= 1
                    rec = state.paths.setdefault(path, [0, 0.0, 0, 0, 0.0])
                    rec[0] += 1
                    rec[1] = time.time()
                    rec[4] = started
                    if code == 304:
                        rec[3] += 1
                        state.not_modified += 1
                    else:
                        rec[2] += 1
                        state.full += 1
                    state.body_bytes += sent

        def do_HEAD(self):
            self.do_GET()

    return Handler


def origin_serve(port):
    ThreadingHTTPServer.request_queue_size = 1024
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("127.0.0.1", port), origin_handler(OriginState()))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv.serve_forever(poll_interval=0.2)


# ---------------------------------------------------------------------------------------------
# Processes: started here, stopped here, by pid
# ---------------------------------------------------------------------------------------------
PROCS = []


def stop(p, grace=10.0):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    if p in PROCS:
        PROCS.remove(p)


def stop_all():
    for p in list(reversed(PROCS)):
        try:
            stop(p)
        except Exception as e:  # keep stopping the others
            print("smart.py: could not stop pid %d: %s" % (p.pid, e), file=sys.stderr)


atexit.register(stop_all)


def on_signal(signum, _frame):
    raise SystemExit("smart.py: stopped by signal %d" % signum)


class Fail(Exception):
    pass


def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Ports:
    def __init__(self, base):
        self.next, self.end = base, base + 200

    def take(self):
        while self.next < self.end:
            p = self.next
            self.next += 1
            if port_free(p):
                return p
            log("port %d is in use, skipping it" % p)
        raise Fail("no free port left in %d-%d (SMART_PORT_BASE)" % (self.end - 200, self.end))


def wait_until(cond, timeout, what, proc=None, logfile=None, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Fail("%s: process exited with %s%s" % (what, proc.returncode, tail(logfile)))
        try:
            if cond():
                return
        except (OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(step)
    raise Fail("%s: not ready after %.0f s%s" % (what, timeout, tail(logfile)))


def tail(logfile, n=15):
    if not logfile or not os.path.exists(logfile):
        return ""
    with open(logfile, errors="replace") as f:
        lines = f.readlines()[-n:]
    return "; log tail (%s):\n%s" % (logfile, "".join("    " + x for x in lines))


def log(msg):
    print("[smart %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# HTTP clients
# ---------------------------------------------------------------------------------------------
class Resp:
    __slots__ = ("status", "cache", "age", "etag", "version", "body", "headers", "t", "secs")


VERSION_RE = re.compile(rb'data-version="(\d+)"')


class Client:
    """One keep-alive connection; not thread-safe (one per thread)."""

    def __init__(self, port, timeout=60):
        self.port, self.timeout, self.conn = port, timeout, None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None):
        h = {"Host": HOST}
        h.update(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            t = time.time()
            t0 = time.monotonic()
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise
                continue
            out = Resp()
            out.t, out.secs = t, time.monotonic() - t0
            out.status, out.body = r.status, data
            out.headers = {k.lower(): v for k, v in r.getheaders()}
            out.cache = out.headers.get("x-cache-status", "-")
            age = out.headers.get("age")
            out.age = int(age) if age and age.isdigit() else None
            out.etag = out.headers.get("etag")
            m = VERSION_RE.search(data[:400])
            out.version = int(m.group(1)) if m else None
            if out.headers.get("connection", "").lower() == "close":
                self.close()
            return out

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)


def get_json(port, path, method="GET", body=None, auth=False):
    h = {"Content-Type": "application/json"}
    if auth:
        h["Authorization"] = "Bearer " + SECRET
    c = Client(port, timeout=30)
    try:
        r = c.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=h)
    finally:
        c.close()
    if r.status // 100 != 2:
        raise Fail("%s %s on :%d answered %d: %s" % (method, path, port, r.status, r.body[:300]))
    return json.loads(r.body)


class Origin:
    def __init__(self, run, port):
        self.port = port
        self.log = os.path.join(run.dir, "origin-%d.log" % port)
        with open(self.log, "w") as lf:
            self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--origin-serve", str(port)],
                                         stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        PROCS.append(self.proc)
        run.procs.append(self.proc)
        wait_until(lambda: get_json(port, "/__health"), 15, "origin on :%d" % port, self.proc, self.log)

    def config(self, **kw):
        return get_json(self.port, "/__config", "POST", kw)

    def bump(self, prefixes=(), paths=()):
        get_json(self.port, "/__bump", "POST", {"prefixes": list(prefixes), "paths": list(paths)})

    def reset(self):
        get_json(self.port, "/__reset", "POST", {})

    def stats(self, prefix=None):
        return get_json(self.port, "/__stats" + ("?prefix=" + prefix if prefix else ""))


class Regen:
    def __init__(self, run, name, port, origin_port, revalidate, renders=None, store=None, extra=""):
        self.name, self.port = name, port
        store = store or "embedded:" + os.path.join(run.dir, name + "-store")
        self.config_text = (
            "origin: http://127.0.0.1:%d\nlisten: 127.0.0.1:%d\nhost: %s\nunlisted-host: %s\n"
            "secret: <random, 32 hex>\nstore: %s\nmemory: 128MB\nrevalidate: %s\n%s%s"
            % (origin_port, port, HOST, HOST, store, revalidate,
               "renders: %s\n" % renders if renders else "", extra))
        cfg = os.path.join(run.dir, name + ".yaml")
        with open(cfg, "w") as f:
            f.write(self.config_text.replace("<random, 32 hex>", SECRET))
        self.log = os.path.join(run.dir, name + ".log")
        cmd = ["java"] + JVM_OPTS + ["-jar", JAR, "serve", "--config", cfg]
        with open(self.log, "w") as lf:
            self.proc = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         cwd=run.dir)
        PROCS.append(self.proc)
        run.procs.append(self.proc)

    def wait_ready(self):
        def ready():
            c = Client(self.port, timeout=5)
            try:
                return c.get("/_regen/health/ready").status == 200
            finally:
                c.close()
        wait_until(ready, 90, "regen %s on :%d" % (self.name, self.port), self.proc, self.log, 0.1)

    def stats(self):
        return get_json(self.port, "/_regen/api/stats", auth=True)

    def revalidate(self, body):
        return get_json(self.port, "/_regen/revalidate", "POST", body, auth=True)

    def metric(self, name, **labels):
        """Sum of the samples of one metric whose labels include these."""
        c = Client(self.port, timeout=30)
        try:
            r = c.get("/_regen/metrics", {"Authorization": "Bearer " + SECRET})
        finally:
            c.close()
        if r.status != 200:
            raise Fail("metrics on :%d answered %d" % (self.port, r.status))
        total, seen = 0.0, False
        for line in r.body.decode().splitlines():
            if not line.startswith(name):
                continue
            m = re.match(r"^(\w+)(?:\{(.*)\})?\s+(\S+)", line)
            if not m or m.group(1) != name:
                continue
            have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            if all(have.get(k) == v for k, v in labels.items()):
                total += float(m.group(3))
                seen = True
        return total if seen else None


class Run:
    """The processes of one scenario (or one half of it), stopped when the block ends."""

    def __init__(self, name):
        self.dir = os.path.join(RUN_DIR, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.procs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            stop(p)
        return False

    def origin(self, **cfg):
        o = Origin(self, PORTS.take())
        if cfg:
            o.config(**cfg)
        return o

    def regen(self, name, origin, revalidate, renders=None, store=None, wait=True):
        r = Regen(self, name, PORTS.take(), origin.port, revalidate, renders, store)
        if wait:
            r.wait_ready()
        return r

    def redis(self):
        port = PORTS.take()
        lf_path = os.path.join(self.dir, "redis.log")
        with open(lf_path, "w") as lf:
            p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", self.dir], stdout=lf, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
        PROCS.append(p)
        self.procs.append(p)
        wait_until(lambda: redis_cmd(port, "PING").strip() == "PONG", 15, "redis-server on :%d" % port, p, lf_path)
        return port


def redis_cmd(port, *args):
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port)] + list(args), capture_output=True,
                         text=True, timeout=10)
    if out.returncode != 0:
        raise OSError(out.stderr)
    return out.stdout


def commandstats(port):
    calls = {}
    for line in redis_cmd(port, "INFO", "commandstats").splitlines():
        m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
        if m:
            calls[m.group(1)] = int(m.group(2))
    return calls


def pct(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100.0 * len(s)) - 1))]


def paced(rate, duration, fn, stop_event=None):
    """Calls fn(i) rate times a second for duration seconds; a late call does not cause a burst."""
    t0 = time.monotonic()
    n = int(rate * duration)
    nxt = t0
    for i in range(n):
        if stop_event is not None and stop_event.is_set():
            return
        now = time.monotonic()
        if nxt > now:
            time.sleep(nxt - now)
        fn(i)
        nxt = max(nxt + 1.0 / rate, time.monotonic() - 0.5 / rate)


def warm(port, paths, workers):
    """GETs every path once; returns {cache status: count} and fails on a non-200."""
    local = threading.local()
    def one(p):
        if not hasattr(local, "c"):
            local.c = Client(port)
        r = local.c.get(p)
        if r.status != 200:
            raise Fail("warming %s answered %d" % (p, r.status))
        return r.cache
    counts = {}
    with ThreadPoolExecutor(workers) as ex:
        for s in ex.map(one, paths):
            counts[s] = counts.get(s, 0) + 1
    return counts


def yes(ok):
    return "**met**" if ok else "**missed**"


# ---------------------------------------------------------------------------------------------
# Scenarios: each returns (one-line summary, markdown section)
# ---------------------------------------------------------------------------------------------
def hot():
    secs = DURATION
    rows, configs = [], []
    for ra in ("0.2", "0"):
        with Run("hot-" + ra) as run:
            origin = run.origin(size=20 * KB, delay_ms=50)
            regen = run.regen("hot-" + ra, origin, "2s", "{refresh-ahead: %s}" % ra)
            configs.append(regen.config_text)
            c = Client(regen.port)
            first = c.get("/h/1")
            origin.reset()
            counts, ages, versions = {}, {}, set()
            stale_at = []
            t0 = time.monotonic()
            def one(_i):
                r = c.get("/h/1")
                counts[r.cache] = counts.get(r.cache, 0) + 1
                ages[r.age] = ages.get(r.age, 0) + 1
                if r.cache == "STALE":
                    stale_at.append(round(time.monotonic() - t0, 2))
            log("hot: refresh-ahead %s, 20 req/s for %d s" % (ra, secs))
            paced(20, secs, one)
            o, s = origin.stats(), regen.stats()
            c.close()
            max_age = max((a for a in ages if a is not None), default=None)
            rows.append({"ra": ra, "first": first.cache, "n": sum(counts.values()), "counts": counts,
                         "max_age": max_age, "ages": ages, "renders": o["total"],
                         "refreshAhead": s["refreshAhead"], "staleHits": s["staleHits"],
                         "stale_at": stale_at[:8]})
    new = rows[0]
    ok = new["counts"].get("STALE", 0) == 0 and new["max_age"] is not None and new["max_age"] <= 2
    L = ["## hot: one page at 20 req/s, revalidate 2 s", "",
         "One client, one keep-alive connection, GET /h/1 paced at 20 req/s for %d s after a first MISS; "
         "origin: 20 KB, 50 ms render. Regen restarted for each row." % secs, "",
         "| refresh-ahead | requests | HIT | STALE | MISS | max Age | Age histogram | origin renders | refreshAhead stat | first STALE at (s) |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        hist = ", ".join("%s: %d" % (k, v) for k, v in sorted(r["ages"].items(), key=lambda kv: (kv[0] is None, kv[0])))
        L.append("| %s | %d | %d | %d | %d | %s | %s | %d | %d | %s |" % (
            r["ra"], r["n"], r["counts"].get("HIT", 0), r["counts"].get("STALE", 0), r["counts"].get("MISS", 0),
            r["max_age"], hist, r["renders"], r["refreshAhead"], ", ".join(map(str, r["stale_at"])) or "-"))
    L += ["", "Bar (refresh-ahead 0.2): STALE 0 and max Age <= 2: %s." % yes(ok), "",
          "Config (refresh-ahead 0.2 row; the other row differs only in `refresh-ahead: 0`):", "", "```yaml",
          configs[0].rstrip(), "```"]
    summary = "hot: refresh-ahead 0.2: STALE %d, max Age %s, %d renders; refresh-ahead 0: STALE %d, max Age %s, %d renders -> %s" % (
        new["counts"].get("STALE", 0), new["max_age"], new["renders"], rows[1]["counts"].get("STALE", 0),
        rows[1]["max_age"], rows[1]["renders"], "met" if ok else "MISSED")
    return summary, L, ok


def eager():
    budget, delay, pages, recent = 8, 100, 500, 100
    with Run("eager") as run:
        origin = run.origin(size=20 * KB, delay_ms=delay, etag=True, honor_inm=True, cache_tag="t", cap=budget)
        regen = run.regen("eager", origin, "1h", "{budget: %d}" % budget)
        w = warm(regen.port, ["/e/%d" % i for i in range(1, pages + 1)], budget)
        log("eager: warmed %d pages %s" % (pages, w))
        c = Client(regen.port)
        for _ in range(2):
            for i in range(1, recent + 1):
                c.get("/e/%d" % i)
        origin.bump(prefixes=["/e/"])  # the edit: every page's next render is version 2
        origin.reset()
        records, stop_ev = [], threading.Event()
        def visitor():
            vc = Client(regen.port)
            i = 0
            while not stop_ev.is_set():
                path = "/e/%d" % (i % recent + 1)
                r = vc.get(path)
                records.append((r.t, path, r.cache, r.version, r.status))
                i += 1
            vc.close()
        th = threading.Thread(target=visitor, daemon=True)
        th.start()
        time.sleep(0.3)  # the visitor is in its loop before the edit lands
        t0 = time.time()
        answer = regen.revalidate({"tags": ["t"], "mode": "soft"})
        t_answer = time.time() - t0
        want = ["/e/%d" % i for i in range(1, recent + 1)]
        done, limits = {}, []
        def all_rendered():
            ps = origin.stats("/e/")["paths"]
            done.update(ps)
            limits.append(regen.stats()["budget"]["backgroundLimit"])
            return all(p in ps for p in want)
        timed_out = False
        try:
            wait_until(all_rendered, 60, "eager re-render of the 100 recent pages", step=0.02)
        except Fail:
            timed_out = True
        t_done = max((done[p][1] for p in want if p in done), default=time.time())
        ends = sorted(done[p][1] - t0 for p in want if p in done)
        first_end = ends[0] if ends else float("nan")
        o_during = origin.stats()
        # the visitor keeps going: at least 3 s and two passes over the 100 pages after completion
        deadline = time.time() + 10
        while time.time() < deadline and (time.time() < t_done + 3 or
                                          sum(1 for r in records if r[0] > t_done) < 2 * recent):
            time.sleep(0.05)
        stop_ev.set()
        th.join(10)
        during = [r for r in records if t0 <= r[0] <= t_done]
        after = [r for r in records if r[0] > t_done]
        stale_during = sum(1 for r in during if r[2] == "STALE")
        stale_after = [r for r in after if r[2] == "STALE"]
        old_after = [r for r in after if r[3] != 2]
        # every recent page now: the new version, from the cache
        final = [c.get(p) for p in want]
        wrong = [(p, r.cache, r.version) for p, r in zip(want, final) if r.version != 2 or r.cache != "HIT"]
        renders_recent = sum(done[p][0] for p in want if p in done)
        time.sleep(1.0)
        others = origin.stats("/e/")["paths"]
        rendered_others = sorted((p for p in others if p not in want), key=lambda p: int(p[3:]))
        # ten of the others: the first visitor gets the old page STALE, and a render follows
        visits = []
        for i in range(recent + 1, recent + 11):
            p = "/e/%d" % i
            r1 = c.get(p)
            try:
                wait_until(lambda: p in origin.stats("/e/")["paths"], 5, "render of %s" % p, step=0.02)
                rendered = True
            except Fail:
                rendered = False
            r2 = r1
            for _ in range(50):
                r2 = c.get(p)
                if r2.version == 2:
                    break
                time.sleep(0.02)
            visits.append((p, r1.cache, r1.version, rendered, r2.cache, r2.version))
        # again with no visitor running: the 110 pages read recently are all the webhook's to queue
        origin.bump(prefixes=["/e/"])
        origin.reset()
        want2 = ["/e/%d" % i for i in range(1, recent + 11)]
        t1 = time.time()
        answer2 = regen.revalidate({"tags": ["t"], "mode": "soft"})
        done2 = {}
        def all_rendered2():
            done2.update(origin.stats("/e/")["paths"])
            return all(p in done2 for p in want2)
        try:
            wait_until(all_rendered2, 60, "quiet eager re-render", step=0.02)
            quiet = max(done2[p][1] for p in want2) - t1
        except Fail:
            quiet = float("nan")
        o_quiet = origin.stats()
        c.close()
        s = regen.stats()
    ideal = math.ceil(recent / budget) * delay / 1000.0
    elapsed = t_done - t0
    visit_ok = all(v[1] == "STALE" and v[2] == 1 and v[3] and v[5] == 2 for v in visits)
    ok = (not timed_out and answer2.get("queued") == recent + 10 and o_quiet["max_inflight"] <= budget
          and not stale_after and not old_after and not wrong and not rendered_others and visit_ok
          and o_during["max_inflight"] <= budget)
    L = ["## eager: soft revalidation of a tag, 100 of 500 pages with recent traffic", "",
         "500 pages /e/1..500 (20 KB, 100 ms render, `Cache-Tag: t`, ETag + 304), warmed; /e/1..100 requested twice "
         "more; origin bumped to version 2; a visitor loop (one connection, sequential) over /e/1..100 running; then "
         "`POST /_regen/revalidate {\"tags\":[\"t\"],\"mode\":\"soft\"}`.", "",
         "| figure | value |", "|---|---|",
         "| webhook answer | `%s` |" % json.dumps(answer, separators=(",", ":"))[:300],
         "| time until the origin had re-rendered all 100 | %.2f s%s (ceil(100/8) x 100 ms = %.1f s; ratio %.2f) |" % (
             elapsed, " (timed out)" if timed_out else "", ideal, elapsed / ideal),
         "| webhook answered after | %.2f s (500 pages marked stale) |" % t_answer,
         "| first / 50th / 90th of the 100 re-rendered after | %.2f / %.2f / %.2f s |" % (
             first_end, pct(ends, 50), pct(ends, 90)),
         "| origin renders of /e/1..100 by then | %d (one each = 100) |" % renders_recent,
         "| background limit seen while polling (min-max) | %s-%s |" % (min(limits, default="?"), max(limits, default="?")),
         "| origin max in-flight during the re-render | %d (budget %d) |" % (o_during["max_inflight"], budget),
         "| visitor requests during / after | %d / %d |" % (len(during), len(after)),
         "| STALE during the re-render | %d (%.0f %% of requests) |" % (stale_during, 100.0 * stale_during / max(1, len(during))),
         "| STALE after it finished | %d%s |" % (len(stale_after), "" if not stale_after else " (first at +%.0f ms: %s)" % (
             1000 * (stale_after[0][0] - t_done), stale_after[0][1])),
         "| old version served after it finished | %d |" % len(old_after),
         "| /e/1..100 checked afterwards: not HIT with version 2 | %d %s |" % (len(wrong), wrong[:5] if wrong else ""),
         "| /e/101..500 rendered before any visit (1 s after) | %d %s |" % (len(rendered_others), rendered_others[:5]),
         "| /e/101..110 first visit (status, version) | %s |" % ", ".join("%s v%s" % (v[1], v[2]) for v in visits),
         "| /e/101..110 rendered after the visit, then served | %s |" % ", ".join(
             "%s%s v%s" % ("" if v[3] else "NOT RENDERED ", v[4], v[5]) for v in visits),
         "| the same with no visitor running (version 3; /e/1..110 read recently) | webhook `%s`; all 110 re-rendered "
         "after %.2f s (ceil(110/8) x 100 ms = %.1f s); origin renders %d, max in-flight %d |" % (
             json.dumps({k: answer2.get(k) for k in ("invalidated", "queued")}, separators=(",", ":")), quiet,
             math.ceil((recent + 10) / budget) * delay / 1000.0, o_quiet["total"], o_quiet["max_inflight"]),
         "| Regen stats | eagerRenders %d, staleHits %d, renders %d, notModified %d, shed %d |" % (
             s["eagerRenders"], s["staleHits"], s["renders"], s["notModified"], s["budget"]["shed"]),
         "", "Bars: no STALE and no old version after the re-render, all 100 new, the 400 others untouched until "
         "visited, max in-flight <= 8: %s. STALE during the re-render is reported, not barred." % yes(ok), "",
         "```yaml", regen.config_text.rstrip(), "```"]
    summary = "eager: queued %s, 100 re-rendered in %.2f s (ideal %.1f s; quiet: queued %s, %.2f s), STALE during %d / after %d, others rendered early %d, max in-flight %d -> %s" % (
        answer.get("queued"), elapsed, ideal, answer2.get("queued"), quiet, stale_during, len(stale_after), len(rendered_others), o_during["max_inflight"], "met" if ok else "MISSED")
    return summary, L, ok


def unchanged():
    secs, pages, rate = UNCHANGED_DURATION, 50, 50
    with Run("unchanged") as run:
        rport = run.redis()
        origin = run.origin(size=20 * KB, delay_ms=50)
        store = "redis://127.0.0.1:%d" % rport
        nodes = [run.regen("node%d" % i, origin, "2s", store=store, wait=False) for i in (1, 2, 3)]
        for n in nodes:
            n.wait_ready()
        paths = ["/u/%d" % i for i in range(1, pages + 1)]
        etags = {p: {} for p in paths}  # etag -> how many responses, first seen (node, status, phase)
        bodies = {p: set() for p in paths}
        warmed = []
        def saw(p, etag, where):
            e = etags[p].setdefault(etag, [0, where])
            e[0] += 1
        for k, n in enumerate(nodes):
            c = Client(n.port)
            st = {}
            for p in paths:
                r = c.get(p)
                st[r.cache] = st.get(r.cache, 0) + 1
                saw(p, r.etag, "node%d %s warm-up" % (k + 1, r.cache))
                bodies[p].add(zlib.crc32(r.body))
            c.close()
            warmed.append(st)
        def snap():
            return [{"put": n.metric("regen_store_operation_duration_seconds_count", op="put") or 0,
                     "meta": n.metric("regen_store_operation_duration_seconds_count", op="replace_metadata") or 0,
                     "stats": n.stats()} for n in nodes]
        before, cs_before = snap(), commandstats(rport)
        origin.reset()
        statuses = [{} for _ in nodes]
        errors = []
        def load(k):
            c = Client(nodes[k].port)
            rnd = random.Random(k)
            def one(_i):
                p = paths[rnd.randrange(pages)]
                r = c.get(p)
                if r.status != 200:
                    errors.append((k, p, r.status))
                statuses[k][r.cache] = statuses[k].get(r.cache, 0) + 1
                saw(p, r.etag, "node%d %s load t+%.1fs" % (k + 1, r.cache, time.monotonic() - t_load))
                bodies[p].add(zlib.crc32(r.body))
            try:
                paced(rate, secs, one)
            finally:
                c.close()
        log("unchanged: 3 nodes x %d req/s for %d s" % (rate, secs))
        t_load = time.monotonic()
        ths = [threading.Thread(target=load, args=(k,), daemon=True) for k in range(3)]
        for t in ths:
            t.start()
        for t in ths:
            t.join(secs + 60)
        time.sleep(0.5)
        after, cs_after = snap(), commandstats(rport)
        o = origin.stats()
        m = re.search(r"redis_version:(\S+)", redis_cmd(rport, "INFO", "server"))
        redis_version = m.group(1) if m else "?"
    # a MISS streams before its body is whole, so it carries no derived ETag: not a change
    changed = [p for p in paths if len([e for e in etags[p] if e is not None]) > 1]
    no_etag = sum(v[0] for p in paths for e, v in etags[p].items() if e is None)
    body_changed = [p for p in paths if len(bodies[p]) > 1]
    puts = sum(a["put"] - b["put"] for a, b in zip(after, before))
    drops_load = sum(a["stats"]["clusterDrops"] - b["stats"]["clusterDrops"] for a, b in zip(after, before))
    drops_total = sum(a["stats"]["clusterDrops"] for a in after)
    ok = puts == 0 and drops_total == 0 and not changed and not errors
    L = ["## unchanged: 3 nodes on one redis-server, constant pages", "",
         "redis-server %s (no persistence), 3 Regen nodes (same config), 50 pages /u/1..50 (20 KB, 50 ms render, "
         "no ETag from the origin, bodies never change), revalidate 2 s. Warm-up: node1, node2, node3 each GET "
         "every page once (node1: %s; node2: %s; node3: %s). Then %d s of load: one client per node, %d req/s, "
         "random pages. Origin renders during the load: %d." % (
             redis_version,
             warmed[0], warmed[1], warmed[2], secs, rate, o["total"]), "",
         "| node | store put (body) before -> after | replace_metadata before -> after | renders | unchangedRenders | clusterDrops | clusterRefreshes | staleHits | responses during load |",
         "|---|---|---|---|---|---|---|---|---|"]
    for i, (b, a) in enumerate(zip(before, after)):
        L.append("| node%d | %d -> %d | %d -> %d | %d | %d | %d | %d | %d | %s |" % (
            i + 1, b["put"], a["put"], b["meta"], a["meta"], a["stats"]["renders"], a["stats"]["unchangedRenders"],
            a["stats"]["clusterDrops"], a["stats"]["clusterRefreshes"], a["stats"]["staleHits"],
            ", ".join("%s %d" % kv for kv in sorted(statuses[i].items()))))
    delta = {k: cs_after.get(k, 0) - cs_before.get(k, 0) for k in set(cs_after) | set(cs_before)}
    top = sorted(((v, k) for k, v in delta.items() if v), reverse=True)
    L += ["", "Redis `INFO commandstats`, calls during the load (after - before): " +
          (", ".join("%s %d" % (k, v) for v, k in top) or "none") + ".",
          "Redis calls before the load (warm-up, start-up): " +
          ", ".join("%s %d" % (k, v) for k, v in sorted(cs_before.items(), key=lambda kv: -kv[1])) + ".", "",
          "Body writes after warm-up (sum of put deltas): %d; clusterDrops: %d in total, %d during the load; "
          "pages whose ETag changed for a client: %d %s (responses without an ETag, the warm-up MISSes: %d); "
          "pages whose body bytes changed: %d; non-200: %d." % (
              puts, drops_total, drops_load, len(changed), changed[:5], no_etag, len(body_changed), len(errors))]
    if changed:
        L += ["ETags one client saw for %s (responses, first seen): %s." % (
            changed[0], "; ".join("`%s` %d, %s" % (e, v[0], v[1]) for e, v in etags[changed[0]].items()))]
    L += ["",
          "Bars: body writes after warm-up 0, drops 0, ETag unchanged: %s." % yes(ok), "",
          "```yaml", nodes[0].config_text.rstrip(), "```"]
    summary = "unchanged: body writes after warm-up %d, replace_metadata %d, unchangedRenders %d, drops %d, refreshes %d, ETag changes %d -> %s" % (
        puts, sum(a["meta"] - b["meta"] for a, b in zip(after, before)),
        sum(a["stats"]["unchangedRenders"] for a in after), drops_total,
        sum(a["stats"]["clusterRefreshes"] for a in after), len(changed), "met" if ok else "MISSED")
    return summary, L, ok


def conditional():
    secs, pages, rate = CONDITIONAL_DURATION, 50, 100
    rows, cfg = [], None
    for mode in ("304", "200"):
        with Run("conditional-" + mode) as run:
            origin = run.origin(size=20 * KB, delay_ms=50, etag=True, honor_inm=(mode == "304"))
            regen = run.regen("conditional-" + mode, origin, "1s")
            cfg = regen.config_text
            paths = ["/c/%d" % i for i in range(1, pages + 1)]
            warm(regen.port, paths, 8)
            origin.reset()
            s0 = regen.stats()
            c = Client(regen.port)
            counts = {}
            rnd = random.Random(1)
            def one(_i):
                r = c.get(paths[rnd.randrange(pages)])
                counts[r.cache] = counts.get(r.cache, 0) + 1
            log("conditional: origin %s, %d req/s for %d s" % ("answers 304" if mode == "304" else "ignores If-None-Match", rate, secs))
            paced(rate, secs, one)
            c.close()
            time.sleep(0.3)
            o, s = origin.stats(), regen.stats()
            rows.append({"mode": mode, "o": o, "counts": counts,
                         "nm": s["notModified"] - s0["notModified"], "un": s["unchangedRenders"] - s0["unchangedRenders"],
                         "ahead": s["refreshAhead"] - s0["refreshAhead"], "misses": s["misses"] - s0["misses"]})
    per = [r["o"]["body_bytes"] / max(1, r["o"]["total"]) for r in rows]
    reduction = 1 - per[0] / per[1] if per[1] else float("nan")
    ok = reduction >= 0.9
    L = ["## conditional: origin answering 304 vs ignoring If-None-Match", "",
         "50 pages /c/1..50 (20 KB, 50 ms render, ETag per version, bodies never change), warmed, then %d s at "
         "%d req/s over random pages; refresh-ahead default (0.2). Each row: a fresh origin and Regen. "
         "All origin requests during the load are background renders (no misses: see column)." % (secs, rate), "",
         "| origin | background renders | 200 / 304 | body bytes sent | bytes per render | Regen notModified | unchangedRenders | refreshAhead | misses | responses |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for r, b in zip(rows, per):
        o = r["o"]
        L.append("| %s | %d | %d / %d | %d | %.0f | %d | %d | %d | %d | %s |" % (
            "answers 304" if r["mode"] == "304" else "ignores If-None-Match", o["total"], o["full"], o["not_modified"],
            o["body_bytes"], b, r["nm"], r["un"], r["ahead"], r["misses"],
            ", ".join("%s %d" % kv for kv in sorted(r["counts"].items()))))
    L += ["", "Body bytes per background render reduced by %.1f %% (bar >= 90 %%): %s." % (100 * reduction, yes(ok)), "",
          "```yaml", cfg.rstrip(), "```"]
    summary = "conditional: bytes/render %.0f (304) vs %.0f (ignored) -> reduced %.1f %% -> %s" % (
        per[0], per[1], 100 * reduction, "met" if ok else "MISSED")
    return summary, L, ok


def budget():
    limit, delay, pages, cold = 4, 100, 1000, 50
    with Run("budget") as run:
        origin = run.origin(size=20 * KB, delay_ms=5, cap=limit)
        regen = run.regen("budget", origin, "1s", "{budget: %d, background-queue: 2000}" % limit)
        paths = ["/b/%d" % i for i in range(1, pages + 1)]
        w = warm(regen.port, paths, limit)
        log("budget: warmed %d pages %s" % (pages, w))
        origin.config(delay_ms=delay)
        time.sleep(1.5)  # every page stale now
        origin.reset()
        s0 = regen.stats()
        burst_status, lat = {}, []
        visitor_status = {}
        def visitor():
            vc = Client(regen.port)
            for i in range(1, cold + 1):
                r = vc.get("/cold/%d" % i)
                lat.append((r.secs, "/cold/%d" % i, r.t))
                visitor_status[r.cache] = visitor_status.get(r.cache, 0) + 1
            vc.close()
        t0 = time.time()
        th = threading.Thread(target=visitor, daemon=True)
        local = threading.local()
        def one(p):
            if not hasattr(local, "c"):
                local.c = Client(regen.port)
            return local.c.get(p).cache
        log("budget: %d stale pages requested at once, %d cold pages by a visitor" % (pages, cold))
        with ThreadPoolExecutor(16) as ex:
            futs = ex.map(one, paths)
            th.start()
            for st in futs:
                burst_status[st] = burst_status.get(st, 0) + 1
        t_burst = time.time() - t0
        th.join(120)
        # drained: nothing waiting, nothing rendering, for 1 s
        idle_since = [None]
        def drained():
            b = regen.stats()["budget"]
            o = origin.stats()
            idle = b["backgroundWaiting"] == 0 and b["inUse"] == 0 and o["inflight"] == 0
            if not idle:
                idle_since[0] = None
                return False
            idle_since[0] = idle_since[0] or time.time()
            return time.time() - idle_since[0] >= 1.0
        wait_until(drained, 180, "the background backlog to drain", step=0.1)
        ps = origin.stats("/b/")["paths"]
        cold_ps = origin.stats("/cold/")["paths"]
        t_drain = max((v[1] for v in ps.values()), default=t0) - t0
        o, s = origin.stats(), regen.stats()
    shed = s["budget"]["shed"] - s0["budget"]["shed"]
    lat_ms = [x * 1000 for x, _, _ in lat]
    # a miss's time before the origin's handler began (waiting for a slot, mostly) and after it ended
    before = sorted(1000 * (cold_ps[p][4] - t) for x, p, t in lat if p in cold_ps)
    after = sorted(1000 * (t + x - cold_ps[p][1]) for x, p, t in lat if p in cold_ps)
    p50, p99, mx = pct(lat_ms, 50), pct(lat_ms, 99), max(lat_ms)
    bar_lat = 2 * delay + 50
    ideal = (len(ps) + cold) * delay / 1000.0 / limit
    ok = o["max_inflight"] <= limit and p99 <= bar_lat
    L = ["## budget: 1,000 background refreshes and a visitor's misses under `budget: 4`", "",
         "1,000 pages /b/1..1000 (20 KB) warmed at 5 ms a render, origin then set to 100 ms, pages left to turn "
         "stale (revalidate 1 s, +1.5 s); each requested once by 16 client threads (%.2f s for all 1,000); meanwhile one visitor "
         "requests 50 never-seen pages /cold/1..50 one after another." % t_burst, "",
         "| figure | value |", "|---|---|",
         "| burst responses | %s |" % ", ".join("%s %d" % kv for kv in sorted(burst_status.items())),
         "| origin max in-flight | %d (budget %d; renders that started above it: %d) |" % (o["max_inflight"], limit, o["over_cap"]),
         "| visitor responses | %s |" % ", ".join("%s %d" % kv for kv in sorted(visitor_status.items())),
         "| visitor miss latency p50 / p99 / max | %.0f / %.0f / %.0f ms (render 100 ms; bar p99 <= %d ms; %d samples, so p99 is the worst; over 150 ms: %d) |" % (
             p50, p99, mx, bar_lat, len(lat_ms), sum(1 for x in lat_ms if x > 150)),
         "| visitor miss: request sent to origin handler start (slot wait) p50 / p90 / max | %.0f / %.0f / %.0f ms |" % (
             pct(before, 50), pct(before, 90), max(before, default=float("nan"))),
         "| visitor miss: origin handler end to response received p50 / p90 / max | %.0f / %.0f / %.0f ms |" % (
             pct(after, 50), pct(after, 90), max(after, default=float("nan"))),
         "| background pages re-rendered | %d of %d (origin renders in all: %d) |" % (len(ps), pages, o["total"]),
         "| backlog drained after | %.1f s (ideal (renders x 100 ms) / 4 = %.1f s) |" % (t_drain, ideal),
         "| shed (background-queue 2000) | %d |" % shed,
         "| budget at the end | %s |" % json.dumps(s["budget"], separators=(",", ":")),
         "", "Bars: origin max in-flight <= 4 and visitor miss p99 <= %d ms: %s." % (bar_lat, yes(ok)), "",
         "```yaml", regen.config_text.rstrip(), "```"]
    summary = "budget: max in-flight %d (<= %d), visitor miss p50/p99/max %.0f/%.0f/%.0f ms, drained in %.1f s (ideal %.1f), shed %d -> %s" % (
        o["max_inflight"], limit, p50, p99, mx, t_drain, ideal, shed, "met" if ok else "MISSED")
    return summary, L, ok


SCENARIOS = {"hot": hot, "eager": eager, "unchanged": unchanged, "conditional": conditional, "budget": budget}


def machine_note():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    return "%d CPUs (%s), load average at start %s; %s; python %s" % (
        os.cpu_count(), model, " ".join("%.2f" % x for x in os.getloadavg()), java[0] if java else "java ?",
        sys.version.split()[0])


def main():
    global DURATION, UNCHANGED_DURATION, CONDITIONAL_DURATION, JAR, JVM_OPTS, RUN_DIR, PORTS
    if len(sys.argv) == 3 and sys.argv[1] == "--origin-serve":
        return origin_serve(int(sys.argv[2]))
    names = sys.argv[1:] or list(SCENARIOS)
    bad = [n for n in names if n not in SCENARIOS]
    if bad:
        sys.exit("smart.py: unknown scenario %s; choose from %s" % (bad, " ".join(SCENARIOS)))
    DURATION = env_int("DURATION", 60, 5, 600)
    UNCHANGED_DURATION = env_int("UNCHANGED_DURATION", 30, 5, 600)
    CONDITIONAL_DURATION = env_int("CONDITIONAL_DURATION", 20, 5, 600)
    JAR = os.environ.get("REGEN_JAR", os.path.join(REPO, "regen-server", "target", "regen.jar"))
    JVM_OPTS = os.environ.get("REGEN_JVM_OPTS", "-XX:+UseSerialGC -Xms128m -Xmx512m").split()
    RUN_DIR = os.environ.get("RUN_DIR", "/tmp/regen-smart")
    PORTS = Ports(env_int("SMART_PORT_BASE", 18300, 1024, 65000))
    results_dir = os.environ.get("RESULTS_DIR", os.path.join(BENCH_DIR, "results"))
    if not os.path.isfile(JAR):
        sys.exit("smart.py: no Regen jar at %s (build: mvn -q -DskipTests -pl regen-server -am package, "
                 "or set REGEN_JAR)" % JAR)
    for tool in ["java"] + (["redis-server", "redis-cli"] if "unchanged" in names else []):
        if shutil.which(tool) is None:
            sys.exit("smart.py: missing %s on PATH%s" % (tool, " (apt-get install redis-server)" if "redis" in tool else ""))
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    os.makedirs(RUN_DIR, exist_ok=True)
    os.makedirs(results_dir, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = os.path.join(results_dir, stamp + "-smart.md")
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "?"
    jar_version = (subprocess.run(["java", "-jar", JAR, "--version"], capture_output=True, text=True, timeout=60)
                   .stdout.splitlines() or ["?"])[0]
    with open(out, "w") as f:
        f.write("# Smarter regeneration, issue 17 (bench/smart.py)\n\n"
                "Run %s; bench/smart.py at %s; jar %s (%s, %d bytes); JVM %s; scenarios: %s.\nMachine: %s.\n"
                "Everything on 127.0.0.1; origin, clients and Regen share the machine's cores.\n" % (
                    time.strftime("%Y-%m-%d %H:%M"), commit, JAR, jar_version, os.path.getsize(JAR), " ".join(JVM_OPTS),
                    " ".join(names), machine_note()))
    summaries, failed = [], []
    started = time.monotonic()
    try:
        for name in names:
            t = time.monotonic()
            try:
                summary, lines, ok = SCENARIOS[name]()
            except (Fail, OSError, http.client.HTTPException, ValueError, KeyError) as e:
                summary, lines, ok = "%s: FAILED: %s" % (name, e), ["## %s", "", "FAILED: %s" % e], False
                lines[0] = "## %s" % name
                failed.append(name)
            lines.append("")
            lines.append("_%s took %.0f s; load average after it: %s._" % (
                name, time.monotonic() - t, " ".join("%.2f" % x for x in os.getloadavg())))
            with open(out, "a") as f:
                f.write("\n" + "\n".join(lines) + "\n")
            summaries.append(summary)
            print(summary, flush=True)
            if not ok and name not in failed:
                failed.append(name + " (bar)")
    finally:
        stop_all()
    log("done in %.0f s; results: %s" % (time.monotonic() - started, out))
    if failed:
        log("not met or failed: %s" % ", ".join(failed))
    return 1 if any("(bar)" not in f for f in failed) else 0


if __name__ == "__main__":
    sys.exit(main())
