#!/usr/bin/env python3
"""Compares commands on a shared, noisy machine: each round runs every command once, in turn, so
that a slow minute hits all of them alike (hyperfine runs one command's runs back to back).

    benches/interleaved.py ROUNDS 'command one' 'command two' ...

Prints, per command, the minimum, first quartile and median of the wall time and of the CPU time
(user + system of the command and its children), in seconds. Commands run through the shell,
their output discarded; a non-zero exit does not count as a failure (faultline exits 1 when it
finds failing connections)."""
import resource
import subprocess
import sys
import time


def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def quantile(xs, q):
    xs = sorted(xs)
    return xs[int(q * (len(xs) - 1))]


def main():
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    rounds, cmds = int(sys.argv[1]), sys.argv[2:]
    times = {c: [] for c in cmds}
    for _ in range(rounds):
        for c in cmds:
            times[c].append(run(c))
    for c in cmds:
        wall = [w for w, _ in times[c]]
        cpu = [u for _, u in times[c]]
        print(f"wall min {min(wall):.3f} p25 {quantile(wall, .25):.3f} med {quantile(wall, .5):.3f}"
              f" | cpu min {min(cpu):.3f} p25 {quantile(cpu, .25):.3f} med {quantile(cpu, .5):.3f}"
              f" | {c}")


if __name__ == "__main__":
    main()
