#!/bin/sh
# Regenerates ecs_flat-9.4.0.subset.yml from the full ecs_flat.yml of ECS 9.4.0 (the first
# argument): the entries of the field sets faultline's `--format ecs` may use, copied verbatim.
# No entry is edited; whole field sets are kept, so a field faultline does not emit is there too.
set -eu
awk '
  /^[^ ]/ {
    keep = ($0 ~ /^(.@timestamp.|labels|message|tags|ecs\.|event\.|rule\.|error\.|service\.|url\.|server\.|log\.|observer\.)/) \
      && ($0 !~ /\.entity\./) \
      && ($0 !~ /^(observer\.(egress|ingress|geo|os)|server\.(geo|as|user))/)
  }
  keep
' "$1"
