#!/usr/bin/env bash
# Capture-sidecar benchmark: wrk against one fast local backend (nginx `return 200`) through
#   (a) direct, (b) nginx proxy_pass with keep-alive upstreams, (c) the sidecar capturing 100% to a real
#   Kafka broker + schema registry, (d) the sidecar with capture off.
# Prints requests/s, p50/p99 (saturating run and a paced, moderate fixed-rate run), sidecar RSS and CPU,
# the ratios (c)/(b) and (c)/(a), and published records vs requests sent.
# Loopback only; everything it starts is stopped at the end. Needs: wrk, nginx, java 17, the built jars
# (mvn -pl schemas,deploy,capture-sidecar install -DskipTests). Takes about 8 minutes.
#
# Knobs (environment): DURATION=20s WARMUP=30s CONNS=32 THREADS=2 PACED_CONNS=8 PACE_MS=10 EVENT_LOOPS=1
#   COMPARE_NATIVE=1 (adds row (e): (c) on Netty's native epoll transport instead of Java NIO, about 1 more minute)
#   COMPARE_FLOOR=1 (adds row (f): bench/NettyFloor.java, a minimal proxy on Netty's HTTP codecs without capture,
#   the floor a proxy path on Netty could reach; about 1 more minute; needs javac)
#   KAFKA_PORT=19092 REGISTRY_PORT=18081 (a private stack is started there unless REUSE_STACK=1)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAR=$ROOT/capture-sidecar/target/capture-sidecar.jar
STACK_JAR=$ROOT/deploy/target/tapline-stack.jar
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-30s}   # the JIT (C2) is still busy for 15-30 s under load; shorter warm-ups measure compilation
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PACED_CONNS=${PACED_CONNS:-8}
PACE_MS=${PACE_MS:-10}
EVENT_LOOPS=${EVENT_LOOPS:-1}
COMPARE_NATIVE=${COMPARE_NATIVE:-1} # also measure (c) on the native epoll transport instead of Java NIO
KAFKA_PORT=${KAFKA_PORT:-19092}
REGISTRY_PORT=${REGISTRY_PORT:-18081}
BACKEND_PORT=${BACKEND_PORT:-18180}
NGINX_PORT=${NGINX_PORT:-18181}
SIDECAR_PORT=${SIDECAR_PORT:-18182}
MGMT_PORT=${MGMT_PORT:-18183}
COMPARE_FLOOR=${COMPARE_FLOOR:-1}
FLOOR_PORT=${FLOOR_PORT:-18184}

TOOLS="wrk nginx java curl"
[ "$COMPARE_FLOOR" = 1 ] && TOOLS="$TOOLS javac"
for tool in $TOOLS; do
    command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing (apt-get install -y wrk nginx curl)" >&2; exit 1; }
done
[ -f "$JAR" ] || { echo "bench: $JAR missing; build: mvn -B -pl capture-sidecar -am package -DskipTests" >&2; exit 1; }

