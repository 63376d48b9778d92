#!/usr/bin/env bash
# shellcheck disable=SC2119  # lab functions with optional arguments called without any
# Tests/e2e/starttls.sh: STARTTLS through smtp-inspect end to end (issue 13), judged by what the
# servers read and logged. The seed's configuration with its OUT-IN rule made `esmtp` (STARTTLS
# is an ESMTP verb) and access list 101 also permitting 172.22.1.111:25, applied by
# scripts/setup-iptables.sh (no --queue-bypass); Postfix on 10.10.10.2 (both families) offers
# STARTTLS with a certificate made here (openssl, self-signed), and a recording server on the
# inside host 10.10.10.5 (172.22.1.111) and 2001:db8:10:10::5 writes down every byte it reads.
# As root:
#
#   Tests/e2e/starttls.sh        # builds into .build-daemontests unless SMTP_INSPECT_BIN=PATH
#
# With `smtp-inspect run --allow-starttls`:
#  1. swaks --tls: a body with dots, long lines, 8-bit bytes and command look-alikes is delivered
#     byte-identical; Postfix logged the TLS connection and wrote "using TLSv1.x ... with ESMTPS"
#     into the Received header; the connection's conntrack mark carries 0x8000000; statistics
#     count one bypassed session; `show ip inspect config` says STARTTLS is allowed and bypassed;
#  2. a TLS session held open: before STARTTLS it is listed by `show ip inspect sessions` and its
#     conntrack mark lacks 0x8000000; after the handshake it is not listed and the mark has the
#     bit; then a 1 MB message over TLS: the kernel queued no packet of it (nfnetlink_queue's
#     id_sequence and the daemon's "Packets in" do not move) while the bypass rule accepted its
#     packets; the message arrives byte-identical;
#  3. plaintext (EXPN root) right after the 220: the session is reset with
#     %FW-4-SMTP_STARTTLS_NOT_TLS; Postfix's TLS layer never read the bytes (no "wrong version
#     number", which it logs for the same bytes sent to it directly from the inside host), and
#     the recording server (which does not switch to TLS after its 220) read no EXPN (it reads
#     one when the same client talks to it directly);
#  4. a 454 to STARTTLS (the recording server): the session stays inspected; the EXPN after it
#     reaches the server masked (the server read "xxxx root"; directly: "EXPN root");
#  5. the same as 2 over IPv6 (client 2001:db8:22:1::50 to Postfix on 2001:db8:10:10::2): the
#     ip6tables mark, the kernel's queue idle during the message, delivered byte-identical;
#  6. the daemon SIGKILLed and started again while a bypassed TLS session is open: the session
#     then delivers its message (conntrack's mark keeps it out of the queue) and the new daemon
#     never sees a packet of it, while an inspected session open across the restart is reset;
#  7. a SYN on the ports of a bypassed connection: a TLS session (to the recording server, which
#     then switches to TLS for real) ended by the server's RST leaves its conntrack entry in CLOSE
#     with the mark (checked: without it the rest proves nothing); a new plaintext connection from
#     the same client port re-opens that entry, the rule that clears 0x8000000 on a SYN counts it,
#     the daemon creates and lists the session, the mark is clear and the server read EXPN masked;
#     the same with that rule deleted (a negative control, the rule put back after it): the new
#     connection keeps the mark, the daemon never sees it and the server reads "EXPN root"; a SYN
#     forged with a live TLS session's ports: the server's challenge ACK takes the session out of
#     the queue again, and its next records are answered; then all but the negative control
#     again over IPv6 (2001:db8:22:1::50 to the recording server on 2001:db8:10:10::5), judged
#     by `conntrack -L -f ipv6` and ip6tables' copy of the SYN rule: conntrack keeps and re-opens
#     the entry as it does for IPv4;
# Without --allow-starttls:
#  8. STARTTLS masked as before: the EHLO keyword is masked, swaks --tls gives up and sends no
#     mail, a client sending STARTTLS anyway gets 500 and Postfix read the masked line; swaks
#     --tls-optional falls back to plaintext and is delivered without TLS.
# Every check prints PASS or FAIL; exit status 1 if any failed. Everything is removed on exit.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/lab.sh
source "$ROOT/scripts/lib/lab.sh"
# shellcheck source=Tests/e2e/daemon/common.sh
source "$ROOT/Tests/e2e/daemon/common.sh"

TLSC=("$PY" "$ROOT/Tests/e2e/starttls/tlsc.py")
MAILCHECK=("$PY" "$ROOT/Tests/e2e/inspect/mailcheck.py")
BYPASS=$((0x8000000))
REC_IP=$LAB_INSIDE_IP           # the recording server, 172.22.1.111 from the outside
REC_NAT_IP=$LAB_INSIDE_NAT_IP
REC_IP6=$LAB_INSIDE_IP6         # and its second instance on IPv6 (no NAT), for step 7

dt_preflight
e2e_require openssl conntrack ip6tables-save
swaks --support 2>&1 | grep -q 'TLS supported' ||
    { echo "starttls: swaks has no TLS (libnet-ssleay-perl, libio-socket-ssl-perl): run scripts/deps.sh" >&2; exit 2; }
dt_binary

# ---------------------------------------------------------------------------------------------
# Helpers

