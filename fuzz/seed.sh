#!/usr/bin/env bash
# Builds the seed corpora (fuzz/corpus/<target>/) from the repository's fixtures and rules, and
# the dictionary fuzz/anchors.dict from the prefilter's anchors. Run from anywhere; needs python3,
# gzip, zip and tar. The corpora are not committed (libFuzzer adds to them as it runs).
set -euo pipefail
cd "$(dirname "$0")"
root=..
mkdir -p corpus/decode_classify corpus/scan_split corpus/rules_parse corpus/bundle

# decode_classify: every distinct line of the fixture logs, one input each.
# scan_split: the fixture logs whole and in runs of 40 lines, each after a knob byte (chunk and
# piece sizes).
python3 - "$root" <<'PY'
import glob, gzip, hashlib, os, sys
root = sys.argv[1]
logs = sorted(glob.glob(f"{root}/fixtures/*.log"))
def put(target, data):
    name = hashlib.sha1(data).hexdigest()
    with open(f"corpus/{target}/{name}", "wb") as f:
        f.write(data)
seen = set()
for p in logs + sorted(glob.glob(f"{root}/fixtures/*.log.gz")):
    data = gzip.open(p).read() if p.endswith(".gz") else open(p, "rb").read()
    lines = data.split(b"\n")
    for line in lines:
        if line and line not in seen:
            seen.add(line)
            put("decode_classify", line)
    put("scan_split", b"\x07" + data)
    for i in range(0, len(lines), 40):
        knob = bytes([(i * 37) % 256])
        put("scan_split", knob + b"\n".join(lines[i:i + 40]) + b"\n")
PY

# rules_parse: the built-in rule files.
cp "$root"/rules/*.toml corpus/rules_parse/

# bundle: a fixture as text, gzip, zip, tar.gz, and archives inside archives.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 3000 "$root/fixtures/registration-proxy-docker-json.log" > "$tmp/a.log"
head -c 3000 "$root/fixtures/export-401-cri.log" > "$tmp/b.log"
cp "$tmp/a.log" corpus/bundle/plain.log
cp "$root"/fixtures/*.log.gz corpus/bundle/
gzip -9 -c "$tmp/a.log" > corpus/bundle/a.log.gz
(cd "$tmp" && zip -q -9 "$tmp/ab.zip" a.log b.log) && cp "$tmp/ab.zip" corpus/bundle/
(cd "$tmp" && tar -czf "$tmp/ab.tar.gz" a.log b.log) && cp "$tmp/ab.tar.gz" corpus/bundle/
(cd "$tmp" && tar -cf "$tmp/ab.tar" a.log b.log) && cp "$tmp/ab.tar" corpus/bundle/
(cd "$tmp" && zip -q -9 "$tmp/nested.zip" ab.tar.gz a.log) && cp "$tmp/nested.zip" corpus/bundle/
(cd "$tmp" && gzip -c nested.zip > nested.zip.gz) && cp "$tmp/nested.zip.gz" corpus/bundle/

# The dictionary: one entry per anchor, escaped for libFuzzer.
anchors=$(cd "$root" && ${FAULTLINE:-cargo run --quiet --release --} rules anchors)
python3 - "$anchors" > anchors.dict <<'PY'
import sys
for a in sys.argv[1].split("\n"):
    if not a:
        continue
    out = ""
    for b in a.encode():
        c = chr(b)
        if c in '"\\':
            out += "\\" + c
        elif 0x20 <= b < 0x7f:
            out += c
        else:
            out += "\\x%02X" % b
    print(f'"{out}"')
PY
echo "seeded: $(for t in corpus/*; do printf '%s %s  ' "${t#corpus/}" "$(ls "$t" | wc -l)"; done)"
