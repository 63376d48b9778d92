#!/usr/bin/env bash
# Runs every test of smtp-inspect: the unit tests (no root needed), a bounded run of each fuzz
# target (scripts/fuzz.sh, FUZZ_SECONDS each, default 30) and the end-to-end tests in network
# namespaces (root: they create namespaces, iptables rules and a private Postfix, and remove them
# again). This is what CI runs (.ci/run).
#
#   scripts/test.sh            # everything; installs what a fresh Debian 12 lacks (as root)
#   scripts/test.sh --unit     # unit tests only, no root, nothing installed, no fuzzing
#
# Exit status 0 only when every test passed; a summary lists each suite's result.
set -uo pipefail
cd "$(dirname "$0")/.."

unit_only=0
for arg in "$@"; do
    case "$arg" in
        --unit) unit_only=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "test.sh: unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

if [[ -x /opt/swift/usr/bin/swift ]] && ! command -v swift >/dev/null; then
    export PATH=/opt/swift/usr/bin:$PATH
fi

if ((unit_only == 0)); then
    if ((EUID != 0)); then
        echo "test.sh: the end-to-end tests need root (namespaces, iptables, NFQUEUE)." >&2
        echo "         Run as root, or 'scripts/test.sh --unit' for the unit tests alone." >&2
        exit 2
    fi
    scripts/deps.sh || { echo "test.sh: scripts/deps.sh failed" >&2; exit 1; }
fi

results=()
failed=0
run() {
    local name=$1; shift
    echo
    echo "=== $name: $*"
    local start=$SECONDS
    if "$@"; then
        results+=("PASS  $name ($((SECONDS - start)) s)")
    else
        results+=("FAIL  $name ($((SECONDS - start)) s)")
        failed=1
    fi
}

run "doc references" scripts/check-doc-refs.py
run "doc reference checker" scripts/check-doc-refs.py --self-test
run "benchmark report" Tests/bench/report.sh
run "build" swift build
# One build serves every suite: the end-to-end scripts take these instead of building again.
bin_path=$(swift build --show-bin-path)
export SMTP_INSPECT_BIN=$bin_path/smtp-inspect
export NFQUEUE_SELFTEST=$bin_path/nfqueue-selftest
run "unit tests" swift test
run "replay fixtures" Tests/replay/run.sh "$SMTP_INSPECT_BIN"
if ((unit_only == 0)); then
    run "fuzz" scripts/fuzz.sh all "${FUZZ_SECONDS:-30}"
    for t in Tests/e2e/*.sh; do
        run "$(basename "$t" .sh)" "$t"
    done
fi

echo
echo "=== summary"
printf '%s\n' "${results[@]}"
exit $failed