# ct_mark PORT [ipv4|ipv6]: the conntrack mark (decimal) of the TCP/25 connection whose client
# port is PORT, as the router's conntrack table has it (empty: no such entry).
ct_mark() {
    lab_exec router conntrack -L -f "${2:-ipv4}" -p tcp --dport 25 --sport "$1" 2>/dev/null |
        sed -n 's/.* mark=\([0-9]*\).*/\1/p' | head -n 1
}
hex() { [[ -n "$1" ]] && printf '0x%x' "$1" || echo none; }
bypass_bit() { [[ -n "$1" ]] && (($1 & BYPASS)); }
# queued: how many packets the kernel has handed to queue Q since it was bound (id_sequence).
queued() { lab_nfq_stats "$Q" | awk '{ print $8 }'; }
# packets_in: the daemon's "Packets in" (show ip inspect statistics).
packets_in() { ctl show ip inspect statistics; sed -n 's/^Packets in \([0-9]*\) .*/\1/p' <<<"$CTL_OUT"; }
# settled: the daemon's published statistics (every 200 ms) have caught up with what the kernel
# queued; then read queued and packets_in.
settled() { [[ "$(packets_in)" == "$(queued)" ]]; }
stat_bypassed() { ctl show ip inspect statistics; sed -n 's/^TLS sessions bypassed \([0-9]*\) .*/\1/p' <<<"$CTL_OUT"; }
# listed PORT: `show ip inspect sessions` lists the session of client port PORT.
listed() { ctl show ip inspect sessions; grep -qE "(\]|[0-9]):$1\)=>" <<<"$CTL_OUT"; }
# accepted_by_bypass iptables-save|ip6tables-save: bytes the "left the queue" ACCEPT rule took
# (bytes: GSO makes the packet count depend on how the kernel aggregated them).
accepted_by_bypass() {
    lab_exec router "$1" -c -t mangle |
        awk '/a session that left the queue/ && /-j ACCEPT/ { gsub(/[][]/, "", $1); split($1, c, ":"); n += c[2] } END { print n + 0 }'
}
# tls_session NAME TLSC-OPTIONS...: a tlsc.py mail session in the background that pauses before
# STARTTLS and after the handshake (go files $LAB_DIR/NAME.go1, .go2). TS_PID, TS_OUT.
tls_session() {
    local name=$1; shift
    TS_OUT=$LAB_DIR/$name.out
    lab_spawn client "$TS_OUT" "${TLSC[@]}" mail --cafile "$LAB_TLS_CERT" --wait 90 \
        --pause-plain "$LAB_DIR/$name.go1" --pause-tls "$LAB_DIR/$name.go2" "$@"
    TS_PID=$LAB_LAST_PID
}
# ts_wait WORD: the background session printed a line beginning with WORD (or ended).
ts_wait() { lab_wait_until "${2:-15}" grep -q -e "^$1" -e '^RESULT' "$TS_OUT"; }
ts_port() { sed -n 's/^connected port=\([0-9]*\).*/\1/p' "$TS_OUT" | head -n 1; }
ts_result() {
    local i
    for ((i = 0; i < 300; i++)); do kill -0 "$TS_PID" 2>/dev/null || break; sleep 0.1; done
    grep -m1 '^RESULT' "$TS_OUT" || echo "no RESULT: $(tail -n 2 "$TS_OUT" | tr '\n' '|')"
}
# delivered_same TO BODY: one message for TO was delivered and its body is BODY byte for byte.
delivered_same() {
    "${MAILCHECK[@]}" wait "$POSTFIX_MAILDIR" "$1" 1 20 >/dev/null || return 1
    cmp -s <("${MAILCHECK[@]}" body "$(delivered_file "$1")") "$2"
}
delivered_file() { "${MAILCHECK[@]}" list "$POSTFIX_MAILDIR" "$1" | head -n 1; }
# received_tls TO: the Received header Postfix wrote says the message came over TLS.
received_tls() {
    local f; f=$(delivered_file "$1")
    [[ -n "$f" ]] && awk '/^$/ { exit } { print }' "$f" | tr -d '\n' | grep -qE 'using TLSv1\.[23] with cipher.*with ESMTPS'
}
tls_line() { delivered_file "$1" | xargs -r awk '/^$/ { exit } { print }' | grep -m1 -o 'using TLSv1[^ ]* with cipher [^ ]*'; }
# rec_file PEER PORT: what the recording server read from PEER:PORT.
rec_file() { echo "$LAB_DIR/rec/$1-$2.in"; }
alert_for() { grep -c -- "$1.*[:(]$2)" "$DERR" || true; }

# ---------------------------------------------------------------------------------------------
step "lab: Postfix offering STARTTLS (both families), the recording server, the seed's rules with esmtp"
POSTFIX_IPV6=1
lab_up || abort setup "lab_up"
postfix_up_tls "debug_peer_list = $LAB_CLIENT_IP, $LAB_INSIDE_IP, [$LAB_CLIENT_IP6]" || abort setup "postfix_up_tls"
note "certificate: $(openssl x509 -in "$LAB_TLS_CERT" -noout -subject -enddate | tr '\n' ' ')"
# recorder ADDR LOG: a recording server on ADDR:25 in the inside host, writing to $LAB_DIR/rec.
recorder() {
    lab_spawn inside "$2" "${TLSC[@]}" record --listen "$1" --port 25 --dir "$LAB_DIR/rec" --cert "$LAB_TLS_CERT" --key "$LAB_TLS_KEY"
    lab_wait_listen inside "$1" 25 10 || abort setup "the recording server does not listen on $1: $(cat "$2")"
}
recorder "$REC_IP" "$LAB_DIR/recorder.log"
recorder "$REC_IP6" "$LAB_DIR/recorder6.log"

CFG=$LAB_DIR/router.cfg
acl=$(grep -n '^access.list 101 permit tcp any host 172.22.1.110 eq smtp$' "$SEED" | cut -d: -f1)
[[ -n "$acl" ]] || abort setup "no access-list 101 line for 172.22.1.110 in $SEED"
{
    head -n "$acl" "$SEED"
    echo "access-list 101 permit tcp any host $REC_NAT_IP eq smtp"
    tail -n +$((acl + 1)) "$SEED"
} | sed -E 's/^(ip inspect name OUT.{1,3}IN) smtp$/\1 esmtp/' >"$CFG"
grep -qE '^ip inspect name OUT.{1,3}IN esmtp$' "$CFG" || abort setup "could not make OUT-IN esmtp in $CFG"
dt_rules_apply || abort setup "setup-iptables.sh apply: $(tail -n 3 "$LAB_DIR/apply.err" | tr '\n' '|')"
rules4=$(lab_exec router iptables-save -t mangle) rules6=$(lab_exec router ip6tables-save -t mangle)
ok=1
for rules in "$rules4" "$rules6"; do
    grep -q -- '-m mark --mark 0x8000000/0x8000000 .*-j CONNMARK --set-xmark 0x8000000/0x8000000' <<<"$rules" || ok=0
    grep -q -- '-m connmark --mark 0x8000000/0x8000000 .*-j ACCEPT' <<<"$rules" || ok=0
