#!/usr/bin/env bash
# footprint.sh [SECONDS] [RATE]: what one pact agent costs on this machine.
#
# Builds pact (and the stripped arm64 binary, for its size), writes a
# 4-node testnet on 127.0.0.1 with a mosquitto of its own, lets the agents
# sit idle for 30 s, then sends RATE blink requests a second (default 10)
# for SECONDS (default 600) and prints, per agent: resident memory idle and
# at the end (VmRSS) with its peak (VmHWM); the anonymous part of it (heap,
# stacks: what the agent really costs; the rest is the binary's pages,
# clean and shared); and CPU used per second of wall time, idle and under
# load. The agents get the systemd unit's GOMEMLIMIT unless the
# environment sets one. With FOOTPRINT_PROFILES=DIR it also saves each agent's heap profile
# at the end (go tool pprof DIR/node-1.heap). Everything runs on loopback ports 57946-57953 and 58883; it cleans
# up after itself.
set -euo pipefail

secs=${1:-600}
rate=${2:-10}
cd "$(dirname "$0")/.."

# The agents run with the Go memory limit the systemd unit sets, unless
# GOMEMLIMIT is set already (GOMEMLIMIT=off measures without one).
if [ -z "${GOMEMLIMIT:-}" ]; then
	GOMEMLIMIT=$(sed -n 's/^Environment=GOMEMLIMIT=//p' systemd/pact.service)
fi
export GOMEMLIMIT
echo "footprint: GOMEMLIMIT=$GOMEMLIMIT" >&2

command -v mosquitto >/dev/null || { echo "footprint: mosquitto not found (make need-mosquitto installs it)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

make --no-print-directory build >/dev/null
arch=$(go env GOHOSTARCH)
[ "$arch" = arm ] && arch=armv$(go env GOARM | cut -d, -f1)
pact=bin/$(go env GOHOSTOS)-$arch/pact
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags '-s -w' -o "$work/pact-arm64" ./cmd/pact
arm64_size=$(stat -c %s "$work/pact-arm64")
host_size=$(stat -c %s "$pact")

mosquitto -p 58883 >"$work/mosquitto.log" 2>&1 &
pids+=($!)
"$pact" testnet --nodes 4 --out "$work/tn" --base-port 57946 --mqtt tcp://127.0.0.1:58883 >/dev/null
agents=()
for i in 1 2 3 4; do
	"$pact" agent --config "$work/tn/node-$i/pact.yaml" >"$work/node-$i.log" 2>&1 &
	pids+=($!)
	agents+=($!)
done

# cpu PID: user+system clock ticks so far.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
anon() { awk '$1 == "Anonymous:" {print $2}' "/proc/$1/smaps_rollup"; }
hz=$(getconf CLK_TCK)

sleep 10 # join, agree on capabilities
declare -A c0 c1
for p in "${agents[@]}"; do c0[$p]=$(cpu "$p"); done
sleep 30
declare -A idle_rss idle_anon idle_cpu
for p in "${agents[@]}"; do
	idle_rss[$p]=$(rss "$p" VmRSS)
	idle_anon[$p]=$(anon "$p")
	idle_cpu[$p]=$(awk -v a="${c0[$p]}" -v b="$(cpu "$p")" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz / 30 * 100}')
	c1[$p]=$(cpu "$p")
done

echo "footprint: ${rate} requests/s for ${secs}s …" >&2
sent=0
start=$(date +%s)
interval=$(awk -v r="$rate" 'BEGIN {printf "%.3f", 1 / r}')
while [ $(($(date +%s) - start)) -lt "$secs" ]; do
	"$pact" request --config "$work/tn/node-1/pact.yaml" blink --param duration=100ms >/dev/null 2>&1 &
	sent=$((sent + 1))
	sleep "$interval"
done
wait_start=$(date +%s)
sleep 5
if [ -n "${FOOTPRINT_PROFILES:-}" ]; then
	command -v curl >/dev/null || { echo "footprint: FOOTPRINT_PROFILES needs curl" >&2; exit 1; }
	mkdir -p "$FOOTPRINT_PROFILES"
	for i in 1 2 3 4; do
		admin=$(sed -n 's/^admin: *//p' "$work/tn/node-$i/pact.yaml")
		curl -fsS -o "$FOOTPRINT_PROFILES/node-$i.heap" "http://$admin/debug/pprof/heap?gc=1" || echo "footprint: no heap profile of node-$i" >&2
	done
fi
elapsed=$(($(date +%s) - start))
height=$("$pact" status --config "$work/tn/node-1/pact.yaml" --json | sed -n 's/.*"height": *\([0-9]*\).*/\1/p' | head -1)

printf '\nbinary: %s bytes (this machine), %s bytes (linux/arm64, stripped)\n' "$host_size" "$arm64_size"
printf 'load: %d requests in %ds; node-1 at height %s\n\n' "$sent" "$((wait_start - start))" "$height"
mb() { awk -v k="$1" 'BEGIN {printf "%.1f MB", k / 1024}'; }
printf '%-8s %10s %10s %10s %10s %10s %9s %9s\n' node "idle RSS" "load RSS" "peak RSS" "idle anon" "load anon" "idle CPU" "load CPU"
i=1
for p in "${agents[@]}"; do
	load_cpu=$(awk -v a="${c1[$p]}" -v b="$(cpu "$p")" -v hz="$hz" -v s="$elapsed" 'BEGIN {printf "%.2f", (b - a) / hz / s * 100}')
	printf '%-8s %10s %10s %10s %10s %10s %8s%% %8s%%\n' "node-$i" \
		"$(mb "${idle_rss[$p]}")" "$(mb "$(rss "$p" VmRSS)")" "$(mb "$(rss "$p" VmHWM)")" \
		"$(mb "${idle_anon[$p]}")" "$(mb "$(anon "$p")")" "${idle_cpu[$p]}" "$load_cpu"
	i=$((i + 1))
done

# The same figures as `go test -bench` result lines, for `make bench`'s
# table (internal/benchtable): one line per agent under one name, of which
# the table takes the median.
echo
rate_done=$(awk -v n="$sent" -v s="$((wait_start - start))" 'BEGIN {printf "%.2f", n / s}')
printf 'BenchmarkFootprint/binary 1 %s bytes-arm64 %s bytes-host\n' "$arm64_size" "$host_size"
for p in "${agents[@]}"; do
	load_cpu=$(awk -v a="${c1[$p]}" -v b="$(cpu "$p")" -v hz="$hz" -v s="$elapsed" 'BEGIN {printf "%.2f", (b - a) / hz / s * 100}')
	awk -v ir="${idle_rss[$p]}" -v ia="${idle_anon[$p]}" -v ic="${idle_cpu[$p]}" \
		-v lr="$(rss "$p" VmRSS)" -v la="$(anon "$p")" -v pk="$(rss "$p" VmHWM)" -v lc="$load_cpu" \
		-v secs="$((wait_start - start))" -v rate="$rate_done" \
		'BEGIN {printf "BenchmarkFootprint/agent 1 %.1f MB-idle-rss %.1f MB-idle-anon %s %%cpu-idle %.1f MB-rss %.1f MB-anon %.1f MB-peak %s %%cpu-load %d s-load %s req/s\n", ir/1024, ia/1024, ic, lr/1024, la/1024, pk/1024, lc, secs, rate}'
done
