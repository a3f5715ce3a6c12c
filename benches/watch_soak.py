#!/usr/bin/env python3
"""Soak benchmark of `faultline watch` (issue 9): a writer at RATE lines/s rotates the log
ROTATIONS times each way (rename-and-create, and copytruncate) while `faultline watch` follows
the directory; every line is a failing line with a unique timestamp, so every line must come
back as exactly one `match` event.

    python3 benches/watch_soak.py [--rate 10000] [--rotations 200] [--keep 5] [--poll] [--bin PATH]

Reports lines lost and duplicated, p50/p99 latency from a line's write to its event, CPU and
peak RSS of faultline over the run, and its CPU while the files are idle afterwards. Targets on
the project's 2-core machine: 0 lost, 0 duplicated, p50 <= 50 ms with notify and <= 1.5 s with
--poll, peak RSS <= 32 MiB, idle CPU <= 1 % of a core. Build first: cargo build --release.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

BASE = 1760432400  # 2025-10-14T09:00:00Z: line n has the timestamp BASE + n microseconds
LINE = ('{{"level":"error","ts":"{ts}","msg":"Exporting failed. Dropping data.","error":"no more '
        'retries left: failed to make an HTTP request: Post \\"https://otel-auto-ops.eu-west-1.aws.'
        'svc.elastic.cloud/v1/logs\\": dial tcp: lookup otel-auto-ops.eu-west-1.aws.svc.elastic.'
        'cloud on 127.0.0.11:53: no such host","dropped_items":{n}}}\n')


def ts_of(n):
    s, us = divmod(n, 1_000_000)
    t = time.gmtime(BASE + s)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{us:06d}Z"


def seq_of(ts):
    # "2025-10-14T09:00:00.000123Z" (jiff prints the fraction without trailing zeros)
    main, _, frac = ts.rstrip("Z").partition(".")
    st = time.strptime(main, "%Y-%m-%dT%H:%M:%S")
    secs = int(time.mktime(st) - time.mktime(time.gmtime(0))) - BASE
    us = int((frac + "000000")[:6]) if frac else 0
    return secs * 1_000_000 + us


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(parts[11]) + int(parts[12])) / tick


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=10000, help="lines per second")
    ap.add_argument("--rotations", type=int, default=200, help="rotations of each kind")
    ap.add_argument("--lines-per-rotation", type=int, default=2000)
    ap.add_argument("--poll", action="store_true", help="run faultline with --poll")
    ap.add_argument("--keep", type=int, default=5,
                    help="rotated files kept (older ones are deleted); a file deleted before "
                         "faultline looks at it is lost to any follower, so with --poll keep "
                         "more than a poll interval's worth")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    ap.add_argument("--bin", default="target/release/faultline")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="faultline-soak-")
    log = os.path.join(work, "agent.log")
    open(log, "w").close()
    cmd = [os.path.abspath(args.bin), "watch", "--format", "ndjson", work]
    if args.poll:
        cmd.insert(2, "--poll")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=1 << 20)
    # Ready once it says what it watches.
    while True:
        line = proc.stderr.readline().decode()
        if not line or line.startswith("faultline: watching"):
            break
    arrived = {}
    dups = 0
    lock = threading.Lock()

    def read():
        nonlocal dups
        for raw in proc.stdout:
            now = time.monotonic()
            if not raw.startswith(b'{"type":"match"'):
                continue
            ev = json.loads(raw)
            n = seq_of(ev["timestamp"])
            with lock:
                if n in arrived:
                    dups += 1
                else:
                    arrived[n] = now

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    written = {}
    total = args.rotations * 2 * args.lines_per_rotation
    batch = max(1, args.rate // 100)  # a batch every 10 ms
    cpu0 = cpu_seconds(proc.pid)
    t0 = time.monotonic()
    n = 0
    rotations = {"rename": 0, "copytruncate": 0}
    kept = []
    f = open(log, "a")
    while n < total:
        due = t0 + n / args.rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        chunk = []
        for _ in range(min(batch, total - n)):
            chunk.append(LINE.format(ts=ts_of(n), n=n))
            n += 1
        f.write("".join(chunk))
        f.flush()
        now = time.monotonic()
        for k in range(n - len(chunk), n):
            written[k] = now
        if n % args.lines_per_rotation == 0 and n < total:
            i = n // args.lines_per_rotation
            rotated = os.path.join(work, f"agent.log.{i}")
            if i % 2:
                f.close()
                os.rename(log, rotated)
                f = open(log, "a")
                rotations["rename"] += 1
            else:
                shutil.copyfile(log, rotated)
                f.truncate(0)
                f.seek(0)
                rotations["copytruncate"] += 1
            kept.append(rotated)
            while len(kept) > args.keep:
                os.remove(kept.pop(0))
    f.close()
    write_secs = time.monotonic() - t0
    # Wait for the last lines (10 s at most), then measure the idle CPU.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lock:
            if len(arrived) >= total:
                break
        time.sleep(0.05)
    cpu_run = cpu_seconds(proc.pid) - cpu0
    run_secs = time.monotonic() - t0
    rss = peak_rss_kib(proc.pid)
    time.sleep(1.0)
    idle0 = cpu_seconds(proc.pid)
    time.sleep(args.idle)
    idle_cpu = (cpu_seconds(proc.pid) - idle0) / args.idle
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    reader.join(timeout=10)
    shutil.rmtree(work, ignore_errors=True)

    with lock:
        lost = total - len(arrived)
        lat = [(arrived[k] - written[k]) * 1000 for k in arrived if k in written]
    mode = "--poll (1 s)" if args.poll else "notify"
    print(f"watch soak, {mode}: {total} lines at {total / write_secs:.0f} lines/s over {write_secs:.1f} s, "
          f"{rotations['rename']} rename and {rotations['copytruncate']} copytruncate rotations, "
          f"{args.keep} rotated files kept")
    print(f"  lost {lost}, duplicated {dups}")
    print(f"  latency line -> event: p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms, max {max(lat) if lat else float('nan'):.1f} ms")
    print(f"  CPU {100 * cpu_run / run_secs:.1f} % of a core while writing; idle {100 * idle_cpu:.2f} % over {args.idle:.0f} s")
    print(f"  peak RSS {rss / 1024:.1f} MiB")
    return 0 if lost == 0 and dups == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