done
verdict rules-bypass "$ok" "iptables and ip6tables mangle SI-POSTROUTING save 0x8000000 to the connection and accept such connections before NFQUEUE" \
    "the bypass rules are missing: $(grep -c 0x8000000 <<<"$rules4") IPv4 and $(grep -c 0x8000000 <<<"$rules6") IPv6 lines with 0x8000000"
daemon_start --allow-starttls || abort setup "the daemon did not start"
ctl show ip inspect config
verdict config-says-starttls "$(tail -n 1 <<<"$CTL_OUT" | grep -q 'STARTTLS is allowed; TLS sessions are checked and bypassed' && echo 1)" \
    "show ip inspect config ends: $(tail -n 1 <<<"$CTL_OUT")" "$(tail -n 3 <<<"$CTL_OUT" | tr '\n' '|')"

# ---------------------------------------------------------------------------------------------
step "1. swaks --tls: delivered byte-identical over TLS, the session bypassed"
BODY1=$LAB_DIR/body1.txt
note "body: $("${MAILCHECK[@]}" make-body "$BODY1")"
{ printf 'From: <e2e@client.test>\nTo: <s1@example.test>\nSubject: starttls 1\n\n'; head -c -1 "$BODY1"; } >"$LAB_DIR/s1.eml"
mark=$(maillog_mark)
rc=0
lab_exec client swaks -n --server "$LAB_SERVER_NAT_IP" --timeout 15 --helo client.test --from e2e@client.test \
    --to s1@example.test --tls --data "@$LAB_DIR/s1.eml" >"$LAB_DIR/swaks1.out" 2>&1 || rc=$?
started=$(grep -m1 '^=== TLS started' "$LAB_DIR/swaks1.out")
ok=0 why="swaks exit $rc: $(grep -e '^\*\*\*' -e '^<\*\*' "$LAB_DIR/swaks1.out" | head -n 3 | tr '\n' '|')"
if ((rc == 0)) && [[ -n "$started" ]]; then
    if delivered_same s1@example.test "$BODY1"; then ok=1; else why="not delivered, or the body differs"; fi
fi
verdict s1-delivered-identical "$ok" "$(wc -c <"$BODY1") bytes delivered byte-identical; swaks: ${started#=== }" "$why"
# (postlogd writes what smtpd logs a moment later)
tls_logged() { maillog_since "$1" | grep -q "TLS connection established from unknown\[$2\]"; }
ok=0
received_tls s1@example.test && lab_wait_until 5 tls_logged "$mark" "$LAB_CLIENT_IP" && ok=1
verdict s1-postfix-read-tls "$ok" \
    "Postfix: $(maillog_since "$mark" | grep -m1 -o "TLS connection established from .*"); Received: $(tls_line s1@example.test)" \
    "Postfix logged: '$(maillog_since "$mark" | grep -m1 -o "TLS connection established from .*")'; Received: '$(tls_line s1@example.test)' in $(delivered_file s1@example.test)"
marks=$(lab_exec router conntrack -L -p tcp -s "$LAB_CLIENT_IP" -d "$LAB_SERVER_NAT_IP" --dport 25 2>/dev/null | sed -n 's/.* mark=\([0-9]*\).*/\1/p')
ok=0
[[ $(wc -l <<<"$marks") == 1 ]] && bypass_bit "$marks" && ok=1
verdict s1-conntrack-mark "$ok" "the connection's conntrack mark is $(hex "$marks") (0x8000000 set)" "conntrack marks: $(tr '\n' ' ' <<<"$marks")"
n=$(stat_bypassed)
verdict s1-statistics "$( [[ "$n" == 1 ]] && echo 1)" "show ip inspect statistics: TLS sessions bypassed $n" "$(grep -i bypassed <<<"$CTL_OUT")"

# ---------------------------------------------------------------------------------------------
step "2. a TLS session held open: listed and queued before STARTTLS, bypassed after; 1 MB over TLS"
BODY2=$LAB_DIR/body2.txt
note "body: $("${TLSC[@]}" make-body "$BODY2" 1000000 | sed 's/^RESULT ok //')"
tls_session s2 --host "$LAB_SERVER_NAT_IP" --to s2@example.test --body "$BODY2"
ts_wait PLAIN || abort s2-session "the client did not reach STARTTLS: $(tail -n 3 "$TS_OUT" | tr '\n' '|')"
port=$(ts_port)
m_plain=$(ct_mark "$port")
l_plain=0; listed "$port" && l_plain=1
touch "$LAB_DIR/s2.go1"
ts_wait TLS || abort s2-session "no TLS: $(tail -n 3 "$TS_OUT" | tr '\n' '|')"
m_tls=$(ct_mark "$port")
l_tls=0; listed "$port" && l_tls=1
ok=0
((l_plain == 1 && l_tls == 0)) && ! bypass_bit "$m_plain" && bypass_bit "$m_tls" && ok=1
verdict s2-leaves-after-handshake "$ok" \
    "port $port: before STARTTLS listed, conntrack mark $(hex "$m_plain"); after the handshake ($(sed -n 's/^TLS port=[0-9]* //p' "$TS_OUT")) not listed, mark $(hex "$m_tls")" \
    "before STARTTLS listed=$l_plain mark $(hex "$m_plain"); after the handshake listed=$l_tls mark $(hex "$m_tls")"
lab_wait_until 3 settled
q0=$(queued) p0=$(packets_in) a0=$(accepted_by_bypass iptables-save)
mark=$(maillog_mark)
touch "$LAB_DIR/s2.go2"
r=$(ts_result)
lab_wait_until 3 settled
q1=$(queued) p1=$(packets_in) a1=$(accepted_by_bypass iptables-save)
ok=0
[[ "$r" == "RESULT ok"* ]] && ((q1 == q0 && p1 == p0 && a1 - a0 >= $(wc -c <"$BODY2"))) && ok=1
verdict s2-queue-idle "$ok" \
    "1 MB message and QUIT over TLS: the kernel queued $((q1 - q0)) packets (id_sequence $q0 -> $q1), the daemon saw $((p1 - p0)), the bypass rule accepted $((a1 - a0)) bytes" \
    "$r; queued $q0 -> $q1, daemon packets in $p0 -> $p1, bypass rule accepted $((a1 - a0))"
