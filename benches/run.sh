#!/usr/bin/env bash
# The throughput benchmark of issue 4, in one command (see benches/README.md):
#
#   benches/run.sh [SIZE]    faultline vs `rg -F -f` with faultline's own anchors, side by side,
#                            on a generated corpus of SIZE (default 1GiB) and a 10 % failure storm
#   benches/run.sh --sizes   linearity: the same at 100MiB, 1GiB and 4GiB (4GiB if the disk has room)
#
# Environment: RUNS (default 5), WARMUP (default 1), SEED (default 1), RATIO_ROUNDS (interleaved
# rounds of the storm's JSON and NDJSON, default 7), SIZES (for --sizes, e.g. "100MiB 1GiB").
# Corpora and results go to benches/corpus/ (git-ignored); a corpus is generated once and reused
# until the generator or its arguments change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
SEED=${SEED:-1}
RATIO_ROUNDS=${RATIO_ROUNDS:-7}
CORPUS=benches/corpus
OUT=$CORPUS/results
ANCHORS=$CORPUS/anchors.txt
# The 45 anchors faultline searched before its prefilter was rewritten (42cd2f8). Rule files that
# anchor on longer literals make the list longer, and rg slower on it: the ratio is also given
# against this fixed list, so that rg's side does not move with faultline's rules.
BASELINE=benches/anchors-baseline.txt
GEN=target/release/examples/gencorpus
# The binary is copied here after the build, so a concurrent `cargo build` cannot swap it mid-run.
BIN=$OUT/faultline

log() { printf '\n== %s\n' "$*" >&2; }

ensure_tools() {
	local missing=()
	command -v rg >/dev/null || missing+=(ripgrep)
	command -v hyperfine >/dev/null || missing+=(hyperfine)
	[ -x /usr/bin/time ] || missing+=(time)
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		apt-get install -y "${missing[@]}" || { apt-get update && apt-get install -y "${missing[@]}"; }
	fi
	command -v python3 >/dev/null || {
		echo "benches/run.sh: python3 is needed to read hyperfine's JSON" >&2
		exit 2
	}
}

build() {
	log "cargo build --release"
	cargo build --release
	cargo build --release --example gencorpus
	mkdir -p "$OUT"
	# A copy renamed into place: another run may be executing the previous copy.
	cp target/release/faultline "$BIN.$$"
	mv -f "$BIN.$$" "$BIN"
	local head dirty
	head=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	# Uncommitted changes to what goes into the binary (the benchmark's own files do not count).
	local paths=(. ':!benches' ':!examples')
	dirty=$(git status --porcelain --untracked-files=no -- "${paths[@]}" 2>/dev/null | wc -l)
	if [ "$dirty" -gt 0 ]; then
		head="$head+dirty (diff $(git diff HEAD -- "${paths[@]}" | sha256sum | cut -c1-10): $(git status --porcelain --untracked-files=no -- "${paths[@]}" | awk '{print $2}' | paste -sd' '))"
	fi
	FAULTLINE_TREE=$head
	"$BIN" rules anchors >"$ANCHORS"
	log "$(wc -l <"$ANCHORS") anchors in $ANCHORS"
}

bytes_of() { # 100MiB, 1GiB, 4G, 500MB, 12345 -> bytes
	python3 -c '
import re, sys
m = re.fullmatch(r"([0-9.]+)\s*([A-Za-z]*)", sys.argv[1].strip())
units = {"": 1, "b": 1, "k": 2**10, "kib": 2**10, "m": 2**20, "mib": 2**20, "g": 2**30, "gib": 2**30,
         "kb": 10**3, "mb": 10**6, "gb": 10**9}
if not m or m.group(2).lower() not in units:
    sys.exit("bad size: " + sys.argv[1])
print(round(float(m.group(1)) * units[m.group(2).lower()]))' "$1"
}

free_bytes() { df --output=avail -B1 "$CORPUS" | tail -1 | tr -d ' '; }

