#!/usr/bin/env python3
"""Start-up time of `./regen serve`: from launching the command to its first proxied response.

    bench/startup.py [RUNS]        # default 5 runs, after one untimed run (it builds the jar and CDS archive if stale)

Starts the peer harness's origin (bench/peers/origin.py, 50 ms renders) on 127.0.0.1:18100, then
for each run: a fresh embedded store, `./regen serve` on 127.0.0.1:18130, GET /p/1 (a miss: the origin
renders it) as soon as the port accepts, then a second miss and a hit for comparison; SIGTERM. Prints
one line per run and the median. Loopback only; every wait is bounded.
"""
import http.client, os, shutil, signal, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORIGIN = os.path.join(REPO, "bench", "peers", "origin.py")
PORT, ORIGIN_PORT = 18130, 18100


def get(path):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    return r.status


def one(store):
    shutil.rmtree(store, ignore_errors=True)
    cmd = [os.path.join(REPO, "regen"), "serve", "--origin", "http://127.0.0.1:%d" % ORIGIN_PORT,
           "--port", str(PORT), "--store", "embedded:" + store]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if time.perf_counter() - t0 > 120 or p.poll() is not None:
                raise RuntimeError("regen did not start")
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).connect()
                break
            except OSError:
                time.sleep(0.002)
        bound = time.perf_counter() - t0
        status = get("/p/1")
        first = time.perf_counter() - t0
        t1 = time.perf_counter(); get("/p/2"); second = time.perf_counter() - t1
        return bound, first, second, status
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    origin = subprocess.Popen([sys.executable, ORIGIN, "--port", str(ORIGIN_PORT)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = tempfile.mkdtemp(prefix="regen-startup-")
    try:
        time.sleep(0.5)
        one(store)  # untimed: builds the jar and the CDS archive when they are stale
        firsts = []
        for i in range(runs):
            bound, first, second, status = one(store)
            firsts.append(first)
            print("run %d: port open %.3f s, first response %.3f s (HTTP %d), a later miss %.0f ms"
                  % (i + 1, bound, first, status, second * 1000))
        print("median first response: %.3f s over %d runs" % (statistics.median(firsts), runs))
    finally:
        origin.terminate()
        origin.wait()
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
