#!/usr/bin/env bash
# scripts/bench.sh: the benchmarks of the inspection core (issue 2), of the datapath (issue 3) and
# of TLS mail through it (issue 13);
# each section's measurements become one JSON document, which scripts/bench-report.py turns into
# the section's block of BENCHMARKS.md (between its generated-block markers: notes outside them
# are kept).
#
#   scripts/bench.sh [core|datapath|tls|synflood|all] [--runs N] [--no-write] [--json DIR]
#                                                   (default: all, 3 runs; --json keeps SECTION.json)
#   scripts/bench.sh profile [small|bulk|tls]                        (perf profile of the daemon)
#
#   core      smtp-inspect-bench core (release build), bench/malloc-count.so preloaded, N times
#             (5 without --runs: it takes a second).
#   datapath  in the lab's namespaces (scripts/lib/lab.sh; root): smtp-sink in the server
#             namespace, smtp-source in the client namespace, through the router over three
#             paths: no queue, bench/nfq-accept (the C accept-all NFQUEUE consumer) and
#             smtp-inspect run (release). Loads: small (20 sessions, 5000 x 10 KiB) and bulk
#             (4 sessions, 200 x 1 MiB), interleaved (A B C A B C ...), N repetitions. Then the
#             daemon with malloc-count.so preloaded (allocations per packet) and with 10,000
#             idle sessions open (RSS). And the NOOP round trip: one session, 2000 NOOPs one at
#             a time (bench/tls-load.c noop), through each path.
#   tls       in the lab's namespaces (root): bench/tls-sink.c (a discarding mail server with
#             STARTTLS, a certificate generated with openssl) in the server namespace,
#             bench/tls-load.c in the client namespace (20 threads, one STARTTLS session per
#             message), over five paths: no queue; the rules `smtp-inspect rules` generates
#             with ACCEPT where they queue (the firewall without the queue); nfq-accept (every
#             packet queued); nfq-accept -t (the floor: it checks nothing, but lets a session
#             leave the queue at the same packet as smtp-inspect); and smtp-inspect run
#             --allow-starttls. The last three run behind the generated rules (their bypass
#             rules accept a session that left the queue before the NFQUEUE rule).
#             Loads: small (20 sessions, 3000 x 10 KiB) and bulk (20 sessions, 1000 x 1 MiB),
#             interleaved, N repetitions.
#   synflood  smtp-inspect-bench synflood (release): a SYN's cost in aggressive mode with 1,000,
#             10,000 and 90,000 sessions in the table.
#   profile   perf record -g of smtp-inspect under one load; prints the hottest symbols (the
#             data stays in $BENCH_PROFILE_DIR, default /tmp/smtp-inspect-profile).
#
# Environment: BENCH_SCRATCH (swift build --scratch-path, default .build), BENCH_SMALL and
# BENCH_BULK (smtp-source options, defaults "-s 20 -m 5000 -l 10240" and "-s 4 -m 200 -l 1048576"),
# BENCH_IDLE (idle sessions, default 10000), BENCH_NOOPS (NOOPs per latency run, default 2000),
# BENCH_TLS_SMALL and BENCH_TLS_BULK (tls-load options, defaults "-s 20 -m 3000 -l 10240" and
# "-s 20 -m 1000 -l 1048576"), BENCH_QUIET_WAIT (seconds to wait for other busy
# processes before each run, default 300), BENCH_PROFILE_DIR. Non-default loads are printed in
# the report. Each section also reports bench/cpu-calibrate.c's speed (the host's speed varies).
# Nothing leaves the namespaces the lab creates; everything is removed on every exit path.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[[ -x /opt/swift/usr/bin/swift ]] && ! command -v swift >/dev/null && export PATH=/opt/swift/usr/bin:$PATH

MODE=all
RUNS=3
CORE_RUNS=5         # the core benchmark takes a second: more runs, unless --runs says otherwise
WRITE=1
JSON_DIR=""
PROFILE_LOAD=small
while (($#)); do
    case "$1" in
        core | datapath | tls | synflood | all) MODE=$1 ;;
        profile) MODE=profile
            if [[ "${2:-}" == small || "${2:-}" == bulk || "${2:-}" == tls ]]; then PROFILE_LOAD=$2; shift; fi ;;
        --runs) RUNS=${2:?--runs N}; CORE_RUNS=$RUNS; shift ;;
        --no-write) WRITE=0 ;;
        --json) JSON_DIR=${2:?--json DIR}; shift ;;
        -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --runs wants a positive number" >&2; exit 2; }

SCRATCH=${BENCH_SCRATCH:-.build}
DEFAULT_SMALL="-s 20 -m 5000 -l 10240"
DEFAULT_BULK="-s 4 -m 200 -l 1048576"
SMALL=${BENCH_SMALL:-$DEFAULT_SMALL}
BULK=${BENCH_BULK:-$DEFAULT_BULK}
IDLE=${BENCH_IDLE:-10000}
NOOPS=${BENCH_NOOPS:-2000}
DEFAULT_TLS_SMALL="-s 20 -m 3000 -l 10240"
DEFAULT_TLS_BULK="-s 20 -m 1000 -l 1048576"
TLS_SMALL=${BENCH_TLS_SMALL:-$DEFAULT_TLS_SMALL}
TLS_BULK=${BENCH_TLS_BULK:-$DEFAULT_TLS_BULK}
IDLE_SETTLE=5       # seconds between the last greeting and reading the daemon's RSS
BENCHMARKS=$ROOT/BENCHMARKS.md
QUEUE=0