verdict s2-delivered-identical "$(delivered_same s2@example.test "$BODY2" && received_tls s2@example.test && echo 1)" \
    "$(wc -c <"$BODY2") bytes delivered byte-identical; Received: $(tls_line s2@example.test)" "not delivered over TLS, or the body differs: $r"
verdict s2-postfix-read-it "$(chat_since "$mark" | grep -qx QUIT && echo 1)" \
    "Postfix read the commands after the pause through TLS: $(chat_since "$mark" | tr '\n' ' ')" "Postfix's commands: $(chat_since "$mark" | tr '\n' '|')"
n=$(stat_bypassed)
verdict s2-statistics "$( [[ "$n" == 2 ]] && echo 1)" "TLS sessions bypassed $n; counters: $(counters_now | grep -o '[0-9]* bypassed')" "$(grep -i bypassed <<<"$CTL_OUT")"
# A new connection from the same client port to the same server: conntrack starts a new entry
# (the old one ended with FINs; step 7 has one whose entry conntrack re-opens), the daemon a new
# session: it is inspected, not bypassed by the old mark.
port2=$(ts_port)
lab_exec client sysctl -qw net.ipv4.tcp_tw_reuse=1
mark=$(maillog_mark)
out=$(lab_exec client "${TLSC[@]}" expn --host "$LAB_SERVER_NAT_IP" --bind-port "$port2" 2>&1)
m_again=$(ct_mark "$port2")
got=$(masked_line "$(chat_since "$mark")" "EXPN root") || got=""
ok=0
[[ "$out" == *"RESULT ok port=$port2 EXPN => 500"* && -n "$got" ]] && ! bypass_bit "$m_again" && (($(alert_for SMTP_INVALID_COMMAND "$port2") >= 1)) && ok=1
verdict s2-same-ports-inspected "$ok" "a new connection from port $port2: EXPN answered 500, Postfix read '$got', conntrack mark $(hex "$m_again")" \
    "$(grep -e RESULT -e EXPN <<<"$out" | tr '\n' '|'); Postfix read: $(chat_since "$mark" | tr '\n' '|'); mark $(hex "$m_again")"

# ---------------------------------------------------------------------------------------------
step "3. plaintext right after the 220: reset before any server reads it"
plain() {       # NS HOST: tlsc.py plain; PL_OUT, PL_PORT
    PL_OUT=$(lab_exec "$1" "${TLSC[@]}" plain --host "$2" --line "EXPN root" 2>&1)
    PL_PORT=$(sed -n 's/^connected port=\([0-9]*\).*/\1/p' <<<"$PL_OUT")
}
outcome() { grep -m1 '^OUTCOME' <<<"$PL_OUT" || grep -m1 '^RESULT' <<<"$PL_OUT"; }
# Postfix: through the inspector, then (control) straight from the inside host.
# (All Postfix logged meanwhile: its TLS library's warning does not name the client.)
pf_ended() { maillog_since "$1" | grep -q "disconnect from unknown\[$2\]"; }
mark=$(maillog_mark)
plain client "$LAB_SERVER_NAT_IP"
port=$PL_PORT out=$(outcome)
lab_wait_until 5 pf_ended "$mark" "$LAB_CLIENT_IP"
pf=$(maillog_since "$mark")
mark=$(maillog_mark)
plain inside "$LAB_SERVER_IP"
lab_wait_until 5 pf_ended "$mark" "$LAB_INSIDE_IP"
pf_direct=$(maillog_since "$mark")
ok=0
[[ "$out" == "OUTCOME reset"* ]] && ! grep -q -e 'wrong version number' -e 'TLS library problem' <<<"$pf" &&
    grep -q 'wrong version number' <<<"$pf_direct" && (($(alert_for SMTP_STARTTLS_NOT_TLS "$port") == 1)) && ok=1
verdict s3-postfix-never-read-it "$ok" \
    "client: $out; Postfix: '$(grep -m1 -o 'SSL_accept error.*' <<<"$pf")' (directly: '$(grep -m1 -o 'TLS library problem.*wrong version number' <<<"$pf_direct")'); alert: $(grep -m1 SMTP_STARTTLS_NOT_TLS "$DERR" | msg)" \
    "client: $out; Postfix logged: $(grep -e SSL -e TLS <<<"$pf" | tr '\n' '|'); directly: $(grep -e SSL -e TLS <<<"$pf_direct" | tr '\n' '|'); alerts for port $port: $(alert_for SMTP_STARTTLS_NOT_TLS "$port")"
# The recording server, which reads on as commands after its 220.
plain client "$REC_NAT_IP"
port=$PL_PORT out=$(outcome)
plain server "$REC_IP"
sleep 0.3
read_rec=$(tr -d '\r' <"$(rec_file "$LAB_CLIENT_IP" "$port")" 2>/dev/null | tr '\n' '|')
read_direct=$(tr -d '\r' <"$(rec_file "$LAB_SERVER_IP" "$PL_PORT")" 2>/dev/null | tr '\n' '|')
ok=0
[[ "$out" == "OUTCOME reset"* && "$read_rec" == *"STARTTLS|" && "$read_rec" != *EXPN* && "$read_direct" == *"STARTTLS|EXPN root|"* ]] &&
    (($(alert_for SMTP_STARTTLS_NOT_TLS "$port") == 1)) && ok=1
verdict s3-recorder-never-read-it "$ok" "client: $out; the recording server read '$read_rec' (directly: '$read_direct')" \
    "client: $out; recorder read '$read_rec', directly '$read_direct'; alerts for port $port: $(alert_for SMTP_STARTTLS_NOT_TLS "$port")"

