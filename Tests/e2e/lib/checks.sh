# shellcheck shell=bash disable=SC2034  # (variables are for the callers)
# Tests/e2e/lib/checks.sh: what every end-to-end script (and Tests/cli/commands.sh) shares:
# results, preflight, and the binary under test. Source it (after scripts/lib/lab.sh where the
# lab is used); only e2e_daemon_start needs the lab.
#
#   source "$ROOT/Tests/e2e/lib/checks.sh"
#   e2e_require_root              # exit 2 unless root
#   e2e_require CMD...            # exit 2 naming what is missing (run scripts/deps.sh)
#   e2e_binary [PRODUCT [SCRATCH]]  # BIN: $SMTP_INSPECT_BIN (or $NFQUEUE_SELFTEST), else a build
#   e2e_daemon_start ARGS...      # `$BIN run ARGS` in the lab's router: DAEMON_PID, DOUT, DERR
#
#   pass NAME [INFO]              # PASS line
#   fail NAME [WHY]               # FAIL line; the script goes on (E2E_FAIL_FAST=1: it stops)
#   skip NAME [WHY]               # SKIP line
#   verdict NAME OK INFO [WHY]    # pass NAME INFO when OK is 1, else fail NAME WHY (or INFO)
#   abort NAME [WHY]              # a failure nothing after it can survive: summary, exit 1
#   finish                        # summary; exit status 1 if anything failed
#   note TEXT / step TEXT / indent (stdin, indented as evidence)
#
# E2E_FAIL_FAST=1 before the first check makes every failure an abort (for scripts whose steps
# build on each other). E2E_XFAIL="NAME ..." lists checks failing for a known, reported bug (by
# name, or by a name's last word): they print XFAIL (XPASS once fixed) and do not fail the run.
# A script may define e2e_report: the summary calls it first (extra tables, logs kept). The
# summary's last line is the plain "N passed, N failed" that CI reads; messages use the script's
# name (E2E_NAME). Exit status 2 means the test could not run at all.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
E2E_LIB=$E2E_ROOT/Tests/e2e/lib
PY=/usr/bin/python3             # Debian's: python3-scapy lives in its dist-packages
SMTPC=("$PY" "$E2E_LIB/smtpc.py")
E2E_NAME=${E2E_NAME:-$(basename "$0" .sh)}
: "${E2E_FAIL_FAST:=0}"

NPASS=0 NSKIP=0 NXFAIL=0
FAILED=()
T_START=$(date +%s.%N)

e2e_elapsed() { awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

e2e_require_root() { ((EUID == 0)) || { echo "$E2E_NAME: needs root" >&2; exit 2; }; }
e2e_require() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null || { echo "$E2E_NAME: $c missing: run scripts/deps.sh" >&2; exit 2; }
    done
}

# e2e_binary [PRODUCT=smtp-inspect] [SCRATCH=.build]: BIN = the binary scripts/test.sh built
# once for every suite (SMTP_INSPECT_BIN; NFQUEUE_SELFTEST for nfqueue-selftest), else a debug
# build of this checkout with `swift build --scratch-path SCRATCH`.
e2e_binary() {
    local product=${1:-smtp-inspect} scratch=${2:-.build} var=SMTP_INSPECT_BIN
    [[ "$product" == nfqueue-selftest ]] && var=NFQUEUE_SELFTEST
    BIN=${!var:-}
    if [[ -z "$BIN" ]]; then
        [[ -d /opt/swift/usr/bin ]] && PATH=/opt/swift/usr/bin:$PATH
        echo "== build: swift build --product $product --scratch-path $scratch"
        (cd "$E2E_ROOT" && swift build --product "$product" --scratch-path "$scratch" 2>&1 | tail -n 3) ||
            { echo "$E2E_NAME: build failed" >&2; exit 2; }
        BIN=$(cd "$E2E_ROOT" && swift build --scratch-path "$scratch" --show-bin-path)/$product
    fi
    [[ -x "$BIN" ]] || { echo "$E2E_NAME: $BIN is not executable" >&2; exit 2; }
    echo "== binary: $BIN"
}

# ---------------------------------------------------------------------------------------------
# The daemon under test, in the lab's router (needs scripts/lib/lab.sh, BIN and Q)

DAEMON_PID="" DOUT="" DERR="" DAEMON_N=0 DAEMON_START_S=""