BENCH_TMP=$(mktemp -d /tmp/smtp-inspect-bench.XXXXXX)
LAB_LOADED=0
bench_cleanup() {
    local rc=$?
    set +e
    ((LAB_LOADED)) && lab_cleanup
    rm -rf "$BENCH_TMP"
    return $rc
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# JSON: what the measurements write, by name (scripts/bench-report.py reads it)

# json_val VALUE: a number stays a number, "-" and "" become null, anything else a string.
json_val() {
    local v=$1
    if [[ -z "$v" || "$v" == - ]]; then printf 'null'
    elif [[ "$v" =~ ^-?(0|[1-9][0-9]*)(\.[0-9]+)?$ ]]; then printf '%s' "$v"
    else
        v=${v//\\/\\\\}; v=${v//\"/\\\"}; v=${v//$'\t'/\\t}; v=${v//$'\n'/\\n}; v=${v//$'\r'/\\r}
        printf '"%s"' "$v" | tr -d '\000-\010\013\014\016-\037\177'
    fi
}

# json_obj KEY VALUE ...: one object of json_val VALUEs; a KEY written "KEY:" takes its VALUE as
# JSON already (an array or an object).
json_obj() {
    local sep="" key
    printf '{'
    while (($# >= 2)); do
        key=$1
        if [[ "$key" == *: ]]; then printf '%s"%s": %s' "$sep" "${key%:}" "$2"
        else printf '%s"%s": %s' "$sep" "$key" "$(json_val "$2")"; fi
        sep=", "
        shift 2
    done
    printf '}'
}

# json_array FILE: the lines of FILE (JSON values each) as one array.
json_array() { printf '['; paste -sd, "$1" | tr -d '\n'; printf ']'; }

# json_text FILE: the whole of FILE as one string.
json_text() { json_val "$(cat "$1"; printf x)" | sed 's/x"$/"/'; }

# report NAME JSON: the section's Markdown (scripts/bench-report.py) into BENCHMARKS.md.
report() {
    local name=$1 json=$2
    [[ -n "$JSON_DIR" ]] && { mkdir -p "$JSON_DIR" && cp "$json" "$JSON_DIR/$name.json"; }
    python3 "$ROOT/scripts/bench-report.py" "$json" >"$BENCH_TMP/$name.md" || die "scripts/bench-report.py failed on $json"
    write_block "$name" "$BENCH_TMP/$name.md"
}

# ---------------------------------------------------------------------------------------------
# The machine

machine_line() {
    local cpu hv kernel swiftv mem
    cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
    hv=$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor:[[:space:]]*//p' | head -n 1)
    kernel=$(uname -r)
    swiftv=$(swift --version 2>&1 | grep -m1 -o 'Swift version [^ ]*' || echo "Swift ?")
    mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
    echo "${cpu:-unknown CPU}${hv:+ ($hv guest)}, $(nproc) cores, $mem, Linux $kernel, Debian $(cat /etc/debian_version 2>/dev/null || echo ?), $swiftv"
}

# code_line: the commit measured, and whether the sources had uncommitted changes.
code_line() {
    local head dirty
    head=$(git -C "$ROOT" log -1 --format='%h %s' 2>/dev/null |
        awk '{ h = $1; sub(/^[^ ]+ /, ""); if (length($0) > 60) $0 = substr($0, 1, 60) "…"; printf "%s (\"%s\")", h, $0 }') || head="?"
    dirty=$(git -C "$ROOT" status --porcelain -- Sources Package.swift 2>/dev/null | wc -l)
    if ((dirty)); then echo "commit $head plus uncommitted changes to $dirty file(s) under Sources/"; else echo "commit $head"; fi
}

# load_line: the load average and what else was busy (second frame of top: the last second).
load_line() {
    local la busy
    la=$(cut -d' ' -f1-3 /proc/loadavg)
    busy=$(top -bn2 -d 1 -w 256 2>/dev/null | awk '/^top -/ { frame++ } frame == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 10 {
            printf "%s%s %.0f%%", sep, $12, $9; sep = ", " }')
    echo "load average $la; busy in the last second: ${busy:-nothing ≥ 10% CPU}"
}

# busy_now: other processes that used ≥ 20% of a CPU in the last second (not top itself, and not
# the processes in this run's namespaces).
busy_now() {
    local ours="" ns
    if ((LAB_LOADED)); then
        for ns in "${LAB_NAMESPACES[@]}"; do ours+=" $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"; done
    fi
    top -bn2 -d 1 -w 256 2>/dev/null | awk -v ours="$ours" '
        BEGIN { n = split(ours, p, " "); for (i = 1; i <= n; i++) mine[p[i]] = 1 }
        /^top -/ { frame++ }
        frame == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 20 && $12 != "top" && !($1 in mine) {
            printf "%s%s %.0f%%", sep, $12, $9; sep = ", " }'
}

# wait_quiet: wait (at most BENCH_QUIET_WAIT seconds, default 300) until nothing else is busy, so
# that a build or test of someone else's does not end up in the numbers. Returns 1 on timeout.
wait_quiet() {
    local deadline=$((SECONDS + ${BENCH_QUIET_WAIT:-300})) busy said=0
    while :; do
        busy=$(busy_now)
        [[ -z "$busy" ]] && return 0
        if ((SECONDS >= deadline)); then say "still busy ($busy): measuring anyway"; return 1; fi
        ((said)) || say "waiting for the machine to calm down: $busy"
        said=1
        sleep 5
    done
}

# ---------------------------------------------------------------------------------------------
# Builds

build_product() {
    local attempt
    say "swift build -c release --product $1 (scratch path $SCRATCH)"
    for attempt in 1 2 3; do
        swift build -c release --scratch-path "$SCRATCH" --product "$1" >"$BENCH_TMP/build-$1.log" 2>&1 && break
        # Someone saving a file mid-build ("was modified during the build"): try again.
        if ((attempt < 3)) && grep -q "modified during the build" "$BENCH_TMP/build-$1.log"; then sleep 2; continue; fi
        tail -n 30 "$BENCH_TMP/build-$1.log" >&2
        die "swift build of $1 failed"
    done
    echo "$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/$1"
}

# bench/cpu-calibrate.c: a fixed single-core workload, run beside the benchmarks, because this
# machine's speed changes with what else runs on its host (see BENCHMARKS.md).
CALIBRATE=""
calibrate() { # calibrate FILE: append one "MB/s" figure to FILE
    if [[ -z "$CALIBRATE" ]]; then
        CALIBRATE=$BENCH_TMP/cpu-calibrate
        ${CC:-gcc} -O2 -Wall -Wextra -o "$CALIBRATE" bench/cpu-calibrate.c || die "building bench/cpu-calibrate.c failed"
    fi
    "$CALIBRATE" | awk '{ print $2 }' >>"$1"
}

MALLOC_SO=""
build_malloc_count() {
    [[ -n "$MALLOC_SO" ]] && return 0
    MALLOC_SO=$BENCH_TMP/malloc-count.so
    ${CC:-gcc} -O2 -g -Wall -Wextra -shared -fPIC -pthread -o "$MALLOC_SO" \
        bench/malloc-count.c bench/malloc-sampler.c -ldl || die "building bench/malloc-count.so failed"
}

# ---------------------------------------------------------------------------------------------
# BENCHMARKS.md: generated blocks between markers; everything else is kept.

benchmarks_skeleton() {
    cat <<'EOF2'
# Benchmarks

What is measured, how, and how to get the numbers again: `scripts/bench.sh --help`.
`scripts/bench.sh` writes everything between the `BEGIN GENERATED` and `END GENERATED` markers;
the rest of this file is written by hand and kept.

## Core

<!-- BEGIN GENERATED: core (scripts/bench.sh core) -->
<!-- END GENERATED: core -->

## Datapath

<!-- BEGIN GENERATED: datapath (scripts/bench.sh datapath) -->
<!-- END GENERATED: datapath -->

## TLS

<!-- BEGIN GENERATED: tls (scripts/bench.sh tls) -->
<!-- END GENERATED: tls -->
EOF2
}

# write_block NAME FILE: replace the generated block NAME of BENCHMARKS.md with FILE.
write_block() {
    local name=$1 file=$2
    if ((WRITE == 0)); then cat "$file"; return; fi
    [[ -f "$BENCHMARKS" ]] || benchmarks_skeleton >"$BENCHMARKS"
    if ! grep -q "^<!-- BEGIN GENERATED: $name " "$BENCHMARKS" || ! grep -q "^<!-- END GENERATED: $name -->" "$BENCHMARKS"; then
        die "BENCHMARKS.md has no generated block '$name' (markers <!-- BEGIN GENERATED: $name ... --> and <!-- END GENERATED: $name -->)"
    fi
    awk -v name="$name" -v file="$file" '
        index($0, "<!-- BEGIN GENERATED: " name " ") == 1 { print; while ((getline line < file) > 0) print line; skip = 1; next }
        $0 == "<!-- END GENERATED: " name " -->" { skip = 0 }
        !skip { print }' "$BENCHMARKS" >"$BENCH_TMP/BENCHMARKS.md"
    cat "$BENCH_TMP/BENCHMARKS.md" >"$BENCHMARKS"
    say "wrote the $name block of BENCHMARKS.md"
}

# ---------------------------------------------------------------------------------------------
# Core

run_core() {
    local bin i runs=$CORE_RUNS code loadstart try
    bin=$(build_product smtp-inspect-bench)
    code=$(code_line)
    build_malloc_count
    : >"$BENCH_TMP/calibrate.core"
    : >"$BENCH_TMP/core.runs"
    wait_quiet || true
    loadstart=$(load_line)
    for ((i = 1; i <= runs; i++)); do
        for try in 1 2 3; do
            wait_quiet || true
            say "core run $i of $runs"
            LD_PRELOAD=$MALLOC_SO "$bin" core >"$BENCH_TMP/core.$i.txt" || die "smtp-inspect-bench core failed"
            calibrate "$BENCH_TMP/calibrate.core"
            [[ -z "$(busy_now)" ]] && break
            ((try < 3)) && say "another process got busy during the run: once more"
        done
        grep -q '^| load |' "$BENCH_TMP/core.$i.txt" || die "no table in smtp-inspect-bench's output"
        { json_text "$BENCH_TMP/core.$i.txt"; echo; } >>"$BENCH_TMP/core.runs"
    done
    json_obj section core measured "$(date -u '+%Y-%m-%d %H:%M UTC')" machine "$(machine_line)" code "$code" \
        runs "$runs" load_before "$loadstart" load_after "$(load_line)" \
        "calibration_mb_s:" "$(json_array "$BENCH_TMP/calibrate.core")" \
        "outputs:" "$(json_array "$BENCH_TMP/core.runs")" >"$BENCH_TMP/core.json"
    report core "$BENCH_TMP/core.json"
}

# ---------------------------------------------------------------------------------------------
# Datapath

INSPECT_BIN=""
DP_CODE=""
NFQ_BIN=""
CONSUMER_PID=""
CONSUMER_LOG=""
CURRENT_PATH=""

# lab_prepare WHAT: the release build of smtp-inspect, the C helpers (bench/build.sh: nfq-accept,
# tls-load, tls-sink) and the lab's namespaces, with the client's whole port range.
TLS_LOAD_BIN=""
TLS_SINK_BIN=""
lab_prepare() {
    ((EUID == 0)) || die "the $1 benchmark needs root (network namespaces, iptables, NFQUEUE)"
    INSPECT_BIN=$(build_product smtp-inspect)
    DP_CODE=$(code_line)
    NFQ_BIN=$(bench/build.sh "$BENCH_TMP/c" | tail -n 1) || die "bench/build.sh failed"
    TLS_LOAD_BIN=$BENCH_TMP/c/tls-load TLS_SINK_BIN=$BENCH_TMP/c/tls-sink
    # shellcheck source=lib/lab.sh
    source "$ROOT/scripts/lib/lab.sh"
    LAB_LOADED=1
    export LAB_NO_TRAP=1 LAB_IPV6=0 LAB_VERBOSE=0
    lab_up || die "lab_up failed"
    # The whole port range for the client: smtp-source ends every connection with an RST (no
    # TIME_WAIT anywhere), and Linux hands out source ports in steps of 2-16, so with the default
    # 28k ports a 4-tuple comes back within seconds at these rates (see BENCHMARKS.md's notes).
    lab_exec client sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
    write_bench_config
}

dp_prepare() {
    command -v python3 >/dev/null || die "python3 is needed for the idle-sessions measurement"
    lab_prepare datapath
    build_malloc_count
    [[ -n "$(smtp_source)" ]] || die "smtp-source not found (postfix; run scripts/deps.sh)"
    command -v smtp-sink >/dev/null || [[ -x /usr/sbin/smtp-sink ]] || die "smtp-sink not found (postfix)"
    # smtp-sink: up to IDLE + slack sessions, a long command timeout for the idle sessions.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    (($(ulimit -n) >= IDLE + 200)) || die "RLIMIT_NOFILE $(ulimit -n) is too small for $IDLE idle sessions"
    smtp_sink_start "$LAB_SERVER_IP:25" 4096 -c -m $((IDLE + 2000)) -t 600 || die "smtp-sink did not start"
}

write_bench_config() {
    # smtp-inspect's configuration: the esmtp inspection for every session that comes in on the
    # outside, as without --config, but with the half-open thresholds above the small load's
    # ~1,500 new connections a second: IOS's defaults (one-minute high 500) call that rate an
    # attack and delete handshakes in progress, which ended some small runs early. That
    # protection is tested in Tests/e2e/daemon-config.sh; here it would only add noise to the
    # comparison. max-data: the steady load carries 50 MB per session.
    BENCH_CONFIG=$BENCH_TMP/bench.cfg
    cat >"$BENCH_CONFIG" <<'CFG'
ip inspect max-incomplete high 1000000
ip inspect max-incomplete low 900000
ip inspect one-minute high 1000000
ip inspect one-minute low 900000
ip inspect name BENCH esmtp max-data 1000000000
interface Ethernet0
 ip inspect BENCH in
CFG
    "$INSPECT_BIN" check --config "$BENCH_CONFIG" >/dev/null || die "smtp-inspect check refused $BENCH_CONFIG"
}

sink_messages() {
    { tail -c 4096 "$SMTP_SINK_LOG" 2>/dev/null | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -n 1 | cut -d= -f2; } || true
}

# No TCP/25 connection left in the client namespace (the previous run has finished closing).
dp_quiet() {
    local n
    n=$(lab_exec client ss -tanH '( dport = :25 )' 2>/dev/null | grep -vc TIME-WAIT || true)
    ((n == 0))
}

DP_INSPECT_EXTRA=()     # extra smtp-inspect options for one run
# The rules of the queued paths: "forward" (lab_nfqueue_smtp: TCP/25 both ways to the queue in
# the router's filter FORWARD chain) or "generated" (TLS_RULES: what `smtp-inspect rules` makes of
# bench.cfg, with its bypass rules before the NFQUEUE rule).
DP_RULES=forward

# dp_rules_flush: no rule left in the router (the generated rules' SI-* chains deleted as well).
dp_rules_flush() {
    lab_iptables_flush || return 1
    [[ "$DP_RULES" == forward ]] && return 0
    local t
    for t in raw mangle nat filter; do
        lab_exec router iptables -t "$t" -F && lab_exec router iptables -t "$t" -X || return 1
    done
}

# dp_path_up PATH [malloc]: none | nfq | inspect; with "malloc", malloc-count.so and its sampler
# are preloaded into the consumer (samples in $BENCH_TMP/samples).
dp_path_up() {
    local path=$1 malloc=${2:-} env=()
    CURRENT_PATH=$path
    CONSUMER_PID=""
    dp_rules_flush
    lab_wait_until 15 dp_quiet || say "warning: connections of the previous run are still open"
    [[ "$path" == none ]] && return 0
    if [[ "$path" == rules ]]; then
        lab_exec router iptables-restore --noflush <"$TLS_RULES_NOQ" || die "iptables-restore refused $TLS_RULES_NOQ"
        return 0
    fi
    if [[ -n "$malloc" ]]; then
        : >"$BENCH_TMP/samples"
        env=(env LD_PRELOAD="$MALLOC_SO" SMTP_BENCH_MALLOC_SAMPLES="$BENCH_TMP/samples"
             SMTP_BENCH_MALLOC_QUEUE="$QUEUE" SMTP_BENCH_MALLOC_INTERVAL_MS=100)
    fi
    CONSUMER_LOG=$BENCH_TMP/consumer.log
    case "$path" in
        nfq) lab_spawn router "$CONSUMER_LOG" "${env[@]}" "$NFQ_BIN" -m 4096 -r 128 -b 256 -g $QUEUE ;;
        floor) lab_spawn router "$CONSUMER_LOG" "${env[@]}" "$NFQ_BIN" -m 4096 -r 128 -b 256 -g -t "$BYPASS_MARK" $QUEUE ;;
        inspect) lab_spawn router "$CONSUMER_LOG" "${env[@]}" "$INSPECT_BIN" run --queue $QUEUE \
                     --stats-interval 0 --no-control --config "$BENCH_CONFIG" \
                     --interface "Ethernet0=$LAB_EXT_IF" "${DP_INSPECT_EXTRA[@]}" ;;
        *) die "unknown path $path" ;;
    esac
    CONSUMER_PID=$LAB_LAST_PID
    lab_nfq_wait_bound $QUEUE 20 || { cat "$CONSUMER_LOG" >&2; die "$path did not bind queue $QUEUE"; }
    if [[ "$DP_RULES" == generated ]]; then
        lab_exec router iptables-restore --noflush <"$TLS_RULES" || die "iptables-restore refused $TLS_RULES"
    else
        lab_nfqueue_smtp $QUEUE
    fi
}

