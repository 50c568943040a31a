#!/usr/bin/env bash
# interleave.sh - rawpgx and one or more viewgate builds/configs in turn on the peer benchmark's
# 1M-row view, ROUNDS times, so the machine's drift falls on all of them alike. Per run: req/s
# and p99 (wrk, 16 connections), server CPU and Postgres backend CPU per request (from /proc,
# sampled inside the timed run: wrk's closing connections cancel statements, and pgx then drops
# those backends).
#
# usage (as root, after ../shared/peer-bench/run.sh has built rawpgx and loaded the data):
#   bench/peer/interleave.sh ROUNDS SECONDS name=BINARY:CONFIG[:ENV=VALUE] ...
# e.g. bench/peer/interleave.sh 5 5 gc100=/tmp/vg:/tmp/vgbench-peers/viewgate/viewgate.yaml:GOGC=100 \
#        gc200=/tmp/vg:/tmp/vgbench-peers/viewgate/viewgate.yaml
# CONFIG is a viewgate config like run.sh writes (its catalog beside it); SECONDS >= 4.
set -euo pipefail
ROUNDS=$1; DUR=$2; shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-$HERE/../../../shared/peer-bench}
PEERS=/tmp/vgbench-peers
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export VG_BENCH_SECRET=peer-bench-cursor-secret-0123456789abcdef VG_BENCH_KEY=vgk_bench_0123456789abcdef0123456789abcdef
cd "$PEERS/viewgate"
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
pgsnap() { for p in $(pgrep -u postgres postgres); do echo "$p $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null)"; done; }
pgdelta() { join <(sort "$1") <(sort "$2") | awk 'NF==3 {s+=$3-$2} END {print s+0}'; }
load() { # port body seconds
  WRK_BODY=$2 WRK_HEADER="X-API-Key: $VG_BENCH_KEY" timeout 120 wrk -t1 -c16 -d"$3"s -s "$SHARED/wrk/post.lua" "http://127.0.0.1:$1/graphql" | grep RESULT; }
for r in $(seq "$ROUNDS"); do
  for spec in rawpgx "$@"; do
    if [ "$spec" = rawpgx ]; then
      name=rawpgx PORT=5679 BODY=$SHARED/queries/invoices.json
      "$PEERS/rawpgx" -listen 127.0.0.1:5679 -db "postgres://vgbench:vgbench@127.0.0.1:5432/vgbench?pool_max_conns=4" >/dev/null 2>&1 &
    else
      name=${spec%%=*}; rest=${spec#*=}; bin=${rest%%:*}; cfg=${rest#*:}; envs=()
      case $cfg in *:*) envs=("${cfg#*:}"); cfg=${cfg%%:*};; esac
      PORT=5680 BODY=$SHARED/queries/viewgate-invoices.json
      env "${envs[@]}" "$bin" serve -config "$cfg" >"$TMP/$name.log" 2>&1 &
    fi
    PID=$!
    sleep 1.5
    load $PORT "$BODY" 3 >/dev/null # warm-up
    load $PORT "$BODY" "$DUR" >"$TMP/res" &
    LP=$!
    sleep 1; c0=$(ticks $PID); pgsnap >"$TMP/p0"; t0=$(date +%s.%N)
    sleep $((DUR - 2)); c1=$(ticks $PID); pgsnap >"$TMP/p1"; t1=$(date +%s.%N)
    wait $LP
    rps=$(grep -o 'rps=[0-9.]*' "$TMP/res" | cut -d= -f2)
    p99=$(grep -o 'p99_ms=[0-9.]*' "$TMP/res")
    echo "r$r $name rps=$rps $p99 $(python3 -c "n=$rps*($t1-$t0); print('srv_us=%d pg_us=%d' % (($c1-$c0)*1e4/n, $(pgdelta "$TMP/p0" "$TMP/p1")*1e4/n))")"
    kill $PID; wait $PID 2>/dev/null || true
  done
done