# e2e_daemon_start ARGS...: `$BIN run ARGS` in the router, stdout (counters) in DOUT, stderr
# (alerts, audit trail, trace, notes) in DERR (daemon-N.out/.err in LAB_DIR, N counting the
# starts); returns once it has bound queue Q and said so, and made its --control socket if it
# has one. DAEMON_PID is the daemon itself (ip netns exec and sh exec it), so signals reach it.
e2e_daemon_start() {
    local t0 ctl="" prev="" a
    t0=$(lab_now)
    for a in "$@"; do [[ "$prev" == --control ]] && ctl=$a; prev=$a; done
    DAEMON_N=$((DAEMON_N + 1))
    DOUT=$LAB_DIR/daemon-$DAEMON_N.out DERR=$LAB_DIR/daemon-$DAEMON_N.err
    # shellcheck disable=SC2016  # $@ and $0 are for the inner sh
    lab_spawn router "$DOUT" sh -c 'exec "$@" 2>"$0"' "$DERR" "$BIN" run "$@"
    DAEMON_PID=$LAB_LAST_PID
    if ! lab_nfq_wait_bound "$Q" 20 || ! lab_wait_until 10 grep -q "inspecting queue" "$DERR" ||
        { [[ -n "$ctl" ]] && ! lab_wait_until 5 test -S "$ctl"; }; then
        echo "daemon $DAEMON_N did not start (queue $Q, its note${ctl:+ or its control socket} missing):" >&2
        indent <"$DERR" >&2
        return 1
    fi
    DAEMON_START_S=$(lab_since "$t0")
}
daemon_alive() { kill -0 "$DAEMON_PID" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# What a server read of a masked command

# is_masked LINE ORIGINAL: LINE is ORIGINAL masked: as long, made of x's (a first letter may have
# passed as the prefix of a legal verb; a space may remain).
is_masked() {
    local line=$1 orig=$2
    ((${#line} == ${#orig})) && [[ "$line" != "$orig" && "$line" =~ ^[A-Za-z]?x+( x+)?$ ]]
}

# masked_line LINES ORIGINAL: the line of LINES that is ORIGINAL masked, printed (status 1: none).
masked_line() {
    local l
    while IFS= read -r l; do is_masked "$l" "$2" && { echo "$l"; return 0; }; done <<<"$1"
    return 1
}

# ---------------------------------------------------------------------------------------------
# Results

# A check is listed by its NAME, or by NAME's last word ("plain4/rec urg-data" by urg-data).
_e2e_xfail() { [[ " ${E2E_XFAIL:-} " == *" $1 "* || " ${E2E_XFAIL:-} " == *" ${1##* } "* ]]; }

pass() {
    NPASS=$((NPASS + 1))
    if _e2e_xfail "$1"; then printf 'XPASS %-36s %s (listed in E2E_XFAIL)\n' "$1" "${2:-}"
    else printf 'PASS  %-36s %s\n' "$1" "${2:-}"; fi
}
fail() {
    if _e2e_xfail "$1"; then NXFAIL=$((NXFAIL + 1)); printf 'XFAIL %-36s %s\n' "$1" "${2:-}"; return 0; fi
    FAILED+=("$1")
    printf 'FAIL  %-36s %s\n' "$1" "${2:-}"
    if ((E2E_FAIL_FAST)); then summary; exit 1; fi     # the EXIT trap (lab_cleanup) cleans up
}
skip() { NSKIP=$((NSKIP + 1)); printf 'SKIP  %-36s %s\n' "$1" "${2:-}"; }
verdict() { if [[ "$2" == 1 ]]; then pass "$1" "$3"; else fail "$1" "${4-$3}"; fi; }
abort() { E2E_FAIL_FAST=1 fail "$@"; summary; exit 1; }

note() { printf '      %s\n' "$*"; }
step() { printf '\n== %s (at %s s)\n' "$*" "$(e2e_elapsed)"; }
indent() { sed 's/^/      | /'; }

summary() {
    if declare -F e2e_report >/dev/null; then e2e_report; fi
    local extra=""
    ((NSKIP)) && extra+=", $NSKIP skipped"
    ((NXFAIL)) && extra+=", $NXFAIL known failures (XFAIL)"
    echo
    echo "== summary: $NPASS passed, ${#FAILED[@]} failed$extra in $(e2e_elapsed) s"
    if ((${#FAILED[@]})); then printf '   FAILED: %s\n' "${FAILED[@]}"; fi
    echo "$NPASS passed, ${#FAILED[@]} failed"
}
finish() { summary; ((${#FAILED[@]} == 0)); }
