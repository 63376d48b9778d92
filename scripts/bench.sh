#!/usr/bin/env bash
# scripts/bench.sh: the benchmarks of the inspection core (issue 2) and of the datapath (issue 3);
# writes their results into BENCHMARKS.md (between its generated-block markers: notes outside
# them are kept).
#
#   scripts/bench.sh [core|datapath|synflood|all] [--runs N] [--no-write]   (default: all, 3 runs)
#   scripts/bench.sh profile [small|bulk]                            (perf profile of the daemon)
#
#   core      smtp-inspect-bench core (release build), bench/malloc-count.so preloaded, N times
#             (5 without --runs: it takes a second).
#   datapath  in the lab's namespaces (scripts/lib/lab.sh; root): smtp-sink in the server
#             namespace, smtp-source in the client namespace, through the router over three
#             paths: no queue, bench/nfq-accept (the C accept-all NFQUEUE consumer) and
#             smtp-inspect run (release). Loads: small (20 sessions, 5000 x 10 KiB) and bulk
#             (4 sessions, 200 x 1 MiB), interleaved (A B C A B C ...), N repetitions. Then the
#             daemon with malloc-count.so preloaded (allocations per packet) and with 10,000
#             idle sessions open (RSS).
#   synflood  smtp-inspect-bench synflood (release): a SYN's cost in aggressive mode with 1,000,
#             10,000 and 90,000 sessions in the table.
#   profile   perf record -g of smtp-inspect under one load; prints the hottest symbols (the
#             data stays in $BENCH_PROFILE_DIR, default /tmp/smtp-inspect-profile).
#
# Environment: BENCH_SCRATCH (swift build --scratch-path, default .build), BENCH_SMALL and
# BENCH_BULK (smtp-source options, defaults "-s 20 -m 5000 -l 10240" and "-s 4 -m 200 -l 1048576"),
# BENCH_IDLE (idle sessions, default 10000), BENCH_QUIET_WAIT (seconds to wait for other busy
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
PROFILE_LOAD=small
while (($#)); do
    case "$1" in
        core | datapath | synflood | all) MODE=$1 ;;
        profile) MODE=profile
            if [[ "${2:-}" == small || "${2:-}" == bulk ]]; then PROFILE_LOAD=$2; shift; fi ;;
        --runs) RUNS=${2:?--runs N}; CORE_RUNS=$RUNS; shift ;;
        --no-write) WRITE=0 ;;
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
# Numbers