# corpus NAME SIZE FAILURES: generates benches/corpus/NAME-SIZE.log unless cached; prints its path.
corpus() {
	local name=$1 size=$2 failures=$3
	local file=$CORPUS/$name-$size.log
	local key
	key=$({
		cat benches/corpus_gen.rs examples/gencorpus.rs
		echo "--size $size --failures $failures --seed $SEED --envelope mixed"
	} | sha256sum | cut -c1-16)
	if [ -f "$file" ] && [ -f "$file.meta.json" ] && [ "$(cat "$file.key" 2>/dev/null)" = "$key" ]; then
		log "corpus $file (cached)"
	else
		local need
		need=$(($(bytes_of "$size") + (512 << 20)))
		if [ "$(free_bytes)" -lt "$need" ]; then
			echo "benches/run.sh: not enough disk for $file ($need bytes needed)" >&2
			exit 2
		fi
		log "generating $file"
		rm -f "$file" "$file.key" "$file.meta.json"
		"$GEN" --size "$size" --failures "$failures" --seed "$SEED" --envelope mixed --out "$file"
		echo "$key" >"$file.key"
	fi
	echo "$file"
}

warm() { cat "$1" >/dev/null; }

# note_busy LABEL: how busy the CPUs were (all processes) during the second before a measurement,
# appended to $BUSY_FILE; other work on the machine makes the figures after it incomparable.
note_busy() {
	local a b
	a=$(head -1 /proc/stat)
	sleep 1
	b=$(head -1 /proc/stat)
	python3 - "$1" "$a" "$b" <<'PY' | tee -a "${BUSY_FILE:-/dev/null}" >&2
import sys
a = [int(x) for x in sys.argv[2].split()[1:]]
b = [int(x) for x in sys.argv[3].split()[1:]]
d = [y - x for x, y in zip(a, b)]
idle = d[3] + d[4]
print(f"{sys.argv[1]}\t{100 * (1 - idle / max(1, sum(d))):.0f} %")
PY
}

# faultline exits 1 when it has findings: that is success here.
FL_OK='|| [ $? -eq 1 ]'

# timed FILE JSON WHAT HYPERFINE-ARGS…: warms FILE's pages, notes the machine's load, and runs
# hyperfine once with the given commands, keeping /proc/stat before and after beside JSON.
timed() {
	local file=$1 json=$2 what=$3
	shift 3
	warm "$file"
	note_busy "before $(basename "$json" .json)"
	log "hyperfine: $what"
	head -1 /proc/stat >"$json.stat"
	hyperfine --warmup "$WARMUP" --runs "$RUNS" --export-json "$json" "$@"
	head -1 /proc/stat >>"$json.stat"
}

# bench_main FILE JSON: the commands side by side in one hyperfine run.
bench_main() {
	local file=$1 json=$2
	timed "$file" "$json" "$file" \
		-n "faultline scan FILE --format json" "$BIN scan $file --format json > /dev/null $FL_OK" \
		-n "faultline scan FILE --format ndjson" "$BIN scan $file --format ndjson > /dev/null $FL_OK" \
		-n "rg -c -F -f ANCHORS FILE" "rg -c -F -f $ANCHORS $file" \
		-n "rg -c -F -f BASELINE FILE" "rg -c -F -f $BASELINE $file" \
		-n "cat FILE" "cat $file > /dev/null" \
		-n "cat FILE | faultline --format json" "cat $file | $BIN --format json > /dev/null $FL_OK" \
		-n "cat FILE | rg -c -F -f ANCHORS" "cat $file | rg -c -F -f $ANCHORS"
}

# bench_ratio FILE TXT: the storm's NDJSON against its JSON in interleaved rounds
# (benches/interleaved.py): a slow spell on this shared machine hits both alike, where hyperfine's
# back-to-back runs can put it on one of them (the ratio of the means has swung from 1.37 to 1.46
# between two runs of the same code).
bench_ratio() {
	local file=$1 txt=$2
	warm "$file"
	note_busy "before $(basename "$txt" .txt)"
	log "interleaved: json vs ndjson, $RATIO_ROUNDS rounds, $file"
	python3 benches/interleaved.py "$RATIO_ROUNDS" \
		"$BIN scan $file --format json > /dev/null" \
		"$BIN scan $file --format ndjson > /dev/null" | tee "$txt"
}

