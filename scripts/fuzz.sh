#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer and runs them (README "Fuzzing").
#
#   scripts/fuzz.sh                    # every target, 60 s each
#   scripts/fuzz.sh smtp 600           # one target for ten minutes
#   scripts/fuzz.sh all 30             # what CI runs (scripts/test.sh)
#   scripts/fuzz.sh --update-corpus flow   # re-minimise Tests/fuzz/corpus/flow with the work corpus
#
# TARGET is smtp, flow, config, pcap or all. Each target starts from its committed corpus
# (Tests/fuzz/corpus/TARGET) copied into a work corpus under .build-fuzz/corpus/TARGET, which keeps
# what the runs find; a crash or a failed check is saved under .build-fuzz/crashes/TARGET/.
# After its fuzz loop:
#   config  accepted configurations (committed and found) load through iptables-restore and
#           ip6tables-restore in a throwaway network namespace, as written
#           (Tests/fuzz/iptables-check.py; root). Its corpus also starts from Tests/configs/corpus.
#   pcap    the captures (committed and found) replay through `smtp-inspect replay`
# Known bugs that others are fixing are stepped around (Sources/FuzzHarness/KnownIssues.swift);
# SMTP_INSPECT_FUZZ_STRICT=1 turns those guards off. FUZZ_JOBS=N runs N fuzz loops at a time
# (default: one per processor). FUZZ_SKIP_IPTABLES=1 leaves out the
# iptables-restore step (it needs root). SMTP_INSPECT_BIN names an smtp-inspect binary to replay
# with (else `swift build` makes one).
#
# Exit status 0 when no target crashed or failed a check; 1 otherwise; 2 on a usage error.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

if [[ -x /opt/swift/usr/bin/swift ]] && ! command -v swift >/dev/null; then
    export PATH=/opt/swift/usr/bin:$PATH
fi

all_targets=(smtp flow config pcap)
update=0
if [[ "${1:-}" == "--update-corpus" ]]; then update=1; shift; fi
case "${1:-all}" in
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    all) targets=("${all_targets[@]}") ;;
    smtp|flow|config|pcap) targets=("$1") ;;
    *) echo "fuzz.sh: unknown target '$1': one of ${all_targets[*]} or all (try --help)" >&2; exit 2 ;;
esac
seconds=${2:-60}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
    echo "fuzz.sh: SECONDS must be a whole number of seconds, at least 1 (got '$seconds')" >&2
    exit 2
fi

work=.build-fuzz
export SWIFT_BACKTRACE=enable=no   # libFuzzer reports the crash; Swift's backtracer would hang it

# libFuzzer without its main (the driver calls LLVMFuzzerRunDriver), from the Swift toolchain.
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
fuzzer_lib=$(ls "$toolchain"/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-"$(uname -m)".a 2>/dev/null | head -n 1)
if [[ -z "$fuzzer_lib" ]]; then
    echo "fuzz.sh: libclang_rt.fuzzer_no_main not found under $toolchain/lib/clang: this Swift toolchain has no libFuzzer" >&2
    exit 1
fi

echo "=== fuzz.sh: building smtp-inspect-fuzz (release, libFuzzer, AddressSanitizer) into $work"
if ! swift build -c release --build-path "$work" --product smtp-inspect-fuzz \
        -Xswiftc -DFUZZING -Xswiftc -g -Xswiftc -sanitize=address \
        -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
        -Xlinker "$fuzzer_lib" -Xlinker -lstdc++ 2>&1 | { grep -v "Cannot export local symbol" || true; }; then
    echo "fuzz.sh: the build failed" >&2
    exit 1
fi
fuzz_bin=$work/release/smtp-inspect-fuzz
[[ -x "$fuzz_bin" ]] || { echo "fuzz.sh: the build made no $fuzz_bin" >&2; exit 1; }

# libFuzzer flags per target: input size, dictionary.
flags_for() {
    case "$1" in
        smtp) echo "-max_len=4096 -dict=Tests/fuzz/dict/smtp.dict" ;;
        flow) echo "-max_len=8192 -dict=Tests/fuzz/dict/smtp.dict" ;;
        config) echo "-max_len=16384 -dict=Tests/fuzz/dict/config.dict" ;;
        pcap) echo "-max_len=16384" ;;
    esac
}