# dp_path_down: flush the rules, stop the consumer; DP_FINAL = its final counter line (or "-").
DP_FINAL=-
dp_path_down() {
    dp_rules_flush
    DP_FINAL=-
    [[ -z "$CONSUMER_PID" ]] && return 0
    local rc=0
    lab_kill "$CONSUMER_PID" 10 || rc=$?
    ((rc == 0)) || say "warning: $CURRENT_PATH exited with status $rc"
    CONSUMER_PID=""
    DP_FINAL=$(awk '/^packets / { last = $0 } /^nfq-accept: queue .* packets/ { last = $0 }
                    END { print (last == "" ? "-" : last) }' "$CONSUMER_LOG")
}

cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / hz }' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
now_ns() { date +%s%N; }

# A word's value in the daemon's final counter line ("... dropped 3 reset 0 ...").
counter() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$2"; }
# The same for a number written before its word ("... 3000 bypassed | ...").
counter_before() { awk -v k="$1" '{ for (i = 2; i <= NF; i++) if ($i == k) { print $(i - 1); exit } }' <<<"$2"; }

# dp_run REP LOAD PATH [malloc]: one measurement; appends its record to $BENCH_TMP/runs.json
# (one JSON object a line, the fields named in dp_run_once). Waits for a quiet machine first; a
# run after which another process is busy is done again (at most twice), so that someone
# else's build does not end up in the numbers.
dp_run() {
    local try after window=null
    for try in 1 2 3; do
        wait_quiet || true
        dp_run_once "$@"
        after=$(busy_now)
        [[ -z "$after" ]] && break
        if ((try < 3)); then say "another process got busy during the run ($after): once more"; fi
    done
    [[ -n "${4:-}" ]] && window=$(alloc_window "$BENCH_TMP/samples" "${DP_RUN[t0_ns]}" "${DP_RUN[t1_ns]}")
    local args=() k
    for k in rep load path seconds messages megabytes source_rc sink_delta cpu_s hwm_kb packets queue_dropped \
             user_dropped daemon_dropped daemon_modified daemon_reset t0_ns t1_ns; do
        args+=("$k" "${DP_RUN[$k]}")
    done
    { json_obj "${args[@]}" tries "$try" busy "$after" "allocations:" "$window"; echo; } >>"$BENCH_TMP/runs.json"
}