# ---------------------------------------------------------------------------------------------
step "4. 454 to STARTTLS: the session stays inspected"
refused() {     # NS HOST: tlsc.py refused with EXPN root; RF_OUT, RF_PORT
    RF_OUT=$(lab_exec "$1" "${TLSC[@]}" refused --host "$2" --helo client-454.test --line "EXPN root" --line "NOOP" 2>&1)
    RF_PORT=$(sed -n 's/^connected port=\([0-9]*\).*/\1/p' <<<"$RF_OUT")
}
refused client "$REC_NAT_IP"
port=$RF_PORT res=$(grep -m1 '^RESULT' <<<"$RF_OUT")
refused server "$REC_IP"
sleep 0.3
read_rec=$(tr -d '\r' <"$(rec_file "$LAB_CLIENT_IP" "$port")" 2>/dev/null)
read_direct=$(tr -d '\r' <"$(rec_file "$LAB_SERVER_IP" "$RF_PORT")" 2>/dev/null)
got=$(masked_line "$read_rec" "EXPN root") || got=""
ok=0
[[ "$res" == "RESULT ok"*"starttls=454"* && -n "$got" ]] && ! grep -q EXPN <<<"$read_rec" && grep -qx "EXPN root" <<<"$read_direct" &&
    grep -qx NOOP <<<"$read_rec" && (($(alert_for SMTP_INVALID_COMMAND "$port") >= 1)) && ok=1
verdict s4-454-expn-masked "$ok" \
    "${res#RESULT ok }; the server read '$got' (directly: 'EXPN root'); alert: $(grep SMTP_INVALID_COMMAND "$DERR" | grep -m1 ":$port)" | msg)" \
    "$res; recorder read: $(tr '\n' '|' <<<"$read_rec"); directly: $(tr '\n' '|' <<<"$read_direct"); alerts for port $port: $(alert_for SMTP_INVALID_COMMAND "$port")"

# ---------------------------------------------------------------------------------------------
step "5. IPv6: the same bypass"
BODY5=$LAB_DIR/body5.txt
"${TLSC[@]}" make-body "$BODY5" 300000 >/dev/null
tls_session s5 --host "$LAB_SERVER_IP6" --to s5@example.test --body "$BODY5"
ts_wait PLAIN || abort s5-session "the IPv6 client did not reach STARTTLS: $(tail -n 3 "$TS_OUT" | tr '\n' '|')"
port=$(ts_port)
m_plain=$(ct_mark "$port" ipv6)
l_plain=0; listed "$port" && l_plain=1
touch "$LAB_DIR/s5.go1"
ts_wait TLS || abort s5-session "no TLS over IPv6: $(tail -n 3 "$TS_OUT" | tr '\n' '|')"
m_tls=$(ct_mark "$port" ipv6)
l_tls=0; listed "$port" && l_tls=1
lab_wait_until 3 settled
q0=$(queued) p0=$(packets_in) a0=$(accepted_by_bypass ip6tables-save)
touch "$LAB_DIR/s5.go2"
r=$(ts_result)
lab_wait_until 3 settled
q1=$(queued) p1=$(packets_in) a1=$(accepted_by_bypass ip6tables-save)
ok=0
((l_plain == 1 && l_tls == 0)) && ! bypass_bit "$m_plain" && bypass_bit "$m_tls" && ok=1
verdict s5-ipv6-leaves-after-handshake "$ok" "[$LAB_CLIENT_IP6]:$port: before STARTTLS listed, mark $(hex "$m_plain"); after the handshake not listed, mark $(hex "$m_tls")" \
    "before STARTTLS listed=$l_plain mark $(hex "$m_plain"); after listed=$l_tls mark $(hex "$m_tls")"
ok=0
[[ "$r" == "RESULT ok"* ]] && ((q1 == q0 && p1 == p0 && a1 - a0 >= $(wc -c <"$BODY5"))) && delivered_same s5@example.test "$BODY5" && received_tls s5@example.test && ok=1
verdict s5-ipv6-queue-idle-delivered "$ok" \
    "$(wc -c <"$BODY5") bytes over TLS delivered byte-identical; queued $((q1 - q0)), daemon saw $((p1 - p0)), the ip6tables bypass rule accepted $((a1 - a0)) bytes" \
    "$r; queued $q0 -> $q1, daemon $p0 -> $p1, bypass rule $a0 -> $a1; delivered: $(delivered_file s5@example.test)"

# ---------------------------------------------------------------------------------------------
step "6. SIGKILL and restart with a bypassed TLS session open"
BODY6=$LAB_DIR/body6.txt
"${TLSC[@]}" make-body "$BODY6" 200000 >/dev/null
tls_session s6 --host "$LAB_SERVER_NAT_IP" --to s6@example.test --body "$BODY6"
ts_wait PLAIN || abort s6-session "the client did not reach STARTTLS"
touch "$LAB_DIR/s6.go1"
ts_wait TLS || abort s6-session "no TLS: $(tail -n 3 "$TS_OUT" | tr '\n' '|')"
port=$(ts_port)
# An inspected session open across the restart too: the restarted daemon resets it (README).
lab_spawn client "$LAB_DIR/held6.out" "${SMTPC[@]}" held --go "$LAB_DIR/held6.go" --wait 90
HELD_PID=$LAB_LAST_PID
lab_wait_until 10 grep -q -e '^READY' -e '^RESULT' "$LAB_DIR/held6.out" || abort s6-held "the inspected session did not start"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
lab_wait_until 5 test -z "$(lab_nfq_stats "$Q")" || fail s6-unbound "queue $Q still bound after SIGKILL"
m_down=$(ct_mark "$port")
daemon_start --allow-starttls || abort s6-restart "the daemon did not start again"
note "restarted (pid $DAEMON_PID); the TLS session's conntrack mark meanwhile: $(hex "$m_down")"
a0=$(accepted_by_bypass iptables-save)
touch "$LAB_DIR/s6.go2" "$LAB_DIR/held6.go"
r=$(ts_result)
a1=$(accepted_by_bypass iptables-save)
for ((i = 0; i < 100; i++)); do kill -0 "$HELD_PID" 2>/dev/null || break; sleep 0.1; done
held=$(grep -m1 -e '^OUTCOME' -e '^RESULT fail' "$LAB_DIR/held6.out")
sleep 0.3
ok=0
[[ "$r" == "RESULT ok"* ]] && bypass_bit "$m_down" && delivered_same s6@example.test "$BODY6" && received_tls s6@example.test &&
    ! grep -qE ":$port([^0-9]|\$)" "$DERR" && ((a1 - a0 >= $(wc -c <"$BODY6"))) && ok=1