WORK=$(mktemp -d /tmp/tapline-bench.XXXXXX)
SIDECAR_PID=
FLOOR_PID=
STARTED_STACK=
cleanup() {
    [ -n "$SIDECAR_PID" ] && kill "$SIDECAR_PID" 2>/dev/null && wait "$SIDECAR_PID" 2>/dev/null || true
    [ -n "$FLOOR_PID" ] && kill "$FLOOR_PID" 2>/dev/null && wait "$FLOOR_PID" 2>/dev/null || true
    for conf in backend proxy; do
        [ -f "$WORK/$conf.pid" ] && nginx -p "$WORK" -c "$WORK/$conf.conf" -s quit 2>/dev/null || true
    done
    if [ -n "$STARTED_STACK" ]; then
        java -jar "$STACK_JAR" down --data-dir "$WORK/stack" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT INT TERM

# ---------------------------------------------------------------- backend and nginx proxy (own configs, loopback)
cat > "$WORK/backend.conf" <<CONF
worker_processes 1;
daemon on;
pid $WORK/backend.pid;
error_log $WORK/backend-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/tmp-backend;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$BACKEND_PORT;
        location / {
            default_type application/json;
            return 200 '{"id":42,"name":"bench","tags":["a","b"],"price":12.5}';
        }
    }
}
CONF
cat > "$WORK/proxy.conf" <<CONF
worker_processes 1;
daemon on;
pid $WORK/proxy.pid;
error_log $WORK/proxy-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/tmp-proxy;
    proxy_temp_path $WORK/tmp-proxy-p;
    keepalive_requests 1000000;
    upstream app {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
nginx -p "$WORK" -c "$WORK/backend.conf"
nginx -p "$WORK" -c "$WORK/proxy.conf"

# ---------------------------------------------------------------- Kafka + registry
if [ "${REUSE_STACK:-0}" != 1 ]; then
    echo "bench: starting a private Kafka + registry on $KAFKA_PORT / $REGISTRY_PORT (about 30 s)..." >&2
    java -jar "$STACK_JAR" up --kafka-port "$KAFKA_PORT" --registry-port "$REGISTRY_PORT" --data-dir "$WORK/stack" >"$WORK/stack.log" 2>&1 \
        || { cat "$WORK/stack.log" >&2; exit 1; }
    STARTED_STACK=1
fi

cat > "$WORK/paced.lua" <<'LUA'
-- one request per connection every PACE_MS: a moderate fixed rate (connections x 1000/PACE_MS per second)
local pace = tonumber(os.getenv("PACE_MS") or "10")
function delay() return pace end
LUA

to_ms() { # 1.23ms / 456.00us / 1.20s -> milliseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n = n * 1000; printf "%.3f", n }'
}

# run_wrk NAME URL EXTRA...: prints "rps p50 p99 requests errors"
run_wrk() {
    local out=$WORK/wrk-$1.txt
    shift
    PACE_MS=$PACE_MS wrk --latency "$@" >"$out" 2>&1
    local rps p50 p99 reqs errs
    rps=$(awk '/^Requests\/sec/ { print $2 }' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    reqs=$(awk '/requests in/ { print $1 }' "$out")
    errs=$(awk '/Non-2xx|Socket errors/ { s = s $0 "; " } END { print (s == "" ? "none" : s) }' "$out")
    echo "$rps $p50 $p99 $reqs"
    [ "$errs" = none ] || echo "bench: $out: $errs" >&2
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# CPU ticks of the private Kafka + registry (every process whose command line names our stack directory)
stack_ticks() {
    local total=0 p
    for p in $(pgrep -f "$WORK/stack" || true); do
        total=$(( total + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0) ))
    done
    echo "$total"
}
rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
metric() { curl -s "http://127.0.0.1:$MGMT_PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

start_sidecar() { # $1 = true|false (capture enabled), $2 = native|nio (network transport)
    java -Xms256m -Xmx512m -jar "$JAR" --listen "127.0.0.1:$SIDECAR_PORT" --app "http://127.0.0.1:$BACKEND_PORT" \
        --egress-listen off --management-host 127.0.0.1 --management-port "$MGMT_PORT" \
        --kafka.bootstrap.servers "127.0.0.1:$KAFKA_PORT" --schema.registry.url "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7" \
        --proxy-event-loops "$EVENT_LOOPS" --capture-enabled "$1" --proxy-transport "${2:-nio}" --service bench --instance bench-1 \
        --redaction-key bench-redaction-key-0123456789 >"$WORK/sidecar-$1-${2:-nio}.log" 2>&1 &
    SIDECAR_PID=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$MGMT_PORT/ready" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "bench: the sidecar did not become ready; log:" >&2
    cat "$WORK/sidecar-$1-${2:-nio}.log" >&2
    exit 1
}

stop_sidecar() {
    kill "$SIDECAR_PID"
    wait "$SIDECAR_PID" 2>/dev/null || true
    SIDECAR_PID=
}

declare -A RPS P50 P99 PRPS PP50 PP99 REQS CPU RSS STACK_CPU
TICKS=$(getconf CLK_TCK)
DUR_S=${DURATION%s}

measure() { # NAME URL [PID]
    local name=$1 url=$2 pid=${3:-}
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$url" >/dev/null 2>&1 # warm-up (JIT, connection pools)
    local t0=0 s0
    [ -n "$pid" ] && t0=$(cpu_ticks "$pid")
    s0=$(stack_ticks)
    read -r RPS[$name] P50[$name] P99[$name] REQS[$name] < <(run_wrk "$name" -t"$THREADS" -c"$CONNS" -d"$DURATION" "$url")
    STACK_CPU[$name]=$(awk -v a="$s0" -v b="$(stack_ticks)" -v hz="$TICKS" -v d="$DUR_S" 'BEGIN { printf "%.2f", (b - a) / hz / d }')
    if [ -n "$pid" ]; then
        CPU[$name]=$(awk -v a="$t0" -v b="$(cpu_ticks "$pid")" -v hz="$TICKS" -v d="$DUR_S" 'BEGIN { printf "%.2f", (b - a) / hz / d }')
        RSS[$name]=$(rss_mb "$pid")
    fi
    local paced
    read -r PRPS[$name] PP50[$name] PP99[$name] paced < <(run_wrk "$name-paced" -t1 -c"$PACED_CONNS" -d"$DURATION" -s "$WORK/paced.lua" "$url")
    REQS[$name]=$(( REQS[$name] + paced ))
}

echo "bench: (a) direct" >&2
measure a "http://127.0.0.1:$BACKEND_PORT/owners/42"
echo "bench: (b) nginx proxy_pass" >&2
measure b "http://127.0.0.1:$NGINX_PORT/owners/42"

echo "bench: (c) sidecar, capture 100% to Kafka" >&2
start_sidecar true
measure c "http://127.0.0.1:$SIDECAR_PORT/owners/42" "$SIDECAR_PID"
sleep 3 # grace period + producer linger: let the last captures land
CAPTURED=$(metric tapline_sidecar_captured_total)
PUBLISHED=$(metric tapline_sidecar_published_total)
DROPS=$(curl -s "http://127.0.0.1:$MGMT_PORT/metrics" | awk '/^tapline_sidecar_dropped_total/ && $2 > 0 { printf "%s=%s ", $1, $2 }')
PROXIED_C=$(metric 'tapline_sidecar_proxied_total{listener="inbound"}')
stop_sidecar

echo "bench: (d) sidecar, capture off" >&2
start_sidecar false
measure d "http://127.0.0.1:$SIDECAR_PORT/owners/42" "$SIDECAR_PID"
stop_sidecar

if [ "$COMPARE_NATIVE" = 1 ]; then
    echo "bench: (e) sidecar, capture 100% to Kafka, native epoll transport" >&2
    start_sidecar true native
    measure e "http://127.0.0.1:$SIDECAR_PORT/owners/42" "$SIDECAR_PID"
    stop_sidecar
fi

if [ "$COMPARE_FLOOR" = 1 ]; then
    echo "bench: (f) minimal proxy on Netty's HTTP codecs, no capture (bench/NettyFloor.java)" >&2
    javac -Xlint:-deprecation -d "$WORK/floor" -cp "$JAR" "$ROOT/capture-sidecar/bench/NettyFloor.java"
    java -Xms256m -Xmx512m -cp "$JAR:$WORK/floor" NettyFloor "$FLOOR_PORT" 127.0.0.1 "$BACKEND_PORT" >"$WORK/floor.log" 2>&1 &
    FLOOR_PID=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$FLOOR_PORT/owners/42" >/dev/null 2>&1 && break
        sleep 0.2
    done
    measure f "http://127.0.0.1:$FLOOR_PORT/owners/42" "$FLOOR_PID"
    kill "$FLOOR_PID"
    wait "$FLOOR_PID" 2>/dev/null || true
    FLOOR_PID=
fi

printf '\nTapline capture-sidecar benchmark  (%s, %s cores, wrk -t%s -c%s -d%s; paced: -c%s, one request per connection every %s ms; sidecar event loops: %s)\n\n' \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" "$THREADS" "$CONNS" "$DURATION" "$PACED_CONNS" "$PACE_MS" "$EVENT_LOOPS"
printf '%-34s %12s %9s %9s | %10s %9s %9s | %8s %7s %10s\n' "configuration" "req/s" "p50 ms" "p99 ms" "paced r/s" "p50 ms" "p99 ms" "CPU" "RSS MB" "Kafka CPU"
ROWS="a b c d"
[ "$COMPARE_NATIVE" = 1 ] && ROWS="$ROWS e"
[ "$COMPARE_FLOOR" = 1 ] && ROWS="$ROWS f"
for n in $ROWS; do
    case $n in
        a) label="(a) direct";;
        b) label="(b) nginx proxy_pass keepalive";;
        c) label="(c) sidecar, capture 100%";;
        d) label="(d) sidecar, capture off";;
        e) label="(e) = (c) on native epoll";;
        f) label="(f) minimal Netty-codec proxy";;
    esac
    printf '%-34s %12s %9s %9s | %10s %9s %9s | %8s %7s %10s\n' "$label" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}" "${PRPS[$n]}" "${PP50[$n]}" "${PP99[$n]}" "${CPU[$n]:--}" "${RSS[$n]:--}" "${STACK_CPU[$n]:--}"