# stats: "median min max" of the numbers on stdin ("- - -" when there are none).
stats() {
    sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) { print "- - -"; exit }
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        print m, a[1], a[NR] }'
}
# fmt DECIMALS NUMBER
fmt() { awk -v d="$1" -v x="$2" 'BEGIN { if (x == "-" || x == "") print "–"; else printf "%.*f\n", d, x }'; }
# medrange DECIMALS < numbers: "median (min–max)"
medrange() {
    local m lo hi
    read -r m lo hi < <(stats)
    if [[ "$m" == - ]]; then echo "–"; return; fi
    if [[ "$(fmt "$1" "$lo")" == "$(fmt "$1" "$hi")" ]]; then fmt "$1" "$m"; return; fi
    echo "$(fmt "$1" "$m") ($(fmt "$1" "$lo")–$(fmt "$1" "$hi"))"
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

yesno() { if [[ "$1" == 1 ]]; then echo "**met**"; else echo "**not met**"; fi; }

# ---------------------------------------------------------------------------------------------
# Core

run_core() {
    local bin i out="$BENCH_TMP/core.md" loadstart runs=$CORE_RUNS
    bin=$(build_product smtp-inspect-bench)
    local code
    code=$(code_line)
    build_malloc_count
    : >"$BENCH_TMP/calibrate.core"
    wait_quiet || true
    loadstart=$(load_line)
    local try
    for ((i = 1; i <= runs; i++)); do
        for try in 1 2 3; do
            wait_quiet || true
            say "core run $i of $runs"
            LD_PRELOAD=$MALLOC_SO "$bin" core >"$BENCH_TMP/core.$i.txt" || die "smtp-inspect-bench core failed"
            calibrate "$BENCH_TMP/calibrate.core"
            [[ -z "$(busy_now)" ]] && break
            ((try < 3)) && say "another process got busy during the run: once more"
        done
    done
    # Every table row of every run as "name<TAB>MB/s<TAB>commands/s<TAB>allocations per chunk",
    # the columns found by their headers (the benchmark's rows may change).
    for ((i = 1; i <= runs; i++)); do
        awk -F'|' '
            function trim(x) { gsub(/^ +| +$/, "", x); return x }
            /^\| *load *\|/ { for (c = 2; c < NF; c++) { h = trim($c); col[h] = c }; next }
            /^\|---/ { next }
            /^\|/ && col["MB/s"] {
                cmd = col["commands/s"] ? trim($(col["commands/s"])) : "-"; sub(/ M$/, "", cmd)
                printf "%s\t%s\t%s\t%s\n", trim($2), trim($(col["MB/s"])), cmd,
                    col["allocations per chunk"] ? trim($(col["allocations per chunk"])) : "-" }' \
            "$BENCH_TMP/core.$i.txt"
    done >"$BENCH_TMP/core.rows"
    [[ -s "$BENCH_TMP/core.rows" ]] || die "no table in smtp-inspect-bench's output"
    local state state_ok alloc_ok=1 name target ok mbs
    state=$(grep -ho 'size` = [0-9]*' "$BENCH_TMP/core.1.txt" | grep -o '[0-9]*$' || echo "")
    state_ok=$(awk -v s="$state" 'BEGIN { print (s != "" && s + 0 <= 256) }')
    {
        echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(machine_line)."
        echo "Code: $code."
        echo "Before the runs: $loadstart. After: $(load_line)."
        echo "CPU calibration (bench/cpu-calibrate.c, after each run): $(medrange 0 <"$BENCH_TMP/calibrate.core") MB/s."
        echo
        echo '```'
        echo "scripts/bench.sh core --runs $runs"
        echo "# = swift build -c release --product smtp-inspect-bench"
        echo "#   gcc -shared -fPIC -o malloc-count.so bench/malloc-count.c bench/malloc-sampler.c -ldl"
        echo "#   LD_PRELOAD=malloc-count.so .build/release/smtp-inspect-bench core     ($runs times)"
        echo '```'
        echo
        echo "One session of the esmtp policy fed MSS-sized chunks (1448 bytes) with the server's replies in"
        echo "between, on one core; MB = 10^6 bytes of client stream. Median of $runs runs (range in brackets);"
        echo "allocations: the worst run."
        echo
        echo "| load | MB/s | M commands/s | allocations per chunk | target | |"
        echo "|---|---|---|---|---|---|"
        while IFS= read -r name; do
            mbs=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$BENCH_TMP/core.rows")
            case "$name" in
                DATA-heavy*) target=1000 ;;
                command-heavy*) target=300 ;;
                *) target="" ;;
            esac
            local allocs
            allocs=$(awk -F'\t' -v n="$name" '$1 == n { print $4 }' "$BENCH_TMP/core.rows" | sort -g | tail -n 1)
            awk -v a="$allocs" 'BEGIN { exit !(a == "" || a + 0 != 0) }' && alloc_ok=0
            if [[ -n "$target" ]]; then
                ok=$(stats <<<"$mbs" | awk -v t="$target" '{ print ($1 >= t) }')
                echo "| $name | $(medrange 0 <<<"$mbs") | $(awk -F'\t' -v n="$name" '$1 == n && $3 != "-" { print $3 }' "$BENCH_TMP/core.rows" | medrange 2) | $allocs | ≥ $target MB/s | $(yesno "$ok") |"
            else
                echo "| $name | $(medrange 0 <<<"$mbs") | $(awk -F'\t' -v n="$name" '$1 == n && $3 != "-" { print $3 }' "$BENCH_TMP/core.rows" | medrange 2) | $allocs | – | |"
            fi
        done < <(cut -f1 "$BENCH_TMP/core.rows" | awk '!seen[$0]++')
        echo
        echo "| target | result | |"
        echo "|---|---|---|"
        echo "| no allocation per chunk in steady state | worst run above | $(yesno "$alloc_ok") |"
        echo "| ≤ 256 bytes of state per idle session | \`MemoryLayout<SMTPSession>.size\` = ${state:-?} bytes | $(yesno "$state_ok") |"
        echo
        echo "<details><summary>Output of each run</summary>"
        echo
        for ((i = 1; i <= runs; i++)); do
            echo "Run $i:"
            echo
            cat "$BENCH_TMP/core.$i.txt"
            echo
        done
        echo "</details>"
    } >"$out"
    write_block core "$out"
}

# ---------------------------------------------------------------------------------------------
# Datapath

INSPECT_BIN=""
DP_CODE=""
NFQ_BIN=""
CONSUMER_PID=""
CONSUMER_LOG=""
CURRENT_PATH=""

