#!/usr/bin/env bash
# Tests/cli/commands.sh: the command line of `smtp-inspect check | rules | show` against the
# goldens under iptables/ and its exit statuses; the control client against a fake daemon on a
# Unix socket in a temporary directory, and what `run --control` refuses before binding any
# queue (as root, in a network namespace of its own). No root needed, no network:
#
#   Tests/cli/commands.sh              # builds smtp-inspect (debug) unless SMTP_INSPECT_BIN=PATH
#
# Tests/e2e/iptables-rules.sh runs it first (so CI does), with the binary it uses.
# Ends with "N passed, 0 failed"; on the first failure prints why and exits 1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SEED=$ROOT/iptables/seed-running-config.txt
MAP=(--interface Ethernet2/0=ext0 --interface Ethernet2/1=int0)

# shellcheck source=Tests/e2e/lib/checks.sh
source "$ROOT/Tests/e2e/lib/checks.sh"
E2E_FAIL_FAST=1
e2e_binary

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# `run` in the tests that follow is refused before it binds a queue; as root it runs in a
# network namespace of its own all the same.
NS=()
if ((EUID == 0)) && command -v unshare >/dev/null; then NS=(unshare -n); fi

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
pass "show ip inspect all --config seed equals the seed's own output (iptables/seed-show-ip-inspect-all.txt)"
cp "$TMP/out" "$TMP/all.txt"

expect 0 "show ip inspect config" "$BIN" show ip inspect config --config "$SEED"
cp "$TMP/out" "$TMP/config.txt"
expect 0 "show ip inspect interfaces" "$BIN" show IP Insp INT --config "$SEED"
{ cat "$TMP/config.txt"; echo; cat "$TMP/out"; } >"$TMP/both.txt"
cmp -s "$TMP/both.txt" "$TMP/all.txt" || fail "all is not config, a blank line, interfaces"
pass "show ip inspect config + interfaces (words abbreviated, any case) make up all"

expect 0 "check" "$BIN" check --config "$SEED"
same "check" "$ROOT/iptables/seed-check.txt"
pass "check --config seed equals iptables/seed-check.txt (no warnings repeated on stderr: $(wc -l <"$TMP/err") lines)"

expect 0 "rules --family ipv4" "$BIN" rules --config "$SEED" "${MAP[@]}" --family ipv4
same "rules --family ipv4" "$ROOT/iptables/seed-rules.txt"
says "rules" "more warnings like these"
expect 0 "rules --family ipv6" "$BIN" rules --config "$SEED" "${MAP[@]}" --family ipv6
same "rules --family ipv6" "$ROOT/iptables/seed-rules6.txt"
{ cat "$ROOT/iptables/seed-rules.txt"
  printf '#\n# ==== IPv6: what follows is for ip6tables-restore --noflush (alone: smtp-inspect rules --family ipv6)\n#\n'
  cat "$ROOT/iptables/seed-rules6.txt"; } >"$TMP/both.rules"
expect 0 "rules" "$BIN" rules --config "$SEED" "${MAP[@]}"
same "rules" "$TMP/both.rules"
pass "rules --config seed ${MAP[*]}: --family ipv4 equals iptables/seed-rules.txt, ipv6 seed-rules6.txt, both (the default) one after the other; warnings collapsed on stderr"
expect 64 "rules --family ipv5" "$BIN" rules --config "$SEED" "${MAP[@]}" --family ipv5
pass "rules --family ipv5: exit 64"

expect 0 "rules --queues --queue-bypass" "$BIN" rules --config "$SEED" "${MAP[@]}" --queues 2-5 --queue-bypass
grep -q -- '-j NFQUEUE --queue-balance 2:5 --queue-bypass$' "$TMP/out" || fail "no NFQUEUE --queue-balance 2:5 --queue-bypass rule"
pass "rules --queues 2-5 --queue-bypass: NFQUEUE --queue-balance 2:5 --queue-bypass"

expect 0 "check --interface" "$BIN" check --config "$SEED" "${MAP[@]}"
sed -n 3p "$TMP/out" | grep -qxF '# interfaces: Ethernet2/0=ext0 Ethernet2/1=int0' || fail "check --interface: no map line: $(sed -n 3p "$TMP/out")"
pass "check --config seed --interface …: the map checked and printed in the header"

