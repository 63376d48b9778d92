#!/usr/bin/env bash
# Tests/cli/commands.sh: the command line of `smtp-inspect check | rules | show` against the
# goldens under iptables/ and its exit statuses. No root, no network:
#
#   Tests/cli/commands.sh              # builds smtp-inspect (debug) unless SMTP_INSPECT_BIN=PATH
#
# Tests/e2e/iptables-rules.sh runs it first (so CI does), with the binary it uses.
# Ends with "N passed, 0 failed"; on the first failure prints why and exits 1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SEED=$ROOT/iptables/seed-running-config.txt
MAP=(--interface Ethernet2/0=ext0 --interface Ethernet2/1=int0)

PASSED=0
ok()   { PASSED=$((PASSED + 1)); echo "ok   $*"; }
fail() { echo "FAIL $*" >&2; echo "$PASSED passed, 1 failed"; exit 1; }

BIN=${SMTP_INSPECT_BIN:-}
if [[ -z "$BIN" ]]; then
    [[ -d /opt/swift/usr/bin ]] && PATH=/opt/swift/usr/bin:$PATH
    (cd "$ROOT" && swift build --product smtp-inspect 2>&1 | tail -n 3) || { echo "commands: build failed" >&2; exit 1; }
    BIN=$(cd "$ROOT" && swift build --show-bin-path)/smtp-inspect