dp_prepare() {
    ((EUID == 0)) || die "the datapath benchmark needs root (network namespaces, iptables, NFQUEUE)"
    INSPECT_BIN=$(build_product smtp-inspect)
    DP_CODE=$(code_line)
    NFQ_BIN=$(bench/build.sh "$BENCH_TMP/c" | tail -n 1) || die "bench/build.sh failed"
    build_malloc_count
    command -v python3 >/dev/null || die "python3 is needed for the idle-sessions measurement"
    # shellcheck source=lib/lab.sh
    source "$ROOT/scripts/lib/lab.sh"
    LAB_LOADED=1
    [[ -n "$(smtp_source)" ]] || die "smtp-source not found (postfix; run scripts/deps.sh)"
    command -v smtp-sink >/dev/null || [[ -x /usr/sbin/smtp-sink ]] || die "smtp-sink not found (postfix)"
    export LAB_NO_TRAP=1 LAB_IPV6=0 LAB_VERBOSE=0
    lab_up || die "lab_up failed"
    # The whole port range for the client: smtp-source ends every connection with an RST (no
    # TIME_WAIT anywhere), and Linux hands out source ports in steps of 2-16, so with the default
    # 28k ports a 4-tuple comes back within seconds at these rates (see BENCHMARKS.md's notes).
    lab_exec client sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
    # smtp-sink: up to IDLE + slack sessions, a long command timeout for the idle sessions.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    (($(ulimit -n) >= IDLE + 200)) || die "RLIMIT_NOFILE $(ulimit -n) is too small for $IDLE idle sessions"
    smtp_sink_start "$LAB_SERVER_IP:25" 4096 -c -m $((IDLE + 2000)) -t 600 || die "smtp-sink did not start"
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

# dp_path_up PATH [malloc]: none | nfq | inspect; with "malloc", malloc-count.so and its sampler
# are preloaded into the consumer (samples in $BENCH_TMP/samples).
dp_path_up() {
    local path=$1 malloc=${2:-} env=()
    CURRENT_PATH=$path
    CONSUMER_PID=""
    lab_iptables_flush
    lab_wait_until 15 dp_quiet || say "warning: connections of the previous run are still open"
    [[ "$path" == none ]] && return 0
    if [[ -n "$malloc" ]]; then
        : >"$BENCH_TMP/samples"
        env=(env LD_PRELOAD="$MALLOC_SO" SMTP_BENCH_MALLOC_SAMPLES="$BENCH_TMP/samples"
             SMTP_BENCH_MALLOC_QUEUE="$QUEUE" SMTP_BENCH_MALLOC_INTERVAL_MS=100)
    fi
    CONSUMER_LOG=$BENCH_TMP/consumer.log
    case "$path" in
        nfq) lab_spawn router "$CONSUMER_LOG" "${env[@]}" "$NFQ_BIN" -m 4096 -r 128 -b 256 -g $QUEUE ;;
        inspect) lab_spawn router "$CONSUMER_LOG" "${env[@]}" "$INSPECT_BIN" run --queue $QUEUE \
                     --stats-interval 0 --no-control --config "$BENCH_CONFIG" \
                     --interface "Ethernet0=$LAB_EXT_IF" "${DP_INSPECT_EXTRA[@]}" ;;
        *) die "unknown path $path" ;;
    esac
    CONSUMER_PID=$LAB_LAST_PID
    lab_nfq_wait_bound $QUEUE 20 || { cat "$CONSUMER_LOG" >&2; die "$path did not bind queue $QUEUE"; }
    lab_nfqueue_smtp $QUEUE
}

