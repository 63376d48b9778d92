#!/usr/bin/env bash
# Tests/e2e/demo.sh: scripts/demo.sh, the README's first command, must pass. As root:
#
#   Tests/e2e/demo.sh          # builds smtp-inspect (swift build, debug) unless SMTP_INSPECT_BIN=PATH
#
# Runs the demo with that binary (the demo's own release build is skipped to keep CI short) and
# checks its exit status, that it printed each of its parts and the result lines that matter
# (mail delivered, the illegal commands answered 500 and masked at the server, the alerts, the
# trace on and off, the session in `show ip inspect sessions detail`), and that it left no
# namespace behind. Prints PASS/FAIL per check; the demo's output is kept in a temp file and
# shown when something failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=Tests/e2e/lib/checks.sh
source "$ROOT/Tests/e2e/lib/checks.sh"
e2e_require_root
e2e_binary

OUT=$(mktemp /tmp/smtp-inspect-demo-test.XXXXXX)
trap 'rm -f "$OUT"' EXIT
t0=$SECONDS
rc=0
SMTP_INSPECT_BIN=$BIN "$ROOT/scripts/demo.sh" >"$OUT" 2>&1 </dev/null || rc=$?
secs=$((SECONDS - t0))

has() { grep -qE -- "$1" "$OUT"; }

verdict exit-status "$( ((rc == 0)) && echo 1)" "scripts/demo.sh exited $rc after $secs s"
verdict all-parts "$( (($(grep -cE '^━━━ [0-9]+/10 ' "$OUT") == 10)) && echo 1)" "$(grep -cE '^━━━ [0-9]+/10 ' "$OUT") of 10 parts shown"
verdict swaks-ehlo-masked "$(has '<\*\* 500 5\.5\.2 Error: command not recognized' && echo 1)" "swaks saw 500 to EHLO (rule OUT-IN is smtp) and went on with HELO"
verdict mail-delivered "$(has '✔ mail delivered .*body identical' && echo 1)" "$(grep -m1 -oE 'mail delivered .*' "$OUT" | cut -c1-90)"
verdict burst "$(has '✔ burst delivered +300 of 300' && echo 1)" "$(grep -m1 -oE 'burst delivered .*' "$OUT" | cut -c1-90)"
verdict illegal-500 "$(has 'C: EXPN root' && has 'S: 500 5\.5\.2' && has '✔ client saw 500s' && echo 1)" "EXPN, STARTTLS, XEXCH50 answered 500; VRFY 252"
verdict masked-at-server "$(has '^    \| xxxxxxxxx$' && has '✔ masked at the server' && echo 1)" "Postfix logged 'xxxxxxxxx' where the client sent 'EXPN root'"
verdict alerts "$(has '%FW-4-SMTP_INVALID_COMMAND: Invalid SMTP command \(EXPN\)' && has '✔ alerts ' && echo 1)" "%FW-4-SMTP_INVALID_COMMAND (EXPN), (STARTTLS), (XEXCH50)"
verdict trace "$(has 'INSPECT SMTP Inspection debugging is on' && has 'CBAC SMTP: VERB' && has 'All possible debugging has been turned off' && has '✔ trace off after undebug' && echo 1)" "debug on: CBAC SMTP lines; undebug all: none for the next session"
verdict show-sessions "$(has 'Responder \(10\.10\.10\.2:25\) is \(172\.22\.1\.110:25\) before NAT' && has '✔ show sessions detail' && echo 1)" "the held session with its addresses before and after NAT"
verdict statistics "$(has 'Session creations since subsystem startup' && echo 1)" "show ip inspect statistics answered"
verdict all-checks-passed "$(has 'All checks passed' && ! grep -q '✘' "$OUT" && echo 1)" "$(grep -c '✔' "$OUT") demo checks passed, $(grep -c '✘' "$OUT") failed"
verdict demo-time "$(has 'Demo time: [0-9.]+ s' && echo 1)" "$(grep -oE 'Demo time: [0-9.]+ s \(build excluded\)' "$OUT")"
prefix=$(grep -m1 -oE 'namespaces: si[0-9]+-' "$OUT" | sed 's/namespaces: //')
left=$(cd /run/netns 2>/dev/null && for n in "$prefix"*; do [[ -e "$n" ]] && printf '%s ' "$n"; done)
verdict nothing-left "$([[ -n "$prefix" && -z "$left" ]] && echo 1)" "no ${prefix:-si<pid>-}* namespace left${left:+: $left}"

# When something failed, the demo's output says why.
e2e_report() {
    if ((${#FAILED[@]})); then
        echo
        echo "== the demo's output:"
        cat "$OUT"
    fi
}
finish