bench_threads() {
	local file=$1 json=$2
	timed "$file" "$json" "RAYON_NUM_THREADS=1 vs default, $file" \
		-n "RAYON_NUM_THREADS=1 faultline scan FILE" "RAYON_NUM_THREADS=1 $BIN scan $file --format json > /dev/null $FL_OK" \
		-n "faultline scan FILE (default threads)" "$BIN scan $file --format json > /dev/null $FL_OK"
}

# rss NAME COMMAND...: runs COMMAND (whose last stage writes /usr/bin/time -v to $TIME_OUT) and
# prints NAME and the peak RSS in KiB.
rss() {
	local name=$1
	shift
	bash -c "$*" 2>/dev/null || true
	printf '%s\t%s\n' "$name" "$(sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$TIME_OUT")"
}

measure_rss() {
	local file=$1 tsv=$2
	log "peak RSS: $file"
	warm "$file"
	TIME_OUT=$(mktemp)
	export TIME_OUT
	local t="/usr/bin/time -v -o $TIME_OUT"
	{
		rss "faultline scan FILE" "$t $BIN scan $file --format json > /dev/null"
		rss "cat FILE | faultline" "cat $file | $t $BIN --format json > /dev/null"
		rss "rg -c -F -f ANCHORS FILE" "$t rg -c -F -f $ANCHORS $file > /dev/null"
		rss "cat FILE | rg" "cat $file | $t rg -c -F -f $ANCHORS > /dev/null"
	} >"$tsv"
	rm -f "$TIME_OUT"
	cat "$tsv" >&2
}

# The report faultline writes for the corpus, to compare with what the generator wrote.
report() {
	local file=$1 json=$2
	"$BIN" scan "$file" --format json >"$json" || [ $? -eq 1 ]
}

versions() {
	local cpu
	cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
	python3 - "$FAULTLINE_TREE" "$(rg --version | head -1)" "$(hyperfine --version)" \
		"$(rustc --version)" "$(nproc)" "$cpu" "$(free -g | awk '/^Mem:/ {print $2}')" \
		"$(date -u +%Y-%m-%d)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, sys
keys = ["faultline", "rg", "hyperfine", "rustc", "cores", "cpu", "ram_gib", "date", "load_start"]
print(json.dumps(dict(zip(keys, sys.argv[1:]))))
PY
}