# dp_path_down: flush the rules, stop the consumer; DP_FINAL = its final counter line (or "-").
DP_FINAL=-
dp_path_down() {
    lab_iptables_flush
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

# dp_run REP LOAD PATH [malloc]: one measurement; appends a line to $BENCH_TMP/results.
# Columns: rep load path seconds messages megabytes source_rc sink_delta cpu_s hwm_kb packets
#          queue_dropped user_dropped daemon_dropped daemon_modified daemon_reset t0:t1 tries
# Waits for a quiet machine first; a run after which another process is busy is done again
# (at most twice), so that someone else's build does not end up in the numbers.
dp_run() {
    local try after
    for try in 1 2 3; do
        wait_quiet || true
        dp_run_once "$@"
        after=$(busy_now)
        [[ -z "$after" ]] && break
        if ((try < 3)); then say "another process got busy during the run ($after): once more"; fi
    done
    printf '%s\t%s\n' "$(cat "$BENCH_TMP/last")" "$try${after:+ (busy: $after)}" >>"$BENCH_TMP/results"
    if [[ -n "${4:-}" ]]; then
        cp "$BENCH_TMP/samples" "$BENCH_TMP/samples.$1.$2.$3"
    fi
}

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
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' \
        "$rep" "$load" "$path${malloc:++malloc}" "$secs" "$msgs" "$mb" "$rc" "$((${sink1:-0} - ${sink0:-0}))" \
        "$cpu" "$hwm" "${nfq[0]:--}" "${nfq[1]:--}" "${nfq[2]:--}" "$dd" "$dm" "$da" "$t0:$t1" >"$BENCH_TMP/last"
    say "rep $rep $load $path${malloc:++malloc}: ${secs}s, $(awk -v m="$msgs" -v s="$secs" 'BEGIN { printf "%.0f", m / s }') msg/s, cpu ${cpu}s, rc $rc, sink +$((${sink1:-0} - ${sink0:-0}))"
    if [[ "$path" == inspect && -z "$malloc" ]]; then
        grep -v '^packets ' "$CONSUMER_LOG" | grep -v 'inspecting queue\|stopped$' | head -n 3 >>"$BENCH_TMP/alerts.$load" || true
    fi
    return 0
}

_idle_settled() { grep -q '^ready:' "$1" || ! kill -0 "$2" 2>/dev/null; }

# dp_idle REP: smtp-inspect with IDLE open idle sessions; appends to $BENCH_TMP/idle.
# Columns: rep rss_before_kb rss_open_kb hwm_kb established failed_attempts open_seconds
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
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$rss0" "$rss1" "$hwm" "$est" "$fails" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')" >>"$BENCH_TMP/idle"
    say "rep $rep idle: $est sessions, RSS ${rss0} kB -> ${rss1} kB (peak $hwm kB), failed attempts $fails"
}

# alloc_window REP LOAD PATH: "allocations packets allocations_whole packets_whole seconds" over the steady
# window (the middle of the load: from 25% to 85% of its time) and over the whole load, and the
# window's length in seconds.
alloc_window() {
    local f="$BENCH_TMP/samples.$1.$2.$3" t0 t1
    IFS=: read -r t0 t1 < <(awk -F'\t' -v r="$1" -v l="$2" -v p="$3+malloc" '$1 == r && $2 == l && $3 == p { print $17 }' "$BENCH_TMP/results")
    awk -v t0="$t0" -v t1="$t1" 'BEGIN { d = t1 - t0; ws = t0 + 0.25 * d; we = t0 + 0.85 * d }
        $3 < 0 { next }
        $1 <= t0 { wm0 = $2; wp0 = $3 }
        $1 >= ws && !a { a = 1; m0 = $2; p0 = $3; s0 = $1 }
        $1 <= we { m1 = $2; p1 = $3; s1 = $1 }
        $1 >= t1 + 5e8 && !b { b = 1; wm1 = $2; wp1 = $3 }
        END { if (!b) { wm1 = m1; wp1 = p1 }
              printf "%d %d %d %d %.3f\n", m1 - m0, p1 - p0, wm1 - wm0, wp1 - wp0, (s1 - s0) / 1e9 }' "$f"
}

run_datapath() {
    local rep load path loadstart loadend t_start
    dp_prepare
    : >"$BENCH_TMP/results"
    : >"$BENCH_TMP/idle"
    loadstart=$(load_line)
    t_start=$(date +%s)
    say "warm-up (not counted)"
    dp_path_up none
    ip netns exec "$LAB_NS_CLIENT" "$(smtp_source)" -s 4 -m 200 -l 10240 "$LAB_SERVER_IP:25" >/dev/null 2>&1 || true
    : >"$BENCH_TMP/reps"
    : >"$BENCH_TMP/calibrate.datapath"
    for ((rep = 1; rep <= RUNS; rep++)); do
        local quiet=quiet
        wait_quiet || quiet="busy"
        printf '%s\t%s\t%s\n' "$rep" "$(cut -d' ' -f1 /proc/loadavg)" "$quiet" >>"$BENCH_TMP/reps"
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
        dp_idle "$rep"
    done
    loadend=$(load_line)
    datapath_report "$loadstart" "$loadend" "$(($(date +%s) - t_start))"
}