# dp_run_once REP LOAD PATH [malloc]: one load through one path; its figures in DP_RUN.
declare -A DP_RUN
dp_run_once() {
    local rep=$1 load=$2 path=$3 malloc=${4:-} opts src sink0 sink1 t0 t1 rc=0 cpu0=- cpu1=- hwm=- nfq=()
    case "$load" in
        small) opts=$SMALL ;;
        bulk) opts=$BULK ;;
        steady) opts="$BULK -d" ;;     # the bulk load over 4 long sessions (allocation per packet)
    esac
    DP_INSPECT_EXTRA=()
    local msgs len
    msgs=$(awk '{ for (i = 1; i < NF; i++) if ($i == "-m") print $(i + 1) }' <<<"$opts")
    len=$(awk '{ for (i = 1; i < NF; i++) if ($i == "-l") print $(i + 1) }' <<<"$opts")
    dp_path_up "$path" "$malloc"
    src=$(smtp_source)
    sink0=$(sink_messages)
    [[ -n "$CONSUMER_PID" ]] && cpu0=$(cpu_seconds "$CONSUMER_PID")
    t0=$(now_ns)
    # shellcheck disable=SC2086
    timeout --foreground 600 ip netns exec "$LAB_NS_CLIENT" "$src" -M client.lab.test -f a@client.lab.test \
        -t b@mail.lab.test $opts "$LAB_SERVER_IP:25" >"$BENCH_TMP/source.log" 2>&1 || rc=$?
    t1=$(now_ns)
    sleep 0.3
    sink1=$(sink_messages)
    if [[ -n "$CONSUMER_PID" ]]; then
        cpu1=$(cpu_seconds "$CONSUMER_PID")
        hwm=$(status_kb "$CONSUMER_PID" VmHWM)
        read -r -a nfq < <(lab_nfq_stats $QUEUE | awk '{ print $8, $6, $7 }')
    else
        nfq=(- - -)
    fi
    local final secs cpu mb
    dp_path_down
    final=$DP_FINAL
    ((rc == 0)) || { say "warning: smtp-source exited with $rc:"; tail -n 5 "$BENCH_TMP/source.log" >&2; }
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    mb=$(awk -v m="$msgs" -v l="$len" 'BEGIN { printf "%.3f", m * l / 1e6 }')
    cpu=-
    [[ "$cpu0" != - ]] && cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.3f", b - a }')
    local dd=- dm=- da=-
    if [[ "$path" == inspect && "$final" != - ]]; then
        dd=$(counter dropped "$final") dm=$(counter modified "$final") da=$(counter reset "$final")
    fi
    DP_RUN=([rep]=$rep [load]=$load [path]=$path${malloc:++malloc} [seconds]=$secs [messages]=$msgs [megabytes]=$mb
            [source_rc]=$rc [sink_delta]=$((${sink1:-0} - ${sink0:-0})) [cpu_s]=$cpu [hwm_kb]=$hwm
            [packets]=${nfq[0]:--} [queue_dropped]=${nfq[1]:--} [user_dropped]=${nfq[2]:--}
            [daemon_dropped]=$dd [daemon_modified]=$dm [daemon_reset]=$da [t0_ns]=$t0 [t1_ns]=$t1)
    say "rep $rep $load $path${malloc:++malloc}: ${secs}s, $(awk -v m="$msgs" -v s="$secs" 'BEGIN { printf "%.0f", m / s }') msg/s, cpu ${cpu}s, rc $rc, sink +$((${sink1:-0} - ${sink0:-0}))"
    if [[ "$path" == inspect && -z "$malloc" ]]; then
        grep -v '^packets ' "$CONSUMER_LOG" | grep -v 'inspecting queue\|stopped$' | head -n 3 >>"$BENCH_TMP/alerts.$load" || true
    fi
    return 0
}