summarise() { # summarise MODE OUTFILE.md  (MODE: main | sizes); reads the env set by the callers
	python3 - "$@" <<'PY'
import json, os, re, sys

mode, out_md = sys.argv[1], sys.argv[2]
env = os.environ
V = json.loads(env["VERSIONS"])
lines = []
def p(s=""):
    print(s)
    lines.append(s)

def load(path):
    with open(path) as f:
        return json.load(f)

def gbps(nbytes, secs):
    return nbytes / secs / 1e9

def foreign(path):
    """The share of the machine's CPU time used by other processes while hyperfine ran `path`."""
    try:
        a, b = [[int(x) for x in l.split()[1:]] for l in open(path + ".stat")]
    except (OSError, ValueError):
        return None
    d = [y - x for x, y in zip(a, b)]
    total, busy = sum(d), sum(d) - d[3] - d[4]
    runs = int(env.get("RUNS", 5)) + int(env.get("WARMUP", 1))
    ours = sum((r["user"] + r["system"]) * runs for r in load(path)["results"]) * 100  # USER_HZ
    return max(0.0, (busy - ours) / max(1, total))

FOREIGN = []

def table(results, nbytes, title, path=None):
    p(f"### {title}")
    p()
    p("| command | mean ± σ (s) | min (s) | GB/s |")
    p("|---|---|---|---|")
    by = {}
    for r in results:
        by[r["command"]] = r
        p(f"| `{r['command']}` | {r['mean']:.3f} ± {r['stddev']:.3f} | {r['min']:.3f} | {gbps(nbytes, r['mean']):.2f} |")
    p()
    if path:
        f = foreign(path)
        if f is not None:
            FOREIGN.append(f)
            p(f"Other processes used {100*f:.0f} % of the machine's CPU time during these runs.")
            p()
    return by

def verdict(ok):
    return "ok" if ok else "MISSED"

def interleaved(path):
    """NDJSON's first-quartile wall time over JSON's, from benches/interleaved.py's output."""
    if not path or not os.path.exists(path):
        return None
    p25 = {}
    for line in open(path):
        m = re.match(r"wall min \S+ p25 (\S+) .*--format (json|ndjson)", line)
        if m:
            p25[m.group(2)] = float(m.group(1))
    if "json" in p25 and "ndjson" in p25:
        return p25["ndjson"] / p25["json"]
    return None

p(f"machine: {V['cores']} cores, {V['cpu']}, {V['ram_gib']} GiB RAM; date {V['date']}")
p(f"versions: faultline {V['faultline']}; {V['rg']}; {V['hyperfine']}; {V['rustc']}")
p(f"runs: {env.get('RUNS')} (+{env.get('WARMUP')} warm-up), warm page cache; GB/s = bytes / mean time / 1e9")
p()

if mode == "main":
    meta = load(env["MIXED_META"]); smeta = load(env["STORM_META"])
    n, sn = meta["bytes"], smeta["bytes"]
    p(f"corpus: {env['MIXED_FILE']}: {n} bytes, {meta['lines']} lines, {meta['failures']} failure lines ({100*meta['failures']/meta['lines']:.2f} %)")
    p(f"storm:  {env['STORM_FILE']}: {sn} bytes, {smeta['lines']} lines, {smeta['failures']} failure lines ({100*smeta['failures']/smeta['lines']:.2f} %)")
    p()
    main = table(load(env["MAIN_JSON"])["results"], n, "1. corpus, 0.5 % failures", env["MAIN_JSON"])
    storm = table(load(env["STORM_JSON"])["results"], sn, "2. failure storm, 10 % failures", env["STORM_JSON"])
    threads = table(load(env["THREADS_JSON"])["results"], n, "3. threads, file path", env["THREADS_JSON"])
    fl_file = main["faultline scan FILE --format json"]["mean"]
    rg_file = main["rg -c -F -f ANCHORS FILE"]["mean"]
    fl_in = main["cat FILE | faultline --format json"]["mean"]
    rg_in = main["cat FILE | rg -c -F -f ANCHORS"]["mean"]
    s_fl = storm["faultline scan FILE --format json"]["mean"]
    s_in = storm["cat FILE | faultline --format json"]["mean"]
    s_rg = storm["rg -c -F -f ANCHORS FILE"]["mean"]
    t1 = threads["RAYON_NUM_THREADS=1 faultline scan FILE"]["mean"]
    tn = threads["faultline scan FILE (default threads)"]["mean"]
    rss = {}
    with open(env["RSS_TSV"]) as f:
        for line in f:
            name, _, kb = line.rstrip("\n").partition("\t")
            rss[name] = int(kb) if kb.strip().isdigit() else None
    def mib(name):
        v = rss.get(name)
        return f"{v/1024:.1f} MiB" if v is not None else "n/a"
    p("### 4. ratios and targets (issue 4)")
    p()
    p("| figure | measured | target | |")
    p("|---|---|---|---|")
    p(f"| file path: faultline / rg time | {fl_file/rg_file:.2f} | ≤ 0.50 | {verdict(fl_file/rg_file <= 0.5)} |")
    if "rg -c -F -f BASELINE FILE" in main:
        rg_base = main["rg -c -F -f BASELINE FILE"]["mean"]
        p(f"| file path: faultline / rg time, rg on the 45 baseline anchors | {fl_file/rg_base:.2f} | (≤ 0.50) | {verdict(fl_file/rg_base <= 0.5)} |")
    p(f"| file path: faultline GB/s | {gbps(n, fl_file):.2f} | ≥ 3.00 | {verdict(gbps(n, fl_file) >= 3)} |")
    p(f"| stdin path: faultline / rg time | {fl_in/rg_in:.2f} | ≤ 1.00 | {verdict(fl_in/rg_in <= 1)} |")
    in_rss = rss.get("cat FILE | faultline")
    p(f"| stdin path: faultline peak RSS | {mib('cat FILE | faultline')} | ≤ 64 MiB | {verdict(in_rss is not None and in_rss <= 64*1024)} |")
    p(f"| storm (10 %): faultline file GB/s | {gbps(sn, s_fl):.2f} | ≥ 0.30 | {verdict(gbps(sn, s_fl) >= 0.3)} |")
    p(f"| storm (10 %): faultline stdin GB/s | {gbps(sn, s_in):.2f} | ≥ 0.30 | {verdict(gbps(sn, s_in) >= 0.3)} |")
    p(f"| storm: faultline / rg time, file | {s_fl/s_rg:.2f} | (info) | |")
    if "faultline scan FILE --format ndjson" in storm:
        s_nd = storm["faultline scan FILE --format ndjson"]["mean"]
        p(f"| storm: ndjson / json time, file, hyperfine means | {s_nd/s_fl:.2f} | (info) | |")
    ratio = interleaved(env.get("RATIO_TXT"))
    if ratio:
        p(f"| storm: ndjson / json time, file, interleaved (issue 8) | {ratio:.2f} | ≤ 1.30 | {verdict(ratio <= 1.3)} |")
    p(f"| {V['cores']} threads vs 1 thread, file path | {t1/tn:.2f}× | ≥ 1.70× | {verdict(t1/tn >= 1.7)} |")
    p(f"| file path: faultline peak RSS | {mib('faultline scan FILE')} | (info: mapped file pages count) | |")
    p(f"| rg peak RSS, file / stdin | {mib('rg -c -F -f ANCHORS FILE')} / {mib('cat FILE | rg')} | (info) | |")
    p()
    for label, rep_env, m in (("corpus", "MIXED_REPORT", meta), ("storm", "STORM_REPORT", smeta)):
        rep = load(env[rep_env])
        st = rep["stats"]
        same = st["failures"] == m["failures"] and st["lines"] == m["lines"]
        p(f"check ({label}): faultline counted {st['lines']} lines and {st['failures']} failure lines "
          f"({st['candidates']} candidates, {st['successes']} successes, {st['ignored']} ignored); "
          f"the generator wrote {m['lines']} lines and {m['failures']} failure lines: {'same' if same else 'DIFFERENT'}")
else:
    rows = json.loads(env["SIZES_JSON"])
    p("### linearity")
    p()
    # Sizes are timed minutes apart, and a shared host's speed drifts meanwhile (rg, which has no
    # fixed cost to speak of, moves by 10-15 % between sizes): the best run is the less disturbed
    # figure, so both are given.
    p("| size | command | mean (s) | GB/s | min (s) | GB/s at min |")
    p("|---|---|---|---|---|---|")
    per_cmd = {}  # command → GB/s per size
    per_cmd_min = {}  # command → GB/s at the best run, per size
    means = {}  # command → (size, bytes, mean time) per size
    for size, nbytes, path in rows:
        f = foreign(path)
        if f is not None:
            FOREIGN.append(f)
        for r in load(path)["results"]:
            g = gbps(nbytes, r["mean"])
            gmin = gbps(nbytes, r["min"])
            per_cmd.setdefault(r["command"], []).append(g)
            per_cmd_min.setdefault(r["command"], []).append(gmin)
            means.setdefault(r["command"], []).append((size, nbytes, r["mean"]))
            p(f"| {size} | `{r['command']}` | {r['mean']:.3f} | {g:.2f} | {r['min']:.3f} | {gmin:.2f} |")
    p()
    p("| command | GB/s min … max (means) | spread | GB/s min … max (best runs) | spread | target |")
    p("|---|---|---|---|---|---|")
    for cmd, gs in per_cmd.items():
        spread = (max(gs) - min(gs)) / max(gs)
        bs = per_cmd_min[cmd]
        bspread = (max(bs) - min(bs)) / max(bs)
        p(f"| `{cmd}` | {min(gs):.2f} … {max(gs):.2f} | {100*spread:.1f} % | {min(bs):.2f} … {max(bs):.2f} | {100*bspread:.1f} % "
          f"| ≤ 10 %: {verdict(spread <= 0.10)} |")
    # What each extra byte costs, apart from what a run costs whatever its size (start-up, rules,
    # the first use of each regex, the report): the slope between consecutive sizes, and the
    # fixed cost that slope implies.
    p()
    p("Marginal throughput between consecutive sizes ((bytes₂ − bytes₁) / (time₂ − time₁)) and the fixed cost per run it implies:")
    p()
    p("| command | sizes | marginal GB/s | fixed cost (ms) |")
    p("|---|---|---|---|")
    for cmd, pts in means.items():
        for (s1, n1, t1), (s2, n2, t2) in zip(pts, pts[1:]):
            if t2 <= t1:
                continue
            g = (n2 - n1) / (t2 - t1)
            p(f"| `{cmd}` | {s1} → {s2} | {g / 1e9:.2f} | {1e3 * (t1 - n1 / g):.0f} |")
p()
busy = [l.rstrip("\n").replace("\t", ": ") for l in open(env["BUSY_FILE"]) if l.strip()]
if FOREIGN:
    p(f"Other processes' share of the CPU during the runs (approximate: hyperfine's own overhead counts as other): {', '.join(f'{100*f:.0f} %' for f in FOREIGN)}"
      f"{' (more than 10 %: the figures are disturbed, run again on a quiet machine)' if max(FOREIGN) > 0.10 else ''}.")
p(f"CPU busy (all processes) in the second before each measurement: {'; '.join(busy)}. "
  f"Load average (1, 5, 15 min) after: {' '.join(open('/proc/loadavg').read().split()[:3])}")
with open(out_md, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"\n(written to {out_md})", file=sys.stderr)
PY
}