datapath_report() {
    local loadstart=$1 loadend=$2 took=$3 out="$BENCH_TMP/datapath.md" R=$BENCH_TMP/results
    # sel LOAD PATH COLUMN: that column of every matching run, one per line.
    sel() { awk -F'\t' -v l="$1" -v p="$2" -v c="$3" '$2 == l && $3 == p { print $c }' "$R"; }
    # Delivered messages (smtp-sink's count) per second, or their payload in MB per second.
    rate() { awk -F'\t' -v l="$1" -v p="$2" -v w="$3" '$2 == l && $3 == p { print (w == "msg" ? $8 : $8 * $6 / $5) / $4 }' "$R"; }
    # The same for the runs that lost nothing (smtp-source exit 0, every message counted).
    clean_rate() { awk -F'\t' -v l="$1" -v p="$2" '$2 == l && $3 == p && $7 == 0 && $8 == $5 { print $5 / $4 }' "$R"; }
    checks() { # "ok" when every run of LOAD/PATH lost nothing, else what went wrong
        awk -F'\t' -v l="$1" -v p="$2" '$2 == l && $3 == p {
                n++
                if ($7 != 0) bad = bad sprintf(" run %s: smtp-source exit %s;", $1, $7)
                if ($8 != $5) bad = bad sprintf(" run %s: smtp-sink counted %s of %s;", $1, $8, $5)
                if ($12 != "-" && $12 + $13 > 0) bad = bad sprintf(" run %s: kernel dropped %s+%s;", $1, $12, $13)
            }
            END { if (n == 0) print "–"; else if (bad == "") printf "yes (%d of %d runs: all counted by smtp-sink, exit 0, no queue drops)\n", n, n; else print "**no**:" bad }' "$R"
    }
    {
        echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(machine_line); $RUNS repetitions, interleaved, in $took s."
        echo "Code: $DP_CODE."
        echo "Before: $loadstart. After: $loadend."
        echo "CPU calibration (bench/cpu-calibrate.c, before each repetition): $(medrange 0 <"$BENCH_TMP/calibrate.datapath") MB/s."
        echo "Every run waits until no other process uses ≥ 20 % of a CPU, and is done again (at most twice) when one"
        echo "does right after it (the \"tries\" column below). Load average (1 min) at the start of each repetition:"
        echo "$(awk -F'\t' '{ printf "%srep %s: %s (%s)", sep, $1, $2, $3; sep = "; " }' "$BENCH_TMP/reps")."
        echo
        echo '```'
        echo "scripts/bench.sh datapath --runs $RUNS"
        echo '```'
        if [[ "$SMALL" != "$DEFAULT_SMALL" || "$BULK" != "$DEFAULT_BULK" || "$IDLE" != 10000 ]]; then
            echo
            echo "**Non-default loads**: small \`$SMALL\`, bulk \`$BULK\`, $IDLE idle sessions."
        fi
        echo
        echo "The lab's namespaces (Tests/e2e/README.md): \`smtp-source -M client.lab.test OPTIONS 10.10.10.2:25\`"
        echo "in the client namespace, \`smtp-sink -c -m $((IDLE + 2000)) -t 600 10.10.10.2:25 4096\` in the server"
        echo "namespace, forwarded by the router namespace over veth pairs and a bridge (MTU 1500). Paths:"
        echo "**no queue** (plain forwarding); **nfq-accept** (bench/nfq-accept.c: libmnl, accepts everything,"
        echo "256 verdicts per sendto, \`-m 4096 -r 128 -g\` (F_GSO), as smtp-inspect's defaults) on the same"
        echo "FORWARD rules (TCP/25 both ways → NFQUEUE 0, \`lab_nfqueue_smtp\`); **smtp-inspect**"
        echo "(\`smtp-inspect run --queue 0 --stats-interval 0 --no-control --config bench.cfg --interface Ethernet0=ext0\`,"
        echo "release build: the esmtp inspection with max-data 1000000000 for every session from the outside, and"
        echo "the half-open thresholds (\`ip inspect one-minute\` and \`max-incomplete\` high/low) at 1000000/900000"
        echo "instead of IOS's 500/400, which call the small load's ~1,500 new connections a second an attack). Loads: **small** \`$SMALL\` and **bulk** \`$BULK\` (smtp-source: one connection"
        echo "per message). msg/s = messages smtp-sink counted / smtp-source's wall time; MB/s = the same × payload (-l) / 10^6;"
        echo "CPU = the consumer's user+sys seconds during the load (/proc/PID/stat); peak RSS = VmHWM of the"
        echo "consumer, started fresh for each run; packets = the queue's id_sequence. Median of $RUNS runs, range in brackets."
        echo
        echo "| load | path | msg/s | MB/s | consumer CPU s | peak RSS MiB | packets queued | nothing lost? |"
        echo "|---|---|---|---|---|---|---|---|"
        for load in small bulk; do
            for path in none nfq inspect; do
                local name=$path
                [[ $path == none ]] && name="no queue"
                [[ $path == nfq ]] && name="nfq-accept (C)"
                [[ $path == inspect ]] && name="smtp-inspect"
                echo "| $load | $name | $(rate $load $path msg | medrange 0) | $(rate $load $path mb | medrange 1) | $(sel $load $path 9 | grep -v '^-$' | medrange 2) | $(sel $load $path 10 | grep -v '^-$' | awk '{ print $1 / 1024 }' | medrange 1) | $(sel $load $path 11 | grep -v '^-$' | medrange 0) | $(checks $load $path) |"
            done
        done
        echo
        echo "smtp-inspect against the C consumer (msg/s and MB/s give the same ratio: both come from the"
        echo "same wall time). Ratio of the medians, and the range of the per-repetition ratios:"
        echo
        echo "| load | smtp-inspect / nfq-accept | per repetition | runs of smtp-inspect that lost nothing: their median / nfq-accept | smtp-inspect / no queue | CPU per message, smtp-inspect / nfq-accept | target | |"
        echo "|---|---|---|---|---|---|---|---|"
        for load in small bulk; do
            local mi mn m0 mc ratio per ok r0 rc nclean
            mi=$(rate $load inspect msg | stats | cut -d' ' -f1)
            mn=$(rate $load nfq msg | stats | cut -d' ' -f1)
            m0=$(rate $load none msg | stats | cut -d' ' -f1)
            mc=$(clean_rate $load inspect | stats | cut -d' ' -f1)
            nclean=$(clean_rate $load inspect | wc -l)
            ratio=$(awk -v a="$mi" -v b="$mn" 'BEGIN { printf "%.2f", a / b }')
            r0=$(awk -v a="$mi" -v b="$m0" 'BEGIN { printf "%.2f", a / b }')
            rc=$(awk -v a="$mc" -v b="$mn" -v n="$nclean" 'BEGIN { if (a == "-") print "– (none)"; else printf "%.2f× (%d of '"$RUNS"')\n", a / b, n }')
            per=$(paste <(rate $load inspect msg) <(rate $load nfq msg) | awk '{ print $1 / $2 }' | medrange 2)
            ok=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.9) }')
            local cpuratio
            cpuratio=$(awk -F'\t' -v l="$load" '$2 == l && $8 > 0 && $9 != "-" { if ($3 == "inspect") { a += $9; m += $8 } else if ($3 == "nfq") { b += $9; n += $8 } }
                END { if (m > 0 && n > 0 && b > 0) printf "%.2f×", (a / m) / (b / n); else print "–" }' "$R")
            echo "| $load | $ratio× | $per | $rc | $r0× | $cpuratio | ≥ 0.90× msg/s and MB/s | $(yesno "$ok") |"
        done
        echo
        echo "Allocations: smtp-inspect with bench/malloc-count.so preloaded; bench/malloc-sampler.c (in the"
        echo "same library) writes the allocation count and the queue's packet count (id_sequence) every"
        echo "100 ms from inside the daemon. Steady window = 25 %–85 % of the load's time; whole = the"
        echo "load from its start to 0.5 s after its end. **steady** is the bulk load over 4 long sessions"
        echo "(\`smtp-source $BULK -d\`: every message on the same connection), so no session starts in it."
        echo
        echo "| load | allocations per packet, steady window | packets in window | allocations per second in window | allocations per message, whole load | msg/s with the counter | nothing lost? |"
        echo "|---|---|---|---|---|---|---|"
        local steady_ok=1
        for load in small bulk steady; do
            local app=() apm=() pkts=() aps=() r w
            for ((r = 1; r <= RUNS; r++)); do
                [[ -f "$BENCH_TMP/samples.$r.$load.inspect" ]] || continue
                read -r -a w < <(alloc_window "$r" "$load" inspect)
                app+=("$(awk -v m="${w[0]}" -v p="${w[1]}" 'BEGIN { if (p > 0) printf "%.4f", m / p; else print "-" }')")
                pkts+=("${w[1]}")
                aps+=("$(awk -v m="${w[0]}" -v s="${w[4]}" 'BEGIN { if (s > 0) printf "%.0f", m / s; else print "-" }')")
                apm+=("$(awk -F'\t' -v r="$r" -v l="$load" -v m="${w[2]}" '$1 == r && $2 == l && $3 == "inspect+malloc" { printf "%.2f", m / $5 }' "$R")")
            done
            local med
            med=$(printf '%s\n' "${app[@]}" | grep -v '^-$' | stats | cut -d' ' -f1)
            [[ $load == steady ]] && steady_ok=$(awk -v m="$med" 'BEGIN { print (m != "-" && m < 0.01) }')
            echo "| $load | $(printf '%s\n' "${app[@]}" | grep -v '^-$' | medrange 4) | $(printf '%s\n' "${pkts[@]}" | medrange 0) | $(printf '%s\n' "${aps[@]}" | grep -v '^-$' | medrange 0) | $(printf '%s\n' "${apm[@]}" | medrange 2) | $(rate $load inspect+malloc msg | medrange 0) | $(checks $load inspect+malloc) |"
        done
        if [[ -f "$BENCH_TMP/samples.1.steady.nfq" ]]; then
            local w
            read -r -a w < <(alloc_window 1 steady nfq)
            echo "| steady, nfq-accept (the method's zero) | $(awk -v m="${w[0]}" -v p="${w[1]}" 'BEGIN { if (p > 0) printf "%.4f", m / p; else print "-" }') | ${w[1]} | $(awk -v m="${w[0]}" -v s="${w[4]}" 'BEGIN { if (s > 0) printf "%.0f", m / s; else print "-" }') | $(awk -v m="${w[2]}" 'BEGIN { printf "%.2f", m / 200 }') | $(rate steady nfq+malloc msg | medrange 0) | $(checks steady nfq+malloc) |"
        fi
        echo
        echo "Target: no allocation per packet in steady state (judged on **steady**: < 0.01 allocations per"
        echo "packet, i.e. what is left is per session or per timer tick, not per packet): $(yesno "$steady_ok")."
        echo
        echo "Idle sessions: bench/idle-sessions.py opens $IDLE TCP connections from the client namespace to"
        echo "smtp-sink through smtp-inspect, one handshake at a time, and waits for each greeting; the"
        echo "daemon's VmRSS is read $IDLE_SETTLE s after the last one, while all are open; peak RSS = VmHWM (the peak while opening)."
        echo
        echo "| sessions open | RSS before | RSS with them open | per session | peak RSS | time to open | target | |"
        echo "|---|---|---|---|---|---|---|---|"
        local I=$BENCH_TMP/idle idle_ok idle_runs
        # Met when every run stayed within 64 MiB with all sessions open.
        idle_ok=$(awk -F'\t' '$3 == "-" || $3 / 1024 > 64 { bad = 1 } { n++ } END { print (n > 0 && !bad) }' "$I")
        idle_runs=$(awk -F'\t' '$3 != "-" && $3 / 1024 <= 64 { k++ } END { printf "%d of %d runs within 64 MiB", k, NR }' "$I")
        echo "| $(cut -f5 "$I" | medrange 0) (failed attempts: $(cut -f6 "$I" | medrange 0)) | $(cut -f2 "$I" | awk '{ print $1 / 1024 }' | medrange 1) MiB | $(cut -f3 "$I" | grep -v '^-$' | awk '{ print $1 / 1024 }' | medrange 1) MiB | $(awk -F'\t' -v n="$IDLE" '$3 != "-" { print ($3 - $2) * 1024 / n }' "$I" | medrange 0) B | $(cut -f4 "$I" | grep -v '^-$' | awk '{ print $1 / 1024 }' | medrange 1) MiB | $(cut -f7 "$I" | medrange 1) s | ≤ 64 MiB | $(yesno "$idle_ok") ($idle_runs) |"
        echo
        echo "The daemon's own counters at the end of each run (its final counter line):"
        echo
        echo "| load | path | packets it dropped | packets it reset | packets it modified |"
        echo "|---|---|---|---|---|"
        for load in small bulk steady; do
            for path in inspect inspect+malloc; do
                [[ -n "$(sel $load $path 14)" ]] || continue
                echo "| $load | $path | $(sel $load $path 14 | medrange 0) | $(sel $load $path 16 | medrange 0) | $(sel $load $path 15 | medrange 0) |"
            done
        done
        if cat "$BENCH_TMP"/alerts.* 2>/dev/null | grep -q .; then
            echo
            echo "First alerts of each run (stderr):"
            echo
            echo '```'
            cat "$BENCH_TMP"/alerts.* | sed -E 's/^\*[A-Z][a-z]{2} [ 0-9]{2} [0-9:.]+: //' | sort | uniq -c | sort -rn | head -n 8
            echo '```'
        fi
        echo
        echo "<details><summary>Every run (tab-separated)</summary>"
        echo
        echo '```'
        echo "rep load path seconds messages MB source_rc sink_delta cpu_s hwm_kB packets queue_dropped user_dropped daemon_dropped daemon_modified daemon_reset t0:t1 tries"
        cat "$R"
        echo "idle: rep rss_before_kB rss_open_kB hwm_kB established failed_attempts open_seconds"
        cat "$BENCH_TMP/idle"
        echo '```'
        echo "</details>"
    } >"$out"
    write_block datapath "$out"
}

