#!/usr/bin/env python3
"""Turns benchmark result lines (name wall_s maxrss_kb written_bytes output_bytes) into a markdown table."""
import statistics
import sys
from collections import defaultdict

rows = defaultdict(list)
with open(sys.argv[1]) as f:
    for line in f:
        name, wall, rss, written, size = line.split()
        rows[name].append((float(wall), int(rss), int(written), int(size)))

title = sys.argv[2] if len(sys.argv) > 2 else "benchmark"
ferry = statistics.median(r[0] for r in rows["ferry"]) if "ferry" in rows else None
print(f"### {title}\n")
print("| tool | wall s (median) | min–max | Ferry ÷ tool | peak RSS MB | bytes written | output bytes | written ÷ output |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, runs in rows.items():
    wall = statistics.median(r[0] for r in runs)
    rss = statistics.median(r[1] for r in runs) / 1024
    written = statistics.median(r[2] for r in runs)
    size = statistics.median(r[3] for r in runs)
    ratio = f"{ferry / wall:.2f}" if ferry and name != "ferry" else "–"
    wr = f"{written / size:.3f}" if size else "–"
    print(f"| {name} | {wall:.2f} | {min(r[0] for r in runs):.2f}–{max(r[0] for r in runs):.2f} | {ratio} | {rss:.0f} | {written:,.0f} | {size:,.0f} | {wr} |")
