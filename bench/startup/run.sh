#!/usr/bin/env bash
# Start-up time (exec to the "ready" line) and resident memory after start of a director, for one or more
# tunlb binaries, in a throwaway network namespace with the example config. Run as root.
# Usage: bench/startup/run.sh [-n RUNS] BINARY [BINARY ...]
set -euo pipefail
runs=5
[[ "${1:-}" == -n ]] && { runs="$2"; shift 2; }
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
ns="tlbstart-$$"
cfg="$(mktemp /tmp/tlbstart-XXXX.toml)"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -f "$cfg" "$cfg.log"; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add eth0 type veth peer name eth0p
ip -n "$ns" link set eth0p up
ip -n "$ns" addr add 198.51.100.2/24 dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" route add default via 198.51.100.1
sed 's/tun_name = .*//' "$here/dist/examples/director.toml" > "$cfg"
printf '%-60s %10s %10s %10s\n' binary "ready ms" "RSS MiB" "runs"
for bin in "$@"; do
  ms=(); rss=()
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    ip netns exec "$ns" "$bin" director --config "$cfg" >"$cfg.log" 2>&1 &
    pid=$!
    for ((w = 0; w < 600; w++)); do grep -q ready "$cfg.log" && break; sleep 0.01; done
    grep -q ready "$cfg.log" || { cat "$cfg.log" >&2; kill "$pid"; exit 1; }
    ms+=($(( ($(date +%s%N) - start) / 1000000 )))
    sleep 1
    rss+=($(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$pid/status))
    kill -TERM "$pid"; wait "$pid" || true
  done
  med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  printf '%-60s %10s %10s %10s\n' "$bin" "$(med "${ms[@]}")" "$(med "${rss[@]}")" "$runs"
done