# ---------------------------------------------------------------------------------------------
# Profile

run_profile() {
    local dir=${BENCH_PROFILE_DIR:-/tmp/smtp-inspect-profile} perfpid opts
    command -v perf >/dev/null || die "perf is not installed"
    dp_prepare
    mkdir -p "$dir"
    case "$PROFILE_LOAD" in small) opts=$SMALL ;; bulk) opts=$BULK ;; esac
    DP_INSPECT_EXTRA=()
    dp_path_up inspect
    perf record -F 1999 -g -p "$CONSUMER_PID" -o "$dir/perf-$PROFILE_LOAD.data" >"$dir/perf-record.log" 2>&1 &
    perfpid=$!
    sleep 1
    # shellcheck disable=SC2086
    ip netns exec "$LAB_NS_CLIENT" "$(smtp_source)" -M client.lab.test $opts "$LAB_SERVER_IP:25" >/dev/null 2>&1 ||
        say "warning: smtp-source failed"
    kill -INT "$perfpid" 2>/dev/null || true
    wait "$perfpid" 2>/dev/null || true
    dp_path_down
    say "profile in $dir/perf-$PROFILE_LOAD.data; the hottest symbols (self time):"
    perf report -i "$dir/perf-$PROFILE_LOAD.data" --no-children --sort dso,sym --stdio 2>/dev/null |
        grep -v '^#' | grep -E '^ +[0-9]' | head -n 40 | swift demangle --simplified 2>/dev/null | cut -c1-200
}