verdict s6-tls-session-goes-on "$ok" \
    "after the restart the TLS session delivered $(wc -c <"$BODY6") bytes byte-identical; the new daemon never named port $port; the bypass rule accepted $((a1 - a0)) bytes" \
    "$r; mark $(hex "$m_down"); the new daemon on port $port: $(grep -E ":$port([^0-9]|\$)" "$DERR" | head -n 2 | msg | tr '\n' '|'); bypass rule $a0 -> $a1"
verdict s6-inspected-session-reset "$( [[ "$held" == "OUTCOME reset"* ]] && echo 1)" "the inspected session open across the restart: $held" "$held"

# ---------------------------------------------------------------------------------------------
step "7. a SYN on the ports of a bypassed connection whose conntrack entry outlived it"
# The server's RST ends a bypassed TLS session (the recording server switches to TLS for real for
# an EHLO name with "tls", and answers QUIT with an RST for one with "abort"). Conntrack keeps the
# entry, mark and all, in CLOSE for 10 s, and a SYN from the same client port re-opens that entry
# rather than starting a new one (after the client's own RST or FINs, as in step 2, it starts a
# new one). Then only the generated rule that clears 0x8000000 on a SYN puts the new, plaintext
# session into the queue: its packet counter says the SYN met the marked entry. The checks run
# over IPv4 (with the negative control), then over IPv6 (ip6tables' copy of the rule).
SYN_RULE='a new connection on the ports of one that left the queue'
# s7_family ipv4|ipv6: what this step's checks use in that family. S7_CT (conntrack -f), S7_SAVE
# (iptables-save or ip6tables-save), S7_CLIENT (the client's address as the recording server names
# its files and the forged SYN carries it), S7_PEER (as the daemon's alerts print it), S7_REC (the
# recording server as the client dials it: its static NAT in IPv4), S7 (the checks' names).
s7_family() {
    S7_CT=$1
    if [[ "$1" == ipv6 ]]; then
        S7_SAVE=ip6tables-save S7_CLIENT=$LAB_CLIENT_IP6 S7_PEER="[$LAB_CLIENT_IP6]" S7_REC=$REC_IP6 S7=s7-ipv6
    else
        S7_SAVE=iptables-save S7_CLIENT=$LAB_CLIENT_IP S7_PEER=$LAB_CLIENT_IP S7_REC=$REC_NAT_IP S7=s7
    fi
}
syn_cleared() {     # packets the SYN rule cleared the bit of
    lab_exec router "$S7_SAVE" -c -t mangle |
        awk -v r="$SYN_RULE" 'index($0, r) { gsub(/[][]/, "", $1); split($1, c, ":"); n += c[1] } END { print n + 0 }'
}
ct_entry() { lab_exec router conntrack -L -f "$S7_CT" -p tcp --dport 25 --sport "$1" 2>/dev/null | head -n 1; }
ct_entry_mark() { sed -n 's/.* mark=\([0-9]*\).*/\1/p' <<<"$1"; }
# closed_marked ENTRY: a conntrack entry in CLOSE whose mark carries 0x8000000.
closed_marked() { [[ "$1" == *" CLOSE "* ]] && bypass_bit "$(ct_entry_mark "$1")"; }
# (statistics are read once the daemon's published ones caught up with the kernel's queue)
created() { lab_wait_until 3 settled; stat_created "$(stats_text)"; }
# session_line PORT: the daemon's line for the session of client port PORT (show ip inspect sessions).
session_line() { ctl show ip inspect sessions; grep -E "(\]|[0-9]):$1\)=>" <<<"$CTL_OUT"; }
# rst_ended: a TLS session with the recording server that the server ends with an RST. RE_OUT,
# RE_PORT, RE_READ (what the server read, lines joined with |), RE_CT (its conntrack entry then).
rst_ended() {
    RE_OUT=$(lab_exec client "${TLSC[@]}" tls --host "$S7_REC" --helo client-tls-abort.test --cafile "$LAB_TLS_CERT" --line NOOP 2>&1)
    RE_PORT=$(sed -n 's/^connected port=\([0-9]*\).*/\1/p' <<<"$RE_OUT")
    RE_READ=$(tr -d '\r' <"$(rec_file "$S7_CLIENT" "$RE_PORT")" 2>/dev/null | tr '\n' '|')
    RE_CT=$(ct_entry "$RE_PORT")
}
rst_ok() { [[ "$RE_OUT" == *"RESULT ok"*"NOOP => reply; QUIT => "[er]* && "$RE_READ" == *"STARTTLS|EHLO client-tls-abort.test|NOOP|QUIT|" ]]; }
# same_port PORT: `tlsc.py expn` from client port PORT to the recording server, paused after the
# EXPN reply: SP_LINE (the daemon's session line then), SP_MARK (the conntrack mark then),
# SP_OUT (its RESULT), SP_READ (what the server read in this second connection from PORT).
same_port() {
    local go=$LAB_DIR/same-$1.go log=$LAB_DIR/same-$1.out pid i
    lab_spawn client "$log" "${TLSC[@]}" expn --host "$S7_REC" --bind-port "$1" --pause-plain "$go"
    pid=$LAB_LAST_PID
    lab_wait_until 10 grep -q -e '^PLAIN' -e '^RESULT' "$log"
    SP_LINE=$(session_line "$1") SP_MARK=$(ct_mark "$1" "$S7_CT")
    touch "$go"
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    SP_OUT=$(grep -m1 '^RESULT' "$log" || tail -n 2 "$log" | tr '\n' '|')
    SP_READ=$(tr -d '\r' <"$(rec_file "$S7_CLIENT" "$1.2")" 2>/dev/null)     # (<peer>-<port>.2.in)
}
# s7_reopened: checks S7-rst-keeps-marked-entry (the server's RST leaves the bypassed session's
# entry in CLOSE, marked; without it the rest proves nothing) and S7-same-port-inspected (a new
# connection from its port re-opens it: the SYN rule clears the bit, the daemon inspects it).
s7_reopened() {
    local port b0 b1 c0 c1 n0 n1 d0 got ok
    lab_wait_until 3 settled
    b0=$(stat_bypassed)
    rst_ended
    port=$RE_PORT
    lab_wait_until 3 settled
    b1=$(stat_bypassed)
    ok=0
    rst_ok && closed_marked "$RE_CT" && ((b1 == b0 + 1)) && ok=1
    verdict "$S7-rst-keeps-marked-entry" "$ok" \
        "port $port: TLS, the server read '$RE_READ' and answered QUIT with an RST (the client saw $(sed -n 's/^OUTCOME \(eof\|reset\).*/\1/p' <<<"$RE_OUT")); bypassed $b0 -> $b1; conntrack kept the entry: $(tr -s ' ' <<<"${RE_CT%% src=*}") ... mark=$(hex "$(ct_entry_mark "$RE_CT")")" \
        "$(grep -e '^OUTCOME' -e '^RESULT' <<<"$RE_OUT" | tr '\n' '|'); server read '$RE_READ'; bypassed $b0 -> $b1; conntrack: '${RE_CT:-no entry}' (the rest of this step proves nothing without a marked entry)"
    c0=$(syn_cleared) n0=$(created) d0=$(derr_mark)
    same_port "$port"
    c1=$(syn_cleared) n1=$(created)
    got=$(masked_line "$SP_READ" "EXPN root") || got=""
    ok=0
    [[ "$SP_OUT" == "RESULT ok port=$port EXPN => 500"* && -n "$got" ]] && ! grep -q EXPN <<<"$SP_READ" &&
        ((c1 == c0 + 1 && n1 == n0 + 1)) && [[ -n "$SP_LINE" ]] && [[ -n "$SP_MARK" ]] && ! bypass_bit "$SP_MARK" &&
        derr_since "$d0" | grep SMTP_INVALID_COMMAND | grep -qF "($S7_PEER:$port)" && ok=1
    verdict "$S7-same-port-inspected" "$ok" \
        "a new connection from port $port: the SYN rule cleared the bit of $((c1 - c0)) packet, conntrack mark then $(hex "$SP_MARK"); the daemon created $((n1 - n0)) session and listed it (${SP_LINE#*Session * }); the server read '$got', EXPN answered 500" \
        "$SP_OUT; server read: $(tr '\n' '|' <<<"$SP_READ"); SYN rule $c0 -> $c1; sessions created $n0 -> $n1; listed: '$SP_LINE'; mark $(hex "$SP_MARK"); the daemon meanwhile: $(derr_since "$d0" | msg | tr '\n' '|')"
}