done
echo
awk -v a="${RPS[a]}" -v b="${RPS[b]}" -v c="${RPS[c]}" -v d="${RPS[d]}" -v e="${RPS[e]:-0}" -v f="${RPS[f]:-0}" -v pf="${PP99[f]:-0}" \
    -v pa="${PP99[a]}" -v pb="${PP99[b]}" -v pc="${PP99[c]}" -v pd="${PP99[d]}" 'BEGIN {
    printf "throughput (c)/(b) = %.2f   (target >= 0.90)\n", c / b
    printf "throughput (c)/(a) = %.2f\n", c / a
    printf "throughput (d)/(b) = %.2f   (the proxy alone, no capture)\n", d / b
    if (e > 0) printf "throughput (e)/(c) = %.2f   (native epoll transport vs Java NIO, both capturing)\n", e / c
    if (f > 0) printf "throughput (f)/(b) = %.2f, (d)/(f) = %.2f   (a minimal proxy on Netty codecs vs nginx; the sidecar without capture vs it)\n", f / b, d / f
    printf "paced p99 added over direct: (b) %+.3f ms, (c) %+.3f ms (target <= 1 ms), (d) %+.3f ms", pb - pa, pc - pa, pd - pa
    if (f > 0) printf ", (f) %+.3f ms", pf - pa
    printf "\n"
}'
printf 'published records vs requests sent in (c): %s published, %s captured, %s proxied, %s completed by wrk in the measured runs (proxied also counts the warm-up)\n' \
    "$PUBLISHED" "$CAPTURED" "$PROXIED_C" "${REQS[c]}"
awk -v p="$PUBLISHED" -v x="$PROXIED_C" 'BEGIN { printf "published / proxied = %.4f   (target 1.0000 while the broker is healthy)\n", p / x }'
echo "drops in (c): ${DROPS:-none}"
echo "CPU = sidecar (or (f)'s) cores used during the saturating run; Kafka CPU = broker + registry cores over the same run (same 2 cores)"
echo "raw wrk output: $WORK/wrk-*.txt"
trap - EXIT
cleanup