main_run() {
	local size=$1
	local mixed storm
	mixed=$(corpus mixed "$size" 0.5)
	storm=$(corpus storm "$size" 10)
	VERSIONS=$(versions)
	BUSY_FILE=$OUT/busy-$size.tsv
	: >"$BUSY_FILE"
	export VERSIONS RUNS WARMUP BUSY_FILE
	report "$mixed" "$OUT/report-mixed-$size.json"
	report "$storm" "$OUT/report-storm-$size.json"
	bench_main "$mixed" "$OUT/main-$size.json"
	bench_main "$storm" "$OUT/storm-$size.json"
	bench_ratio "$storm" "$OUT/ratio-$size.txt"
	bench_threads "$mixed" "$OUT/threads-$size.json"
	measure_rss "$mixed" "$OUT/rss-$size.tsv"
	MIXED_FILE=$mixed STORM_FILE=$storm MIXED_META=$mixed.meta.json STORM_META=$storm.meta.json \
		MAIN_JSON=$OUT/main-$size.json STORM_JSON=$OUT/storm-$size.json \
		THREADS_JSON=$OUT/threads-$size.json RSS_TSV=$OUT/rss-$size.tsv RATIO_TXT=$OUT/ratio-$size.txt \
		MIXED_REPORT=$OUT/report-mixed-$size.json STORM_REPORT=$OUT/report-storm-$size.json \
		summarise main "$OUT/summary-$size.md"
}

