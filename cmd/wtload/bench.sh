#!/bin/sh
# The standard load matrix, run by `make bench` inside a private network
# namespace (nothing leaves the machine): for each load a fresh server pinned
# to core 0 and wtload pinned to core 1, one Markdown table out.
# Usage: bench.sh SERVER_BINARY WTLOAD_BINARY SFU_TEST_BINARY
set -eu
server=$1
wtload=$2
sfutest=$3
cores=$(nproc)
pin_server="" pin_load=""
if [ "$cores" -ge 2 ] && command -v taskset >/dev/null; then
  pin_server="taskset -c 0"
  pin_load="taskset -c 1"
fi
ip link set lo up 2>/dev/null || true

run() { # label participants publishers video [wtload flags…]
  label=$1 n=$2 p=$3 video=$4
  shift 4
  data=$(mktemp -d)
  $pin_server "$server" -addr 127.0.0.1:18090 -udp-port 18091 -loopback-only -no-ice-tcp \
    -data "$data" -host-key bench -log-level error -max-conns-per-client 0 >"$data/server.log" 2>&1 &
  pid=$!
  i=0
  until wget -q -O /dev/null http://127.0.0.1:18090/healthz 2>/dev/null || curl -fs http://127.0.0.1:18090/healthz >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "server did not start" >&2; cat "$data/server.log" >&2; exit 1; }
    sleep 0.1
  done
  $pin_load "$wtload" -url http://127.0.0.1:18090 -host-key bench -n "$n" -p "$p" -ivf "$video" \
    -rate 10 -warmup 5s -duration "${BENCH_DURATION:-25s}" -server-pid $pid -floor-us "$floor" -row "$label" "$@" || echo "| $label | failed |"
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$data"
}

echo "Worktogether load, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $cores cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
# The machine's floor, in this run: AES-128-GCM seal + sendto per packet, a
# reader draining on the other core. The benchmark pins its own threads.
"$sfutest" -test.run XXX -test.bench Floor -test.benchtime 3s >"${TMPDIR:-/tmp}/floor.txt"
floor=$(awk '/^BenchmarkFloor/ { v = $3; for (i = 4; i < NF; i++) if ($(i + 1) == "cpu-ns/egress") v = $i; printf "%.2f", v / 1000 }' "${TMPDIR:-/tmp}/floor.txt")
echo "Floor on this machine, same run: $floor CPU-µs per egress packet (encrypt + sendto to a socket read on the other core; go test -bench Floor ./sfu)"
echo
"$wtload" -row-header
run "10 publishers x 20 participants, 360p" 20 10 testdata/v360.ivf
run "20 publishers x 40 participants, 360p" 40 20 testdata/v360.ivf
# The same with every peer sending transport-wide feedback, as browsers do:
# what each subscriber's bandwidth estimate costs.
run "20 x 40, 360p, every peer sending feedback" 40 20 testdata/v360.ivf -feedback
run "50-person room, every camera on, 360p" 50 50 testdata/v360.ivf
# Simulcast (low and middle layers from the 180p clip, the top from the 360p
# one): the same 50 people at full video, then in the work phase with
# presence video, then 100 people working, each showing a grid of 25.
layers=testdata/v180.ivf,testdata/v180.ivf,testdata/v360.ivf
run "50-person room, simulcast, full video (top layer)" 50 50 testdata/v360.ivf -layers "$layers"
run "50-person work phase, simulcast, presence video" 50 50 testdata/v360.ivf -layers "$layers" -work
run "100-person work phase, presence, 25 tiles each" 100 100 testdata/v360.ivf -layers "$layers" -work -tiles 25
# The same with 25 video slots each (protocol v2 slots): one offer per
# subscriber, whatever the room does after.
run "100-person work phase, presence, 25 tiles in 25 slots" 100 100 testdata/v360.ivf -layers "$layers" -work -tiles 25 -slots 25
# A weak line: nine simulcast publishers and one more person whose downlink
# is shaped to 1.5 Mbit/s (a token bucket with a 200 ms queue, 40 ms delay):
# what they receive beside what everyone else does.
echo
"$wtload" -weak-header
run "9 simulcast publishers" 9 9 testdata/v360.ivf -layers "$layers" -weak-rate 1500000 -weak-delay 40ms