fi
[[ -x "$BIN" ]] || { echo "commands: $BIN is not executable" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# expect STATUS NAME CMD...: run CMD (stdout, stderr to $TMP/out, $TMP/err), check the status.
expect() {
    local want=$1 name=$2 rc=0; shift 2
    "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
    if ((rc != want)); then
        sed 's/^/  stderr | /' "$TMP/err" | tail -n 15 >&2
        fail "$name: exit status $rc, expected $want ($*)"
    fi
}
# same NAME FILE: stdout equals FILE.
same() {
    cmp -s "$TMP/out" "$2" || { diff "$2" "$TMP/out" | head -n 20 >&2; fail "$1: output differs from $2"; }
}
# says NAME TEXT: stderr holds TEXT.
says() { grep -qF -- "$2" "$TMP/err" || { sed 's/^/  stderr | /' "$TMP/err" >&2; fail "$1: stderr lacks: $2"; }; }

# --- goldens
# The seed's own `show ip inspect all` has the technote's U+2212 minus signs; IOS prints '-'.
sed 's/\xe2\x88\x92/-/g' "$ROOT/iptables/seed-show-ip-inspect-all.txt" >"$TMP/show-all.txt"
expect 0 "show ip inspect all" "$BIN" show ip inspect all --config "$SEED"
same "show ip inspect all" "$TMP/show-all.txt"
ok "show ip inspect all --config seed equals the seed's own output (iptables/seed-show-ip-inspect-all.txt)"
cp "$TMP/out" "$TMP/all.txt"

expect 0 "show ip inspect config" "$BIN" show ip inspect config --config "$SEED"
cp "$TMP/out" "$TMP/config.txt"
expect 0 "show ip inspect interfaces" "$BIN" show IP Insp INT --config "$SEED"
{ cat "$TMP/config.txt"; echo; cat "$TMP/out"; } >"$TMP/both.txt"
cmp -s "$TMP/both.txt" "$TMP/all.txt" || fail "all is not config, a blank line, interfaces"
ok "show ip inspect config + interfaces (words abbreviated, any case) make up all"

expect 0 "check" "$BIN" check --config "$SEED"
same "check" "$ROOT/iptables/seed-check.txt"
ok "check --config seed equals iptables/seed-check.txt (no warnings repeated on stderr: $(wc -l <"$TMP/err") lines)"

expect 0 "rules" "$BIN" rules --config "$SEED" "${MAP[@]}"
same "rules" "$ROOT/iptables/seed-rules.txt"
says "rules" "more warnings like these"
ok "rules --config seed ${MAP[*]} equals iptables/seed-rules.txt; warnings collapsed on stderr"

expect 0 "rules --queues --queue-bypass" "$BIN" rules --config "$SEED" "${MAP[@]}" --queues 2-5 --queue-bypass
grep -q -- '-j NFQUEUE --queue-balance 2:5 --queue-bypass$' "$TMP/out" || fail "no NFQUEUE --queue-balance 2:5 --queue-bypass rule"
ok "rules --queues 2-5 --queue-bypass: NFQUEUE --queue-balance 2:5 --queue-bypass"

expect 0 "check --interface" "$BIN" check --config "$SEED" "${MAP[@]}"
sed -n 3p "$TMP/out" | grep -qxF '# interfaces: Ethernet2/0=ext0 Ethernet2/1=int0' || fail "check --interface: no map line: $(sed -n 3p "$TMP/out")"
ok "check --config seed --interface …: the map checked and printed in the header"

expect 2 "--interface auto, addresses not on this box" "$BIN" rules --config "$SEED" --interface auto
says "--interface auto" "--interface auto: interface Ethernet2/0 (ip address 172.22.1.16/24) maps to no Linux interface"
says "--interface auto" "candidates: "
says "--interface auto" "give --interface Ethernet2/0=LINUXNAME"
[[ ! -s "$TMP/out" ]] || fail "rules --interface auto printed rules although the map is incomplete"
expect 0 "--interface auto with the pairs given" "$BIN" rules --config "$SEED" --interface auto --interface e2/0=ext0 --interface Ethernet2/1=int0
grep -q '^# interfaces: Ethernet2/0=ext0 Ethernet2/1=int0 (--interface auto: by address);' "$TMP/out" || fail "no map line with auto"
ok "--interface auto: a name that maps nowhere is exit 2 with the candidates; explicit pairs (short names too) win"

for corpus in "$ROOT"/Tests/configs/corpus/*.cfg; do
    expect 0 "check $(basename "$corpus")" "$BIN" check --config "$corpus"
    same "check $(basename "$corpus")" "${corpus%.cfg}.check.txt"
done
ok "check of every corpus configuration equals its golden (Tests/configs/corpus)"

printf 'hostname ok\n! a note with a NUL: \000 and an escape \033[1m\nip inspect name M esmtp\ninterface E0\n ip inspect M in\n' >"$TMP/nul.cfg"
expect 0 "control characters in a comment" "$BIN" rules --config "$TMP/nul.cfg" --interface E0=e0
! LC_ALL=C grep -q "$(printf '[\001-\010\016-\037]')" "$TMP/out" || fail "a control character reached the rules"
printf 'hostname o\000k\n' >"$TMP/nulhost.cfg"
expect 2 "control character in an applied line" "$BIN" check --config "$TMP/nulhost.cfg"
says "control character" "nulhost.cfg:1:11: error: control character in a line smtp-inspect applies"
ok "control characters: in a comment, never in the rules; in an applied line, exit 2 located"

# --- errors: configuration (2), runtime (1), usage (64)
expect 2 "rules without --interface" "$BIN" rules --config "$SEED"
says "rules without --interface" "add --interface Ethernet2/0=LINUXNAME"
says "rules without --interface" "add --interface Ethernet2/1=LINUXNAME"
[[ ! -s "$TMP/out" ]] || fail "rules printed something although it failed"
ok "rules without --interface: exit 2, names the --interface to add for each interface, prints no rules"

expect 2 "rules with an unknown interface" "$BIN" rules --config "$SEED" --interface Ethernet9/9=ext0 --interface Ethernet2/1=int0
says "rules with an unknown interface" "the configuration has no interface Ethernet9/9"
ok "rules --interface Ethernet9/9=…: exit 2, lists the configuration's interfaces"

printf 'hostname r1\nip inspect name MAIL smtp\nip inspect name MAIL esmtp\ninterface Ethernet0\n ip inspect NOPE in\n' >"$TMP/bad.cfg"
for cmd in "check" "rules ${MAP[*]}" "show ip inspect all"; do
    # shellcheck disable=SC2086  # the words of $cmd
    expect 2 "$cmd on an invalid configuration" "$BIN" $cmd --config "$TMP/bad.cfg"
    says "$cmd" "$TMP/bad.cfg:3:22: error: \`smtp\` and \`esmtp\` in one inspection rule"
    says "$cmd" "$TMP/bad.cfg:5:13: error: interface Ethernet0 uses inspection rule NOPE, which does not exist"
    says "$cmd" "2 errors; nothing was applied"
    [[ ! -s "$TMP/out" ]] || fail "$cmd printed something for an invalid configuration"
done
ok "check, rules and show on an invalid configuration: exit 2, every error as file:line:column, nothing on stdout"

expect 2 "missing file" "$BIN" check --config "$TMP/absent.cfg"
says "missing file" "cannot read the configuration $TMP/absent.cfg: there is no such file"
printf 'hostname caf\xe9\n' >"$TMP/latin1.cfg"
expect 2 "not UTF-8" "$BIN" check --config "$TMP/latin1.cfg"
says "not UTF-8" "$TMP/latin1.cfg:1:13: error: the file is not UTF-8 text"
ok "an absent file and a Latin-1 file: exit 2, said plainly (the second located)"

expect 64 "sessions from a file" "$BIN" show ip inspect sessions detail --config "$SEED"
says "sessions from a file" "--control PATH"
expect 64 "statistics from a file" "$BIN" show ip inspect stat --config "$SEED"
says "statistics from a file" "--control PATH"
expect 1 "show --control" "$BIN" show ip inspect sessions --control "$TMP/control.sock"
says "show --control" "no smtp-inspect daemon answers on $TMP/control.sock"
ok "sessions/statistics from a file: exit 64, pointing to --control; --control with no daemon: exit 1, says so"

expect 64 "ambiguous word" "$BIN" show ip inspect s --config "$SEED"
says "ambiguous word" "% Ambiguous command: \`s\` could be sessions or statistics"
expect 64 "wrong word" "$BIN" show ip inspect sesions --config "$SEED"
says "wrong word" "expected one of: all, config, interfaces, sessions [detail], statistics"
expect 64 "incomplete" "$BIN" show ip --config "$SEED"
says "incomplete" "% Incomplete command."
expect 64 "extra word" "$BIN" show ip inspect all now --config "$SEED"
says "extra word" "nothing may follow \`show ip inspect all\`"
expect 64 "no source" "$BIN" show ip inspect all
says "no source" "needs --config FILE"
ok "show: ambiguous, wrong, missing and extra words and a missing --config: exit 64 with the valid words"

expect 64 "bad --interface" "$BIN" rules --config "$SEED" --interface Ethernet2/0
says "bad --interface" "expected IOSNAME=LINUXNAME"
expect 64 "bad --queues" "$BIN" rules --config "$SEED" "${MAP[@]}" --queues 5-3
expect 64 "--queue and --queues" "$BIN" rules --config "$SEED" "${MAP[@]}" --queue 1 --queues 2-3
ok "rules: malformed --interface, --queues 5-3, --queue with --queues: exit 64"

echo "$PASSED passed, 0 failed"