# noop_fields LINE: tls-load noop's result line as a JSON object's fields (after json_obj's own).
noop_fields() {
    local line=$1 k
    for k in noops failed p50_us p90_us p99_us max_us mean_us seconds; do
        printf '%s\n%s\n' "$k" "$(counter "$k" "$line")"
    done
}

# dp_noop REP PATH: the NOOP round trip through PATH, one session of NOOPS NOOPs one at a time
# (bench/tls-load.c noop, plaintext, to smtp-sink); appends its record to $BENCH_TMP/noop.json.
dp_noop() {
    local rep=$1 path=$2 rc=0 line try after fields=()
    for try in 1 2 3; do
        wait_quiet || true
        DP_INSPECT_EXTRA=()
        dp_path_up "$path"
        rc=0
        line=$(timeout --foreground 120 ip netns exec "$LAB_NS_CLIENT" "$TLS_LOAD_BIN" noop -n "$NOOPS" \
            "$LAB_SERVER_IP" 25 2>"$BENCH_TMP/noop.err" | tail -n 1) || rc=$?
        dp_path_down
        after=$(busy_now)
        [[ -z "$after" ]] && break
        if ((try < 3)); then say "another process got busy during the NOOP run ($after): once more"; fi
    done
    ((rc == 0)) || { say "warning: tls-load noop exited with $rc:"; cat "$BENCH_TMP/noop.err" >&2; }
    mapfile -t fields < <(noop_fields "$line")
    { json_obj rep "$rep" path "$path" rc "$rc" "${fields[@]}" tries "$try" busy "$after"; echo; } >>"$BENCH_TMP/noop.json"
    say "rep $rep noop $path: p50 $(counter p50_us "$line") µs, p99 $(counter p99_us "$line") µs, rc $rc"
}

_idle_settled() { grep -q '^ready:' "$1" || ! kill -0 "$2" 2>/dev/null; }

# dp_idle REP: smtp-inspect with IDLE open idle sessions; appends its record to $BENCH_TMP/idle.json.
dp_idle() {
    local rep=$1 rss0 rss1 hwm est=0 fails=- t0 t1 pylog=$BENCH_TMP/idle.log py
    DP_INSPECT_EXTRA=()
    dp_path_up inspect
    sleep 0.5
    rss0=$(status_kb "$CONSUMER_PID" VmRSS)
    : >"$pylog"
    t0=$(now_ns)
    lab_spawn client "$pylog" python3 "$ROOT/bench/idle-sessions.py" --server "$LAB_SERVER_IP" \
        --count "$IDLE" --parallel 1 --timeout 300
    py=$LAB_LAST_PID
    lab_wait_until 320 _idle_settled "$pylog" "$py" || true
    if grep -q '^ready:' "$pylog"; then
        t1=$(now_ns)
        # Let the daemon's timers run with all sessions open: it gives the buffers of sessions
        # quiet for over 2 s back (ticks every 0.5 s); the peak while opening is VmHWM.
        sleep "$IDLE_SETTLE"
        rss1=$(status_kb "$CONSUMER_PID" VmRSS)
        hwm=$(status_kb "$CONSUMER_PID" VmHWM)
        est=$(lab_exec client ss -tnH state established '( dport = :25 )' | wc -l)
        fails=$(sed -n 's/^ready: .* \([0-9]*\) failed attempts/\1/p' "$pylog")
    else
        t1=$(now_ns)
        say "warning: the idle sessions did not open:"
        tail -n 5 "$pylog" >&2
        rss1=- hwm=-
    fi
    lab_kill "$py" 30 || true
    lab_wait_until 60 dp_quiet || true
    dp_path_down
    { json_obj rep "$rep" rss_before_kb "$rss0" rss_open_kb "$rss1" hwm_kb "$hwm" established "$est" \
        failed_attempts "$fails" open_seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')"
      echo; } >>"$BENCH_TMP/idle.json"
    say "rep $rep idle: $est sessions, RSS ${rss0} kB -> ${rss1} kB (peak $hwm kB), failed attempts $fails"
}