# A SYN forged with the ports of a live TLS session (README): the rules take the connection back
# into the queue and the daemon opens a half-open session for the ports, keeping the old one aside;
# the server answers the SYN with a challenge ACK (RFC 5961 §4), which says its connection is
# alive: the session leaves the queue again with it, and the client's next records are answered.
stat_resumed() { ctl show ip inspect statistics; tr -d '\n' <<<"$CTL_OUT" | sed -n 's/.* \([0-9]*\) resumed after a SYN.*/\1/p'; }
resumed_past() { (($(stat_resumed) > $1)); }
# s7_forged_syn: check S7-forged-syn-session-survives.
s7_forged_syn() {
    local go=$LAB_DIR/forged-$S7_CT.go out=$LAB_DIR/forged-$S7_CT.out pid port m_tls m_back u0 u1 c0 c1 b0 b1 line res read_fs i ok
    lab_spawn client "$out" "${TLSC[@]}" tls --host "$S7_REC" --helo client-tls.test --cafile "$LAB_TLS_CERT" \
        --pause-tls "$go" --line NOOP --timeout 5
    pid=$LAB_LAST_PID
    lab_wait_until 15 grep -q -e '^TLS' -e '^RESULT' "$out" || abort "$S7-forged-syn" "the TLS session did not start: $(tail -n 3 "$out" | tr '\n' '|')"
    port=$(sed -n 's/^connected port=\([0-9]*\).*/\1/p' "$out")
    lab_wait_until 3 settled
    m_tls=$(ct_mark "$port" "$S7_CT") u0=$(stat_resumed) c0=$(syn_cleared) b0=$(stat_bypassed)
    lab_exec client "$PY" "$ROOT/Tests/e2e/daemon/synflood.py" --src "$S7_CLIENT" --dst "$S7_REC" --count 1 --rate 1 --first-port "$port" >/dev/null
    lab_wait_until 5 resumed_past "$u0" || true
    u1=$(stat_resumed) c1=$(syn_cleared) b1=$(stat_bypassed) m_back=$(ct_mark "$port" "$S7_CT") line=$(session_line "$port")
    touch "$go"
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    res=$(grep -m1 '^RESULT' "$out")
    read_fs=$(tr -d '\r' <"$(rec_file "$S7_CLIENT" "$port")" 2>/dev/null | tr '\n' '|')
    ok=0
    bypass_bit "$m_tls" && ((c1 == c0 + 1 && u1 == u0 + 1 && b1 == b0)) && bypass_bit "$m_back" && [[ -z "$line" ]] &&
        [[ "$res" == *"NOOP => reply; QUIT => reply"* ]] &&
        [[ "$read_fs" == "EHLO client-tls.test|STARTTLS|EHLO client-tls.test|NOOP|QUIT|" ]] && ok=1
    verdict "$S7-forged-syn-session-survives" "$ok" \
        "a SYN forged with port $port of a live TLS session: the SYN rule cleared the bit ($c0 -> $c1), the server's challenge ACK took the session out of the queue again (resumed $u0 -> $u1, mark $(hex "$m_tls") -> $(hex "$m_back"), no session listed); the client's next records were answered (${res#RESULT ok }) and the server read '$read_fs'" \
        "marks $(hex "$m_tls") -> $(hex "$m_back"); SYN rule $c0 -> $c1; resumed $u0 -> $u1; bypassed $b0 -> $b1; session: '$line'; client: $res; server read '$read_fs'; the daemon: $(tail -n 3 "$DERR" | msg | tr '\n' '|')"
}

s7_family ipv4
s7_reopened