expect 2 "--interface auto, addresses not on this box" "$BIN" rules --config "$SEED" --interface auto
says "--interface auto" "--interface auto: interface Ethernet2/0 (ip address 172.22.1.16/24) maps to no Linux interface"
says "--interface auto" "candidates: "
says "--interface auto" "give --interface Ethernet2/0=LINUXNAME"
[[ ! -s "$TMP/out" ]] || fail "rules --interface auto printed rules although the map is incomplete"
expect 0 "--interface auto with the pairs given" "$BIN" rules --config "$SEED" --interface auto --interface e2/0=ext0 --interface Ethernet2/1=int0
grep -q '^# interfaces: Ethernet2/0=ext0 Ethernet2/1=int0 (--interface auto: by address);' "$TMP/out" || fail "no map line with auto"
pass "--interface auto: a name that maps nowhere is exit 2 with the candidates; explicit pairs (short names too) win"

for corpus in "$ROOT"/Tests/configs/corpus/*.cfg; do
    expect 0 "check $(basename "$corpus")" "$BIN" check --config "$corpus"
    same "check $(basename "$corpus")" "${corpus%.cfg}.check.txt"
done
pass "check of every corpus configuration equals its golden (Tests/configs/corpus)"

printf 'hostname ok\n! a note with a NUL: \000 and an escape \033[1m\nip inspect name M esmtp\ninterface E0\n ip inspect M in\n' >"$TMP/nul.cfg"
expect 0 "control characters in a comment" "$BIN" rules --config "$TMP/nul.cfg" --interface E0=e0
! LC_ALL=C grep -q "$(printf '[\001-\010\016-\037]')" "$TMP/out" || fail "a control character reached the rules"
printf 'hostname o\000k\n' >"$TMP/nulhost.cfg"
expect 2 "control character in an applied line" "$BIN" check --config "$TMP/nulhost.cfg"
says "control character" "nulhost.cfg:1:11: error: control character in a line smtp-inspect applies"
pass "control characters: in a comment, never in the rules; in an applied line, exit 2 located"

# --- errors: configuration (2), runtime (1), usage (64)
expect 2 "rules without --interface" "$BIN" rules --config "$SEED"
says "rules without --interface" "add --interface Ethernet2/0=LINUXNAME"
says "rules without --interface" "add --interface Ethernet2/1=LINUXNAME"
[[ ! -s "$TMP/out" ]] || fail "rules printed something although it failed"
pass "rules without --interface: exit 2, names the --interface to add for each interface, prints no rules"

expect 2 "rules with an unknown interface" "$BIN" rules --config "$SEED" --interface Ethernet9/9=ext0 --interface Ethernet2/1=int0
says "rules with an unknown interface" "the configuration has no interface Ethernet9/9"
pass "rules --interface Ethernet9/9=…: exit 2, lists the configuration's interfaces"

printf 'hostname r1\nip inspect name MAIL smtp\nip inspect name MAIL esmtp\ninterface Ethernet0\n ip inspect NOPE in\n' >"$TMP/bad.cfg"
for cmd in "check" "rules ${MAP[*]}" "show ip inspect all"; do
    # shellcheck disable=SC2086  # the words of $cmd
    expect 2 "$cmd on an invalid configuration" "$BIN" $cmd --config "$TMP/bad.cfg"
    says "$cmd" "$TMP/bad.cfg:3:22: error: \`smtp\` and \`esmtp\` in one inspection rule"
    says "$cmd" "$TMP/bad.cfg:5:13: error: interface Ethernet0 uses inspection rule NOPE, which does not exist"
    says "$cmd" "2 errors; nothing was applied"
    [[ ! -s "$TMP/out" ]] || fail "$cmd printed something for an invalid configuration"
done
pass "check, rules and show on an invalid configuration: exit 2, every error as file:line:column, nothing on stdout"

expect 2 "missing file" "$BIN" check --config "$TMP/absent.cfg"
says "missing file" "cannot read the configuration $TMP/absent.cfg: there is no such file"
printf 'hostname caf\xe9\n' >"$TMP/latin1.cfg"
expect 2 "not UTF-8" "$BIN" check --config "$TMP/latin1.cfg"
says "not UTF-8" "$TMP/latin1.cfg:1:13: error: the file is not UTF-8 text"
pass "an absent file and a Latin-1 file: exit 2, said plainly (the second located)"

# The size limit (4 MiB) is checked before reading: a sparse 200 GB file is refused at once
# (without it: minutes and gigabytes), and so is a pipe that brings more than the limit.
truncate -s 200G "$TMP/huge.cfg"
expect 2 "a 200 GB configuration" timeout 20 "$BIN" check --config "$TMP/huge.cfg"
says "a 200 GB configuration" "cannot read the configuration $TMP/huge.cfg: it is 214748364800 bytes; a configuration may be at most 4194304 bytes (4 MiB)"
rm -f "$TMP/huge.cfg"
expect 2 "a 5 MB pipe" timeout 20 "$BIN" rules "${MAP[@]}" --config <(head -c 5000000 /dev/zero | tr '\0' '!')
says "a 5 MB pipe" "more than 4194304 bytes came from it; a configuration may be at most 4194304 bytes (4 MiB)"
{ cat "$SEED"; head -c $((4194304 - $(wc -c <"$SEED"))) /dev/zero | tr '\0' '!'; } >"$TMP/limit.cfg"
expect 0 "a configuration of exactly 4 MiB" timeout 60 "$BIN" show ip inspect config --config "$TMP/limit.cfg"
pass "configuration size: a sparse 200 GB file and a 5 MB pipe refused at once (exit 2, size and limit said); exactly 4 MiB is read"

expect 64 "sessions from a file" "$BIN" show ip inspect sessions detail --config "$SEED"
says "sessions from a file" "--control PATH"
expect 64 "statistics from a file" "$BIN" show ip inspect stat --config "$SEED"
says "statistics from a file" "--control PATH"
expect 1 "show --control" "$BIN" show ip inspect sessions --control "$TMP/control.sock"
says "show --control" "no smtp-inspect daemon answers on $TMP/control.sock"
pass "sessions/statistics from a file: exit 64, pointing to --control; --control with no daemon: exit 1, says so"

expect 64 "ambiguous word" "$BIN" show ip inspect s --config "$SEED"
says "ambiguous word" "% Ambiguous command: \`s\` could be sessions or statistics"
expect 64 "wrong word" "$BIN" show ip inspect sesions --config "$SEED"
says "wrong word" "expected one of: all, config, interfaces, sessions [detail], statistics"
expect 64 "incomplete" "$BIN" show ip --config "$SEED"
says "incomplete" "% Incomplete command."
expect 64 "extra word" "$BIN" show ip inspect all now --config "$SEED"
says "extra word" "nothing may follow \`show ip inspect all\`"
pass "show: ambiguous, wrong, missing and extra words: exit 64 with the valid words"

# --- replay (issue 10): --write never destroys its input or leaves half a file; every I/O error
# is an exit status; no capture timestamp traps
CAP=$ROOT/Tests/replay/fixtures/pipelined-expn.pcap
cp "$CAP" "$TMP/in.pcap"
ln -s in.pcap "$TMP/in-link.pcap"
ln "$TMP/in.pcap" "$TMP/in-hard.pcap"
for out in in.pcap in-link.pcap in-hard.pcap; do
    expect 1 "replay --write $out" "$BIN" replay "$TMP/in.pcap" --write "$TMP/$out"
    says "replay --write $out" "smtp-inspect: --write $TMP/$out is the input capture $TMP/in.pcap itself"
    cmp -s "$CAP" "$TMP/in.pcap" || fail "replay --write $out changed its input"
done
pass "replay --write onto its own input (same name, a symbolic link, a hard link): exit 1, the input intact"

expect 1 "replay --write /dev/full" "$BIN" replay "$CAP" --write /dev/full
says "replay --write /dev/full" "smtp-inspect: cannot write the capture /dev/full: No space left on device"
[[ $(grep -c /dev/full "$TMP/err") == 1 ]] || fail "replay --write /dev/full: the path is not named exactly once: $(cat "$TMP/err")"
pass "replay --write /dev/full: exit 1, ENOSPC said on stderr, the path named once"

# A write that fails half-way (a file size limit of 1 KiB; SIGXFSZ ignored, so write gets EFBIG):
# the file it would replace keeps its old content, and no temporary file is left.
mkdir "$TMP/w" && printf 'old content\n' >"$TMP/w/out.pcap"
expect 1 "replay --write past the file size limit" bash -c 'trap "" XFSZ; ulimit -f 1; exec "$@"' _ "$BIN" replay "$CAP" --write "$TMP/w/out.pcap"
says "replay --write past the file size limit" "smtp-inspect: cannot write the capture $TMP/w/out.pcap: File too large"
[[ "$(cat "$TMP/w/out.pcap")" == "old content" && "$(ls -A "$TMP/w")" == out.pcap ]] ||
    fail "a failed replay --write left $(ls -A "$TMP/w") with '$(head -c 40 "$TMP/w/out.pcap")'"
expect 0 "replay --write" "$BIN" replay "$CAP" --write "$TMP/w/out.pcap"
[[ "$(head -c 4 "$TMP/w/out.pcap" | od -An -tx1 | tr -d ' ')" == "4d3cb2a1" && "$(ls -A "$TMP/w")" == out.pcap ]] ||
    fail "replay --write did not replace out.pcap with a nanosecond pcap"
pass "replay --write failing half-way: exit 1, the old file kept whole, no temporary file; then a good run replaces it"

expect 0 "replay of a pcapng with a large timestamp" "$BIN" replay "$ROOT/Tests/cli/inputs/pcapng-large-timestamp.pcapng"
says "replay of a pcapng with a large timestamp" "2 packets had a timestamp past 17000000000 s after 1970 (the year 2508) (taken as that time)"
grep -q '^replay: 3 packets' "$TMP/out" || fail "replay of the large-timestamp pcapng: $(cat "$TMP/out")"
pass "replay of a pcapng whose timestamps have a large high word (Tests/cli/inputs): no trap, 3 packets, the clamping said"

for v in nan 1e300 inf 86401; do
    expect 64 "run --stats-interval $v" timeout 10 "${NS[@]}" "$BIN" run --stats-interval "$v" --no-control --queue 65000
    says "run --stats-interval $v" "give seconds from 0 (no counters line) to 86400"
done
pass "run --stats-interval nan, 1e300, inf, 86401: refused before anything is bound (exit 64)"

# --- the control socket (issue 10): the default path is the unit's; a request that fails is an error
unit_path=$(sed -n 's/^ExecStart=.* --control \([^ ]*\) .*$/\1/p' "$ROOT/deploy/smtp-inspect.service")
[[ "$unit_path" == /run/smtp-inspect/control.sock ]] || fail "deploy/smtp-inspect.service: --control is '$unit_path'"
for cmd in run debug undebug clear reload; do
    "$BIN" $cmd --help | tr -s ' \n' '  ' | grep -qF -- "(default: $unit_path)" ||
        fail "$cmd --help: the default --control is not the unit's $unit_path"
done
"$BIN" show --help | tr -s ' \n' '  ' | grep -qF -- "(the default without --config: $unit_path)" ||
    fail "show --help: the default --control is not the unit's $unit_path"
pass "the default --control of run, show, debug, undebug, clear and reload is the unit's $unit_path"

# The unit's MemoryMax is README's arithmetic over FlowEngineConfiguration's limits (per queue:
# sessions x 3,230 B, two 4 KiB rings per session, twice the retained bytes, held packets x 64 KiB,
# 128 MiB of netlink buffer; 32 MiB for the process; +10%, rounded up to GiB): a change of the
# limits that is not carried to the unit fails here.
conf=$ROOT/Sources/FlowEngine/FlowEngineConfiguration.swift
sessions=$(sed -n 's/^ *public var maxSessions = \([0-9_]*\)$/\1/p' "$conf" | tr -d _)
held=$(sed -n 's/^ *public var maxHeldPackets = \([0-9_]*\)$/\1/p' "$conf" | tr -d _)
retained=$(sed -n 's/^ *public var retainLimitTotal = \([0-9]*\) << 20$/\1/p' "$conf")
[[ -n "$sessions" && -n "$held" && -n "$retained" ]] || fail "FlowEngineConfiguration: limits not found (sessions '$sessions', held '$held', retained '$retained' MiB)"
per_queue=$(( (sessions * 3230 + sessions * 2 * 4096 + held * 65536) / 1048576 + 2 * retained + 128 ))
want_gib=$(( ((per_queue + 32) * 11 / 10 + 1023) / 1024 ))
unit_max=$(sed -n 's/^MemoryMax=//p' "$ROOT/deploy/smtp-inspect.service")
[[ "$unit_max" == "${want_gib}G" ]] ||
    fail "deploy/smtp-inspect.service: MemoryMax=$unit_max, but the limits ($sessions sessions, $held held packets, $retained MiB retained) make ${per_queue} MiB a queue: ${want_gib}G"
pass "MemoryMax=$unit_max in the unit = ($per_queue MiB a queue from FlowEngineConfiguration + 32 MiB) + 10%, rounded up"

# fake_daemon MODE: a control socket at $TMP/fake.sock that reads the request and answers as
# MODE says: "close" (nothing), "partial" (text without the final NUL), "whole" (text + NUL).
fake_daemon() {
    rm -f "$TMP/fake.sock"
    python3 - "$TMP/fake.sock" "$1" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
c.recv(600)
if sys.argv[2] == "partial": c.sendall(b"Session 1 ")
if sys.argv[2] == "whole": c.sendall(b"Established Sessions\n\x00")
c.close()
PY
    FAKE_PID=$!
    for _ in $(seq 50); do [[ -S "$TMP/fake.sock" ]] && return 0; sleep 0.1; done
    fail "the fake daemon did not start"
}
fake_daemon close
expect 1 "no answer" "$BIN" show ip inspect sessions --control "$TMP/fake.sock"
says "no answer" "closed the connection before the end of its answer (0 bytes came)"
[[ ! -s "$TMP/out" ]] || fail "show printed something although the daemon did not answer"
wait "$FAKE_PID"
fake_daemon partial
expect 1 "half an answer" "$BIN" show ip inspect sessions --control "$TMP/fake.sock"
says "half an answer" "closed the connection before the end of its answer (10 bytes came)"
wait "$FAKE_PID"
fake_daemon whole
expect 0 "a whole answer" "$BIN" show ip inspect sessions --control "$TMP/fake.sock"
[[ "$(cat "$TMP/out")" == "Established Sessions" ]] || fail "the whole answer was printed as: $(cat "$TMP/out")"
wait "$FAKE_PID"
pass "show --control: a daemon that closes without answering, or in the middle of its answer: exit 1, said; a whole answer: printed, exit 0"

# `run --control` never replaces or follows anything but a stale socket; it checks before
# binding any queue (as root, in a network namespace of its own all the same).
printf 'secret\n' >"$TMP/target"
chmod 644 "$TMP/target"
ln -s target "$TMP/link.sock"
printf 'data\n' >"$TMP/file.sock"
expect 1 "--control onto a symbolic link" timeout 10 "${NS[@]}" "$BIN" run --control "$TMP/link.sock" --queue 65000
says "--control onto a symbolic link" "--control $TMP/link.sock is a symbolic link, not a socket: refusing to replace it"
expect 1 "--control onto a file" timeout 10 "${NS[@]}" "$BIN" run --control "$TMP/file.sock" --queue 65000
says "--control onto a file" "--control $TMP/file.sock is a regular file, not a socket: refusing to replace it"
[[ "$(stat -c '%a %s' "$TMP/target")" == "644 7" && -L "$TMP/link.sock" && "$(cat "$TMP/file.sock")" == data ]] ||
    fail "run --control changed what was at the path: $(ls -l "$TMP")"
pass "run --control onto a symbolic link or a regular file: exit 1, refused by name; the link, its target (mode 644) and the file untouched"

expect 64 "bad --interface" "$BIN" rules --config "$SEED" --interface Ethernet2/0
says "bad --interface" "expected IOSNAME=LINUXNAME"
expect 64 "bad --queues" "$BIN" rules --config "$SEED" "${MAP[@]}" --queues 5-3
expect 64 "--queue and --queues" "$BIN" rules --config "$SEED" "${MAP[@]}" --queue 1 --queues 2-3
pass "rules: malformed --interface, --queues 5-3, --queue with --queues: exit 64"

finish