sizes_run() {
	local sizes=(100MiB 1GiB)
	local four=$CORPUS/mixed-4GiB.log
	if [ -f "$four" ] || [ "$(free_bytes)" -gt $(((4 << 30) + (4 << 30))) ]; then
		sizes+=(4GiB)
	else
		log "skipping 4GiB: $(free_bytes) bytes free on $CORPUS"
	fi
	if [ -n "${SIZES:-}" ]; then
		read -r -a sizes <<<"$SIZES"
	fi
	VERSIONS=$(versions)
	BUSY_FILE=$OUT/busy-sizes.tsv
	: >"$BUSY_FILE"
	export VERSIONS RUNS WARMUP BUSY_FILE
	local rows=() size file json
	for size in "${sizes[@]}"; do
		file=$(corpus mixed "$size" 0.5)
		json=$OUT/sizes-$size.json
		timed "$file" "$json" "$file" \
			-n "faultline scan FILE --format json" "$BIN scan $file --format json > /dev/null $FL_OK" \
			-n "cat FILE | faultline --format json" "cat $file | $BIN --format json > /dev/null $FL_OK" \
			-n "rg -c -F -f ANCHORS FILE" "rg -c -F -f $ANCHORS $file"
		rows+=("[\"$size\", $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' "$file.meta.json"), \"$json\"]")
	done
	local joined
	joined=$(
		IFS=,
		echo "${rows[*]}"
	)
	SIZES_JSON="[$joined]" summarise sizes "$OUT/summary-sizes.md"
}

case "${1:-}" in
-h | --help)
	sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
	;;
--sizes)
	ensure_tools
	build
	sizes_run
	;;
*)
	ensure_tools
	build
	main_run "${1:-1GiB}"
	;;
esac