# The same without that rule, a negative control (IPv4 only): the scenario is real, the new
# session inherits the bypass and the server reads the EXPN as sent. The rule is put back where it was.
save_mangle() { lab_exec router iptables-save -t mangle | grep -v '^#'; }
before=$(save_mangle)
rule=$(grep -F -- "$SYN_RULE" <<<"$before" | grep '^-A SI-POSTROUTING ')
at=$(lab_exec router iptables -t mangle -L SI-POSTROUTING -n --line-numbers | awk -v r="$SYN_RULE" 'index($0, r) { print $1; exit }')
[[ -n "$rule" && -n "$at" ]] || abort s7-without-the-rule "no SI-POSTROUTING rule '$SYN_RULE' in the mangle table"
lab_exec router iptables -t mangle -D SI-POSTROUTING "$at" || abort s7-without-the-rule "could not delete rule $at of SI-POSTROUTING"
rst_ended
port=$RE_PORT n0=$(created) d0=$(derr_mark)
same_port "$port"
n1=$(created)
printf '*mangle\n-I SI-POSTROUTING %s %s\nCOMMIT\n' "$at" "${rule#-A SI-POSTROUTING }" | lab_exec router iptables-restore --noflush ||
    abort s7-without-the-rule "could not put the SYN rule back"
[[ "$(save_mangle)" == "$before" ]] || abort s7-without-the-rule "the mangle table differs after putting the SYN rule back: $(diff <(echo "$before") <(save_mangle) | tr '\n' '|')"
ok=0
rst_ok && closed_marked "$RE_CT" && [[ "$SP_OUT" == "RESULT ok port=$port EXPN => 500"* ]] && grep -qx "EXPN root" <<<"$SP_READ" &&
    [[ -z "$SP_LINE" ]] && bypass_bit "$SP_MARK" && ((n1 == n0)) && ! derr_since "$d0" | grep -qE ":$port([^0-9]|\$)" && ok=1
verdict s7-without-the-rule-bypassed "$ok" \
    "without the SYN rule (deleted, then put back as rule $at): the entry kept in CLOSE (mark $(hex "$(ct_entry_mark "$RE_CT")")) took the new connection from port $port, which kept mark $(hex "$SP_MARK"), the daemon never saw it, and the server read 'EXPN root' unmasked" \
    "$SP_OUT; the entry before: '${RE_CT:-no entry}'; server read: $(tr '\n' '|' <<<"$SP_READ"); listed: '$SP_LINE'; mark $(hex "$SP_MARK"); sessions created $n0 -> $n1; the daemon meanwhile: $(derr_since "$d0" | head -n 3 | msg | tr '\n' '|')"

s7_forged_syn

step "7. the same over IPv6: $LAB_CLIENT_IP6 to the recording server on $REC_IP6"
s7_family ipv6
s7_reopened
s7_forged_syn

# ---------------------------------------------------------------------------------------------
step "8. without --allow-starttls: STARTTLS masked as before"
lab_kill "$DAEMON_PID" 5 >/dev/null 2>&1
daemon_start || abort s8-daemon "the daemon without --allow-starttls did not start"
ctl show ip inspect config
note "show ip inspect config ends: $(tail -n 1 <<<"$CTL_OUT")"
mark=$(maillog_mark)
rc=0
lab_exec client swaks -n --server "$LAB_SERVER_NAT_IP" --timeout 15 --helo client.test --from e2e@client.test \
    --to s8@example.test --tls --body "must not be sent" >"$LAB_DIR/swaks8.out" 2>&1 || rc=$?
sleep 0.5
# Postfix offers STARTTLS between ETRN and ENHANCEDSTATUSCODES: there swaks saw it masked.
kw=$(sed -n 's/^<-  250-ETRN$//; T; n; s/^<-  250-//p' "$LAB_DIR/swaks8.out")
ok=0
((rc != 0)) && is_masked "$kw" STARTTLS && ! grep -q '^ -> STARTTLS' "$LAB_DIR/swaks8.out" &&
    [[ "$("${MAILCHECK[@]}" count "$POSTFIX_MAILDIR" s8@example.test)" == 0 ]] && ! chat_since "$mark" | grep -q -e STARTTLS -e MAIL && ok=1
verdict s8-swaks-tls-gives-up "$ok" "swaks --tls exit $rc: $(grep -m1 -e '^\*\*\*' "$LAB_DIR/swaks8.out"); it saw the keyword as 250-$kw; nothing delivered" \
    "swaks exit $rc: $(grep -e STARTTLS -e xxxx -e '^\*\*\*' "$LAB_DIR/swaks8.out" | tr '\n' '|'); Postfix read: $(chat_since "$mark" | tr '\n' '|')"
mark=$(maillog_mark)
out=$(lab_exec client "${TLSC[@]}" refused --host "$LAB_SERVER_NAT_IP" 2>&1)
got=$(masked_line "$(chat_since "$mark")" STARTTLS) || got=""
verdict s8-starttls-masked "$( [[ "$out" == *"STARTTLS 500"* && "$out" == *"RESULT ok"* && -n "$got" ]] && ! chat_since "$mark" | grep -qx STARTTLS && echo 1)" \
    "STARTTLS sent anyway: $(grep -m1 '^S: 500' <<<"$out"); Postfix read '$got'" "$(grep -e '^S:' -e RESULT <<<"$out" | tail -n 3 | tr '\n' '|'); Postfix read: $(chat_since "$mark" | tr '\n' '|')"
rc=0
lab_exec client swaks -n --server "$LAB_SERVER_NAT_IP" --timeout 15 --helo client.test --from e2e@client.test \
    --to s8b@example.test --tls-optional --body "plaintext fallback" >"$LAB_DIR/swaks8b.out" 2>&1 || rc=$?
ok=0
if ((rc == 0)) && "${MAILCHECK[@]}" wait "$POSTFIX_MAILDIR" s8b@example.test 1 15 >/dev/null; then
    ! received_tls s8b@example.test && awk '/^$/ { exit } { print }' "$(delivered_file s8b@example.test)" | grep -q 'with ESMTP id' && ok=1
fi
verdict s8-tls-optional-plaintext "$ok" "swaks --tls-optional delivered without TLS (Received: with ESMTP)" \
    "swaks exit $rc: $(tail -n 3 "$LAB_DIR/swaks8b.out" | tr '\n' '|')"
n=$(stat_bypassed)
verdict s8-nothing-bypassed "$( [[ "$n" == 0 ]] && echo 1)" "TLS sessions bypassed $n" "$(grep -i bypassed <<<"$CTL_OUT")"

finish