# alloc_window SAMPLES T0 T1: the allocation counts bench/malloc-sampler.c wrote (lines "time_ns
# allocations packets") over the steady window (the middle of the load: from 25% to 85% of its
# time) and over the whole load (to 0.5 s after its end), as a JSON object.
alloc_window() {
    awk -v t0="$2" -v t1="$3" 'BEGIN { d = t1 - t0; ws = t0 + 0.25 * d; we = t0 + 0.85 * d }
        $3 < 0 { next }
        $1 <= t0 { wm0 = $2; wp0 = $3 }
        $1 >= ws && !a { a = 1; m0 = $2; p0 = $3; s0 = $1 }
        $1 <= we { m1 = $2; p1 = $3; s1 = $1 }
        $1 >= t1 + 5e8 && !b { b = 1; wm1 = $2; wp1 = $3 }
        END { if (!b) { wm1 = m1; wp1 = p1 }
              printf "{\"window_allocations\": %d, \"window_packets\": %d, \"whole_allocations\": %d, \"whole_packets\": %d, \"window_seconds\": %.3f}",
                  m1 - m0, p1 - p0, wm1 - wm0, wp1 - wp0, (s1 - s0) / 1e9 }' "$1"
}

run_datapath() {
    local rep load path loadstart t_start
    dp_prepare
    : >"$BENCH_TMP/runs.json"
    : >"$BENCH_TMP/idle.json"
    : >"$BENCH_TMP/reps.json"
    : >"$BENCH_TMP/noop.json"
    loadstart=$(load_line)
    t_start=$(date +%s)
    say "warm-up (not counted)"
    dp_path_up none
    ip netns exec "$LAB_NS_CLIENT" "$(smtp_source)" -s 4 -m 200 -l 10240 "$LAB_SERVER_IP:25" >/dev/null 2>&1 || true
    : >"$BENCH_TMP/calibrate.datapath"
    for ((rep = 1; rep <= RUNS; rep++)); do
        local quiet=quiet
        wait_quiet || quiet="busy"
        { json_obj rep "$rep" load_1min "$(cut -d' ' -f1 /proc/loadavg)" quiet "$quiet"; echo; } >>"$BENCH_TMP/reps.json"
        calibrate "$BENCH_TMP/calibrate.datapath"
        for load in small bulk; do
            for path in none nfq inspect; do
                dp_run "$rep" "$load" "$path"
            done
        done
        for load in small bulk steady; do
            dp_run "$rep" "$load" inspect malloc
        done
        ((rep == 1)) && dp_run "$rep" steady nfq malloc
        for path in none nfq inspect; do
            dp_noop "$rep" "$path"
        done
        dp_idle "$rep"
    done
    # The daemon's first alerts of each run, counted (the IOS timestamp taken off).
    cat "$BENCH_TMP"/alerts.* 2>/dev/null | sed -E 's/^\*[A-Z][a-z]{2} [ 0-9]{2} [0-9:.]+: //' | sort | uniq -c |
        sort -rn | head -n 8 | while read -r n line; do json_obj count "$n" line "$line"; echo; done >"$BENCH_TMP/alerts.json"
    json_obj section datapath measured "$(date -u '+%Y-%m-%d %H:%M UTC')" machine "$(machine_line)" code "$DP_CODE" \
        runs "$RUNS" took_s "$(($(date +%s) - t_start))" load_before "$loadstart" load_after "$(load_line)" \
        "calibration_mb_s:" "$(json_array "$BENCH_TMP/calibrate.datapath")" "repetitions:" "$(json_array "$BENCH_TMP/reps.json")" \
        small "$SMALL" bulk "$BULK" default_small "$DEFAULT_SMALL" default_bulk "$DEFAULT_BULK" \
        idle_sessions "$IDLE" idle_settle_s "$IDLE_SETTLE" "measurements:" "$(json_array "$BENCH_TMP/runs.json")" \
        "idle:" "$(json_array "$BENCH_TMP/idle.json")" "first_alerts:" "$(json_array "$BENCH_TMP/alerts.json")" \
        noops "$NOOPS" "noop:" "$(json_array "$BENCH_TMP/noop.json")" >"$BENCH_TMP/datapath.json"
    report datapath "$BENCH_TMP/datapath.json"
}

# ---------------------------------------------------------------------------------------------
# TLS mail (issue 13): STARTTLS sessions through the three paths, smtp-inspect with its bypass

TLS_RULES=""
TLS_RULES_NOQ=""
BYPASS_MARK=0x8000000   # IptablesRules.bypassMark: what smtp-inspect's verdict adds, nfq-accept -t too
TLS_SINK_PID=""
TLS_SINK_LOG=""

