#!/usr/bin/env python3
"""Summarises a JMH JSON result (-rf json -rff FILE): per benchmark the mean JMH prints, and the median and
minimum of the measured iterations. On this shared, noisy VM the minimum is the cost with the least
interference from other processes, and the median what a typical iteration saw.

    java -jar regen-benchmarks/target/benchmarks.jar LayoutBenchmark -rf json -rff /tmp/layout.json
    bench/jmh-summary.py /tmp/layout.json
"""
import json
import statistics
import sys

for run in json.load(open(sys.argv[1])):
    name = run["benchmark"].rsplit(".", 1)[-1]
    params = ",".join("%s=%s" % kv for kv in sorted((run.get("params") or {}).items()) if kv[1])
    raw = [x for fork in run["primaryMetric"]["rawData"] for x in fork]
    unit = run["primaryMetric"]["scoreUnit"]
    print("%-28s %-12s mean %9.3f  median %9.3f  min %9.3f  %s  (%d iterations)" % (
        name, params, run["primaryMetric"]["score"], statistics.median(raw), min(raw), unit, len(raw)))