# ---------------------------------------------------------------------------------------------
# SYN flood: a SYN's cost while half-open protection deletes a session for each new one

run_synflood() {
    local bin i out="$BENCH_TMP/synflood.md" code
    bin=$(build_product smtp-inspect-bench)
    code=$(code_line)
    for ((i = 1; i <= RUNS; i++)); do
        wait_quiet || true
        say "synflood run $i of $RUNS"
        "$bin" synflood >"$BENCH_TMP/synflood.$i.txt" || die "smtp-inspect-bench synflood failed"
    done
    # Rows "sessions<TAB>µs per SYN" of every run, then the median (and range) per table size.
    for ((i = 1; i <= RUNS; i++)); do
        awk -F'|' '/^\| *[0-9]/ { gsub(/ /, ""); print $2 "\t" $4 }' "$BENCH_TMP/synflood.$i.txt"
    done >"$BENCH_TMP/synflood.rows"
    {
        echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(machine_line)."
        echo "Code: $code."
        echo
        echo '```'
        echo "scripts/bench.sh synflood --runs $RUNS"
        echo "# = swift build -c release --product smtp-inspect-bench; .build/release/smtp-inspect-bench synflood"
        echo '```'
        echo
        echo "The table is filled with half-open sessions up to max-incomplete high, then 20,000 more SYNs"
        echo "each make the engine find and delete the oldest half-open session (aggressive mode), on one"
        echo "core. Median of $RUNS runs (range in brackets). Before the creation-order queues, each such"
        echo "SYN scanned the whole table: about 174 µs per SYN at 90,000 sessions."
        echo
        echo "| sessions in the table | µs per SYN |"
        echo "|---|---|"
        local n
        for n in $(cut -f1 "$BENCH_TMP/synflood.rows" | sort -un); do
            echo "| $n | $(awk -F'\t' -v n="$n" '$1 == n { print $2 }' "$BENCH_TMP/synflood.rows" | medrange 2) |"
        done
    } >"$out"
    write_block synflood "$out"
}

case "$MODE" in
    core) run_core ;;
    datapath) run_datapath ;;
    synflood) run_synflood ;;
    all) run_core; run_datapath; run_synflood ;;
    profile) run_profile ;;
esac