tls_prepare() {
    command -v openssl >/dev/null || die "openssl not found (run scripts/deps.sh)"
    lab_prepare tls
    DP_RULES=generated
    # The server's certificate: ECDSA P-256, self-signed (tls-load does not check it, as a sender
    # without DANE or MTA-STS does not).
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=mail.lab.test \
        -keyout "$BENCH_TMP/tls-key.pem" -out "$BENCH_TMP/tls-cert.pem" >"$BENCH_TMP/openssl.log" 2>&1 ||
        { cat "$BENCH_TMP/openssl.log" >&2; die "openssl could not make the server's certificate"; }
    # tls-sink rather than Postfix: Postfix would queue every message and write it to disk, which
    # would put the disk into the figures; tls-sink reads each message to its end and discards it,
    # as smtp-sink does on the plaintext loads.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    TLS_SINK_LOG=$BENCH_TMP/tls-sink.log
    lab_spawn server "$TLS_SINK_LOG" "$TLS_SINK_BIN" -c "$BENCH_TMP/tls-cert.pem" -k "$BENCH_TMP/tls-key.pem" \
        -b 4096 "$LAB_SERVER_IP" 25
    TLS_SINK_PID=$LAB_LAST_PID
    lab_wait_until 10 grep -q '^tls-sink: listening' "$TLS_SINK_LOG" ||
        { cat "$TLS_SINK_LOG" >&2; die "tls-sink did not start"; }
    # The rules smtp-inspect generates for bench.cfg (IPv4), as scripts/setup-iptables.sh would
    # apply them: both queued paths run behind them; the bypass rules only act for smtp-inspect,
    # whose verdict marks the packet that completes the TLS check.
    TLS_RULES=$BENCH_TMP/tls.rules
    "$INSPECT_BIN" rules --config "$BENCH_CONFIG" --interface "Ethernet0=$LAB_EXT_IF" --family ipv4 >"$TLS_RULES" ||
        die "smtp-inspect rules failed on $BENCH_CONFIG"
    if ! grep -q -- "-m mark --mark $BYPASS_MARK/$BYPASS_MARK .*-j CONNMARK --set-xmark $BYPASS_MARK/$BYPASS_MARK" "$TLS_RULES" ||
        ! grep -q -- "-m connmark --mark $BYPASS_MARK/$BYPASS_MARK .*-j ACCEPT" "$TLS_RULES"; then
        die "the rules smtp-inspect generates have no bypass rules (mark $BYPASS_MARK) before NFQUEUE: see $TLS_RULES"
    fi
    # The same rules with ACCEPT where they queue: the firewall (conntrack, marks, the chains)
    # without the queue, the most any consumer of the queue could reach.
    TLS_RULES_NOQ=$BENCH_TMP/tls-noqueue.rules
    sed -E 's/-j NFQUEUE .*$/-j ACCEPT/' "$TLS_RULES" >"$TLS_RULES_NOQ"
    grep -q -- '-j NFQUEUE' "$TLS_RULES_NOQ" && die "could not take NFQUEUE out of $TLS_RULES"
    grep -q -- '-j ACCEPT' "$TLS_RULES_NOQ" || die "no rule of $TLS_RULES queued"
}

# cpu_jiffies: the whole machine's busy and idle jiffies since boot ("BUSY IDLE"; iowait is idle).
cpu_jiffies() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat; }

# tls_sink_counters: tls-sink's counter line now (it prints one on SIGUSR1).
tls_sink_counters() {
    local n
    n=$(grep -c '^tls-sink: sessions' "$TLS_SINK_LOG" || true)
    kill -USR1 "$TLS_SINK_PID" 2>/dev/null || die "tls-sink is gone"
    lab_wait_until 5 _tls_sink_said "$((n + 1))" || die "tls-sink does not answer SIGUSR1"
    grep '^tls-sink: sessions' "$TLS_SINK_LOG" | tail -n 1
}
_tls_sink_said() { (($(grep -c '^tls-sink: sessions' "$TLS_SINK_LOG" || true) >= $1)); }

# tls_run REP LOAD PATH: one TLS load through one path, done again (at most twice) when another
# process got busy during it; appends its record to $BENCH_TMP/tls-runs.json.
tls_run() {
    local try after
    for try in 1 2 3; do
        wait_quiet || true
        tls_run_once "$@"
        after=$(busy_now)
        [[ -z "$after" ]] && break
        if ((try < 3)); then say "another process got busy during the run ($after): once more"; fi
    done
    { printf '%s' "${TLS_RUN%\}}"; printf ', "tries": %d, "busy": %s}\n' "$try" "$(json_val "$after")"; } >>"$BENCH_TMP/tls-runs.json"
}

# tls_run_once REP LOAD PATH: the figures of one run, as a JSON object in TLS_RUN.
TLS_RUN=""
tls_run_once() {
    local rep=$1 load=$2 path=$3 opts rc=0 t0 t1 s0 s1 c0=- c1=- hwm=- nfq=(- - -) out msgs len
    case "$load" in
        small) opts=$TLS_SMALL ;;
        bulk) opts=$TLS_BULK ;;
    esac
    msgs=$(awk '{ for (i = 1; i < NF; i++) if ($i == "-m") print $(i + 1) }' <<<"$opts")
    len=$(awk '{ for (i = 1; i < NF; i++) if ($i == "-l") print $(i + 1) }' <<<"$opts")
    DP_INSPECT_EXTRA=(--allow-starttls)
    dp_path_up "$path"
    s0=$(tls_sink_counters)
    [[ -n "$CONSUMER_PID" ]] && c0=$(cpu_seconds "$CONSUMER_PID")
    local j0 j1
    j0=$(cpu_jiffies)
    t0=$(now_ns)
    # shellcheck disable=SC2086
    timeout --foreground 600 ip netns exec "$LAB_NS_CLIENT" "$TLS_LOAD_BIN" mail $opts "$LAB_SERVER_IP" 25 \
        >"$BENCH_TMP/tls-load.out" 2>"$BENCH_TMP/tls-load.err" || rc=$?
    t1=$(now_ns)
    j1=$(cpu_jiffies)
    sleep 0.3
    s1=$(tls_sink_counters)
    if [[ -n "$CONSUMER_PID" ]]; then
        c1=$(cpu_seconds "$CONSUMER_PID")
        hwm=$(status_kb "$CONSUMER_PID" VmHWM)
        read -r -a nfq < <(lab_nfq_stats $QUEUE | awk '{ print $8, $6, $7 }')
    fi
    dp_path_down
    out=$(grep '^tls-load: messages' "$BENCH_TMP/tls-load.out" | tail -n 1)
    ((rc == 0)) || { say "warning: tls-load exited with $rc:"; tail -n 6 "$BENCH_TMP/tls-load.err" >&2; }
    local d=$DP_FINAL cpu=- proto
    [[ "$c0" != - ]] && cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')
    proto=$(sed -n 's/^tls-load: protocol //p' "$BENCH_TMP/tls-load.err" | head -n 1)
    local sink_msgs sink_errs sink_cpu
    sink_msgs=$(($(counter messages "$s1") - $(counter messages "$s0")))
    sink_errs=$(($(counter errors "$s1") - $(counter errors "$s0")))
    sink_cpu=$(awk -v u0="$(counter user "$s0")" -v y0="$(counter sys "$s0")" -v u1="$(counter user "$s1")" \
        -v y1="$(counter sys "$s1")" 'BEGIN { printf "%.3f", u1 + y1 - u0 - y0 }')
    local dp=- db=- dr=- dd=-
    if [[ "$path" == inspect && "$d" != - ]]; then
        dp=$(counter packets "$d") db=$(counter_before bypassed "$d") dr=$(counter reset "$d") dd=$(counter dropped "$d")
    elif [[ "$path" == floor && "$d" != - ]]; then
        db=$(counter bypassed "$d")
    fi
    TLS_RUN=$(json_obj rep "$rep" load "$load" path "$path" messages "$msgs" length "$len" rc "$rc" \
        wall_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')" \
        seconds "$(counter seconds "$out")" ok "$(counter ok "$out")" failed "$(counter failed "$out")" \
        client_user_s "$(counter user "$out")" client_sys_s "$(counter sys "$out")" protocol "$proto" \
        sink_messages "$sink_msgs" sink_errors "$sink_errs" sink_cpu_s "$sink_cpu" \
        machine_busy_jiffies "$(($(cut -d' ' -f1 <<<"$j1") - $(cut -d' ' -f1 <<<"$j0")))" \
        machine_idle_jiffies "$(($(cut -d' ' -f2 <<<"$j1") - $(cut -d' ' -f2 <<<"$j0")))" \
        cpu_s "$cpu" hwm_kb "$hwm" packets "${nfq[0]:--}" queue_dropped "${nfq[1]:--}" user_dropped "${nfq[2]:--}" \
        daemon_packets "$dp" daemon_bypassed "$db" daemon_reset "$dr" daemon_dropped "$dd")
    say "rep $rep tls $load $path: $(counter seconds "$out")s, $(awk -v m="$sink_msgs" -v s="$(counter seconds "$out")" \
        'BEGIN { if (s > 0) printf "%.0f", m / s }') msg/s, consumer cpu ${cpu}s, client cpu $(counter user "$out")+$(counter sys "$out")s, queued ${nfq[0]:--}, bypassed $db, rc $rc, sink +$sink_msgs"
    return 0
}