if ((update)); then
    # The seeds, and a greedy set cover (edges, not hit counts, so that it stays small) of
    # everything the committed and the work corpus reach, as min-SHA1 files in place of the old
    # ones. Review the diff and commit.
    for t in "${targets[@]}"; do
        merged=$(mktemp -d)
        # shellcheck disable=SC2046
        "$fuzz_bin" "$t" -set_cover_merge=1 -use_counters=0 $(flags_for "$t") "$merged" \
            "Tests/fuzz/corpus/$t" "$work/corpus/$t" 2>&1 | grep -E "MERGE-OUTER: [0-9]+ new files|ERROR" || true
        if [[ -z "$(ls "$merged")" ]]; then
            echo "fuzz.sh: $t: the merge kept nothing; Tests/fuzz/corpus/$t left as it was" >&2
            rm -rf "$merged"
            continue
        fi
        rm -f "Tests/fuzz/corpus/$t"/min-*
        seeds=$(for f in "Tests/fuzz/corpus/$t"/*; do [[ -e "$f" ]] && sha1sum <"$f"; done)
        for f in "$merged"/*; do
            sum=$(sha1sum <"$f" | cut -c1-40)
            grep -q "$sum" <<<"$seeds" || cp "$f" "Tests/fuzz/corpus/$t/min-${sum:0:16}"
        done
        rm -rf "$merged"
        echo "fuzz.sh: Tests/fuzz/corpus/$t: $(ls "Tests/fuzz/corpus/$t" | wc -l) inputs"
    done
    exit 0
fi

smtp_inspect() {
    if [[ -n "${SMTP_INSPECT_BIN:-}" ]]; then echo "$SMTP_INSPECT_BIN"; return; fi
    swift build --product smtp-inspect >&2 || return 1
    echo "$(swift build --show-bin-path)/smtp-inspect"
}

# One fuzz loop (one process) for target $1; its exit status goes to $work/$1.status.
fuzz_loop() {
    local t=$1
    # The reproducers of what fuzzing found are read at the start too (not written to): each run
    # checks them again, with AddressSanitizer.
    # shellcheck disable=SC2046
    "$fuzz_bin" "$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/crashes/$t/" $(flags_for "$t") "$work/corpus/$t" "Tests/fuzz/regressions/$t" \
        >"$work/$t.log" 2>&1
    echo $? >"$work/$t.status"
}

# The loops run FUZZ_JOBS at a time (default: one per processor), then each target's results
# and after-run checks follow in order.
jobs_max=${FUZZ_JOBS:-$(nproc)}
if ! [[ "$jobs_max" =~ ^[0-9]+$ ]] || ((jobs_max < 1)); then
    echo "fuzz.sh: FUZZ_JOBS must be a whole number, at least 1 (got '$jobs_max')" >&2
    exit 2
fi
echo
echo "=== fuzz.sh: ${targets[*]}: $seconds s each, $jobs_max at a time"
running=0
for t in "${targets[@]}"; do
    mkdir -p "$work/corpus/$t" "$work/crashes/$t"
    rm -f "$work/$t.status"
    cp -n "Tests/fuzz/corpus/$t"/* "$work/corpus/$t"/ 2>/dev/null
    # The configuration corpus of the IOSConfig tests: running-configs as operators have them.
    [[ $t == config ]] && cp -n Tests/configs/corpus/*.cfg "$work/corpus/$t"/ 2>/dev/null
    if ((running >= jobs_max)); then
        wait -n
        running=$((running - 1))
    fi
    fuzz_loop "$t" &
    running=$((running + 1))
done
wait

results=()
failed=0
for t in "${targets[@]}"; do
    echo
    echo "=== fuzz.sh: $t for $seconds s"
    log=$work/$t.log
    # No status: the loop did not finish (killed); that is a failure too.
    status=$(cat "$work/$t.status" 2>/dev/null || echo "none")
    grep -E "DONE|stat::number_of_executed_units|stat::average_exec_per_sec" "$log" | sed 's/^/    /'
    verdict="PASS"
    if [[ "$status" != 0 ]]; then
        verdict="FAIL"
        failed=1
        artifact=$(grep -o "Test unit written to .*" "$log" | tail -n 1 | sed 's/Test unit written to //')
        echo "fuzz.sh: $t: libFuzzer exited $status; the end of $log:"
        grep -v -E "^#[0-9]+ +(NEW|REDUCE|pulse)|Uses: " "$log" | tail -n 60 | sed 's/^/    /'
        if [[ -n "$artifact" ]]; then
            echo "fuzz.sh: $t: the input is $artifact. Reproduce it (normal build):"
            echo "    swift build --product smtp-inspect-fuzz && .build/debug/smtp-inspect-fuzz $t $artifact"
            echo "    keep it: cp $artifact Tests/fuzz/regressions/$t/NAME (FuzzRegressionTests runs it)"
        fi
    fi
    case "$t" in
        config)
            if [[ "${FUZZ_SKIP_IPTABLES:-0}" == 1 ]]; then
                echo "fuzz.sh: config: iptables-restore step left out (FUZZ_SKIP_IPTABLES=1)"
                verdict+=", iptables-restore step left out"
            elif ((EUID != 0)); then
                echo "fuzz.sh: config: the iptables-restore step needs root (run as root, or FUZZ_SKIP_IPTABLES=1)" >&2
                verdict="FAIL (iptables-restore step needs root)"
                failed=1
            # config --rules exits with Swift objects alive: LeakSanitizer would call that a leak.
            elif ! ASAN_OPTIONS=detect_leaks=0 Tests/fuzz/iptables-check.py "$fuzz_bin" "$work/corpus/config"; then
                verdict="FAIL (iptables-restore)"
                failed=1
            fi
            ;;
        pcap)
            bin=$(smtp_inspect) || { echo "fuzz.sh: pcap: cannot build smtp-inspect" >&2; failed=1; verdict="FAIL"; continue; }
            replayed=0 bad=0
            for f in "$work/corpus/pcap"/*; do
                "$bin" replay "$f" --write "$work/replay-out.pcap" >/dev/null 2>"$work/replay.err"
                code=$?
                replayed=$((replayed + 1))
                if ((code > 1)); then
                    bad=$((bad + 1))
                    echo "FAIL smtp-inspect replay $f: exit $code"
                    tail -n 5 "$work/replay.err" | sed 's/^/    /'
                fi
            done
            rm -f "$work/replay-out.pcap" "$work/replay.err"
            echo "fuzz.sh: pcap: smtp-inspect replay of $replayed captures: $bad failed"
            if ((bad > 0)); then verdict="FAIL (replay)"; failed=1; fi
            ;;
    esac
    results+=("$verdict  $t")
done

echo
echo "=== fuzz.sh: summary (${seconds} s each)"
printf '%s\n' "${results[@]}"
exit $failed
