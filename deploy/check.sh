#!/usr/bin/env bash
# Validates Kubernetes manifests offline and strictly (an unknown or misplaced field is an error)
# against the OpenAPI schemas that the kubernetes-validate package ships, for the oldest and the
# newest Kubernetes release the manifests are meant for. With no argument: deploy/kubernetes/*.yaml.
#
# It installs what it needs on first use, from deploy/requirements.txt, into a virtual environment
# under target/ (FAULTLINE_VENV overrides the place), and reinstalls when that file changes. It
# needs python3 with its venv module: on a machine without them it installs them with apt-get
# (Debian, Ubuntu) when it can, and otherwise fails and says what is missing: it never skips. `cargo test` runs it (deploy::the_kubernetes_
# manifests_validate_offline).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
venv="${FAULTLINE_VENV:-$root/target/deploy-venv}"
versions="${KUBE_VERSIONS:-1.30.0 1.37.0}"
python="${PYTHON:-python3}"

fail() {
  echo "deploy/check.sh: $*" >&2
  exit 3
}

# Python 3 with venv and pip, from the system's packages when they are missing.
apt_install() {
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  command -v apt-get >/dev/null 2>&1 || return 1
  echo "deploy/check.sh: installing $* with apt-get" >&2
  "${sudo[@]}" apt-get install -y -q "$@" >&2 ||
    { "${sudo[@]}" apt-get update -q >&2 && "${sudo[@]}" apt-get install -y -q "$@" >&2; }
}
has_venv() {
  command -v "$python" >/dev/null 2>&1 && "$python" -c 'import venv, ensurepip' >/dev/null 2>&1
}
if ! has_venv; then
  apt_install python3 python3-venv python3-pip || true
fi
command -v "$python" >/dev/null 2>&1 ||
  fail "$python not found and could not be installed: install Python 3 with its venv module and pip (Debian: apt-get install python3 python3-venv python3-pip) to validate the Kubernetes manifests"

mkdir -p "$(dirname "$venv")"
# One installer at a time (tests run in parallel).
exec 9>"$venv.lock"
flock 9
if ! cmp -s "$here/requirements.txt" "$venv/.installed" 2>/dev/null; then
  rm -rf "$venv"
  "$python" -m venv "$venv" ||
    fail "'$python -m venv' failed: install Python's venv module (Debian: apt-get install python3-venv)"
  "$venv/bin/python" -m pip --version >/dev/null 2>&1 ||
    fail "the virtual environment has no pip: install Python's ensurepip/pip (Debian: apt-get install python3-pip python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary :all: \
    -r "$here/requirements.txt" ||
    fail "pip could not install deploy/requirements.txt into $venv (is a package index reachable?)"
  cp "$here/requirements.txt" "$venv/.installed"
fi
flock -u 9

if [ "$#" -eq 0 ]; then
  set -- "$here"/kubernetes/*.yaml
fi
for v in $versions; do
  "$venv/bin/kubernetes-validate" --strict --quiet --kubernetes-version "$v" "$@"
done
echo "deploy/check.sh: $# manifest file(s) valid for Kubernetes $versions"