run_tls() {
    local rep load path loadstart t_start
    tls_prepare
    : >"$BENCH_TMP/tls-runs.json"
    : >"$BENCH_TMP/tls-reps.json"
    : >"$BENCH_TMP/calibrate.tls"
    loadstart=$(load_line)
    t_start=$(date +%s)
    say "warm-up (not counted)"
    dp_path_up none
    ip netns exec "$LAB_NS_CLIENT" "$TLS_LOAD_BIN" mail -s 4 -m 100 -l 10240 "$LAB_SERVER_IP" 25 >/dev/null 2>&1 || true
    for ((rep = 1; rep <= RUNS; rep++)); do
        local quiet=quiet
        wait_quiet || quiet="busy"
        { json_obj rep "$rep" load_1min "$(cut -d' ' -f1 /proc/loadavg)" quiet "$quiet"; echo; } >>"$BENCH_TMP/tls-reps.json"
        calibrate "$BENCH_TMP/calibrate.tls"
        for load in small bulk; do
            for path in none rules nfq floor inspect; do
                tls_run "$rep" "$load" "$path"
            done
        done
    done
    json_obj section tls measured "$(date -u '+%Y-%m-%d %H:%M UTC')" machine "$(machine_line)" code "$DP_CODE" \
        runs "$RUNS" cores "$(nproc)" took_s "$(($(date +%s) - t_start))" load_before "$loadstart" load_after "$(load_line)" \
        "calibration_mb_s:" "$(json_array "$BENCH_TMP/calibrate.tls")" "repetitions:" "$(json_array "$BENCH_TMP/tls-reps.json")" \
        small "$TLS_SMALL" bulk "$TLS_BULK" default_small "$DEFAULT_TLS_SMALL" default_bulk "$DEFAULT_TLS_BULK" \
        openssl "$(openssl version)" "measurements:" "$(json_array "$BENCH_TMP/tls-runs.json")" >"$BENCH_TMP/tls.json"
    report tls "$BENCH_TMP/tls.json"
}

# ---------------------------------------------------------------------------------------------
# Profile

run_profile() {
    local dir=${BENCH_PROFILE_DIR:-/tmp/smtp-inspect-profile} perfpid load
    command -v perf >/dev/null || die "perf is not installed"
    mkdir -p "$dir"
    # tls: the small TLS load (STARTTLS sessions, --allow-starttls, behind the generated rules).
    if [[ "$PROFILE_LOAD" == tls ]]; then
        tls_prepare
        DP_INSPECT_EXTRA=(--allow-starttls)
        # shellcheck disable=SC2206
        load=(ip netns exec "$LAB_NS_CLIENT" "$TLS_LOAD_BIN" mail $TLS_SMALL "$LAB_SERVER_IP" 25)
    else
        dp_prepare
        DP_INSPECT_EXTRA=()
        local opts=$SMALL
        [[ "$PROFILE_LOAD" == bulk ]] && opts=$BULK
        # shellcheck disable=SC2206
        load=(ip netns exec "$LAB_NS_CLIENT" "$(smtp_source)" -M client.lab.test $opts "$LAB_SERVER_IP:25")
    fi
    dp_path_up inspect
    perf record -F 1999 -g -p "$CONSUMER_PID" -o "$dir/perf-$PROFILE_LOAD.data" >"$dir/perf-record.log" 2>&1 &
    perfpid=$!
    sleep 1
    "${load[@]}" >/dev/null 2>&1 || say "warning: the load failed"
    kill -INT "$perfpid" 2>/dev/null || true
    wait "$perfpid" 2>/dev/null || true
    dp_path_down
    say "the daemon's last counters: $DP_FINAL"
    say "profile in $dir/perf-$PROFILE_LOAD.data; the hottest symbols (self time):"
    perf report -i "$dir/perf-$PROFILE_LOAD.data" --no-children --sort dso,sym --stdio 2>/dev/null |
        grep -v '^#' | grep -E '^ +[0-9]' | head -n 40 | swift demangle --simplified 2>/dev/null | cut -c1-200
}

# ---------------------------------------------------------------------------------------------
# SYN flood: a SYN's cost while half-open protection deletes a session for each new one

run_synflood() {
    local bin i code
    bin=$(build_product smtp-inspect-bench)
    code=$(code_line)
    : >"$BENCH_TMP/synflood.runs"
    for ((i = 1; i <= RUNS; i++)); do
        wait_quiet || true
        say "synflood run $i of $RUNS"
        "$bin" synflood >"$BENCH_TMP/synflood.$i.txt" || die "smtp-inspect-bench synflood failed"
        { json_text "$BENCH_TMP/synflood.$i.txt"; echo; } >>"$BENCH_TMP/synflood.runs"
    done
    json_obj section synflood measured "$(date -u '+%Y-%m-%d %H:%M UTC')" machine "$(machine_line)" code "$code" \
        runs "$RUNS" "outputs:" "$(json_array "$BENCH_TMP/synflood.runs")" >"$BENCH_TMP/synflood.json"
    report synflood "$BENCH_TMP/synflood.json"
}

case "$MODE" in
    core) run_core ;;
    datapath) run_datapath ;;
    tls) run_tls ;;
    synflood) run_synflood ;;
    all) run_core; run_datapath; run_tls; run_synflood ;;
    profile) run_profile ;;
esac
