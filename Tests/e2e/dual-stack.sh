#!/usr/bin/env bash
# shellcheck disable=SC2119  # lab functions with optional arguments called without any
# Tests/e2e/dual-stack.sh: SMTP over IPv6 inspected end to end (issue 11), IPv6 access lists with
# IOS's semantics, and both families applied and removed as one. In the lab's dual-stack
# namespaces (outside 2001:db8:22:1::/64, inside 2001:db8:10:10::/64, forwarding on), Postfix
# listening on both families. As root:
#
#   Tests/e2e/dual-stack.sh         # builds into .build-daemontests unless SMTP_INSPECT_BIN=PATH
#
# A. Tests/configs/corpus/17-dual-stack-15.4 (ip inspect and ipv6 inspect, an IPv6 traffic
#    filter relying on IOS's implicit neighbour-discovery permits), applied by setup-iptables.sh
#    over rules of the router's own in both families, smtp-inspect run on it:
#    1. neighbour caches flushed, then mail over IPv6 and over IPv4 at the same time, each with
#       EXPN: both delivered byte-identical, EXPN masked at Postfix, the alert names the IPv6
#       initiator as [2001:db8:22:1::50]:PORT; the client's neighbour solicitations, and its
#       advertisements once the router has to ask, passed IOS's implicit nd-ns/nd-na permits;
#    2. `show ip inspect sessions detail` lists an IPv6 and an IPv4 session, each with its own
#       family's rule (V6-OUT-IN, OUT-IN); V6-OUT-IN's max-data 2000000 resets a 3 MB IPv6
#       message while the same over IPv4 (OUT-IN, 20000000) is delivered;
#    3. the IPv6 list with real connections: :80 on the server and :25 on the inside host refused
#       (implicit deny counted), ping to the router permitted, to the server denied; the inside
#       host's TCP, UDP and ping out get their replies (ipv6 inspect tcp/udp/icmp); unsolicited
#       connections to it are refused; a source of the inside prefix arriving outside is dropped
#       by anti-spoofing before the server sees it;
#    4. the same list with an explicit `deny ipv6 any any log` last (IOS's pitfall: its implicit
#       nd-na/nd-ns permits come after it): check warns, and with the neighbour caches flushed the
#       client cannot reach the server over IPv6 (the deny counts the solicitations); IPv4 works;
#    5. remove: iptables-save and ip6tables-save read as before apply.
# B. the seed (it speaks of IPv4 only): check warns that IPv6 SMTP through Ethernet2/0 is
#    inspected with OUT-IN's smtp; applied, IPv6 mail with EXPN is masked, alerted, delivered
#    byte-identical and listed in sessions detail; the IPv4 suites' sessions over IPv6: pipelined
#    commands with EXPN in their midst, a session typed one byte a segment, and a daemon killed
#    (SIGKILL) and started again, which resets the IPv6 session it held and inspects a new one;
#    with the daemon stopped (no bypass) an IPv6 SMTP connection gets nowhere: the SYN meets the
#    NFQUEUE rule and no packet of it reaches the server (a capture there), so no IPv6 byte
#    reaches Postfix uninspected.
# C. one transaction: with an earlier set installed, an apply whose ip6tables-restore fails (an
#    ip6tables-restore on PATH that passes --test and fails the load) leaves iptables-save and
#    ip6tables-save exactly as they were, the earlier set's sysctls and addresses too.
# Every check prints PASS or FAIL; exit status 1 if any failed. Everything is removed on exit.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/lab.sh
source "$ROOT/scripts/lib/lab.sh"
# shellcheck source=Tests/e2e/daemon/common.sh
source "$ROOT/Tests/e2e/daemon/common.sh"

DS=("$PY" "$ROOT/Tests/e2e/dualstack/ds.py")
MAILCHECK=("$PY" "$ROOT/Tests/e2e/inspect/mailcheck.py")
CORPUS=$ROOT/Tests/configs/corpus
WAIT=2

dt_preflight dual-stack
for c in ip6tables ip6tables-save ip6tables-restore tcpdump ping; do
    command -v "$c" >/dev/null || { echo "dual-stack: $c missing: run scripts/deps.sh" >&2; exit 2; }
done
dt_binary

listen() {      # NS tcp|udp ADDR PORT
    lab_spawn "$1" "$LAB_DIR/listen-$1-$2-$3-$4.log" "${DS[@]}" serve "$2" "$3" "$4"
    lab_wait_until 10 grep -q listening "$LAB_DIR/listen-$1-$2-$3-$4.log" || abort setup "no $2 listener on $3:$4 in $1"
}
probe() { lab_exec "$1" timeout $((WAIT + 3)) "${DS[@]}" probe "$2" "$3" "$4" "$WAIT" "${5:-}" 2>&1 || true; }
# counter6|counter4 TABLE REGEX: packets counted by the rules matching REGEX.
counter6() { _counter ip6tables-save "$@"; }
counter4() { _counter iptables-save "$@"; }
_counter() {
    lab_exec router "$1" -c -t "$2" |
        awk -v re="$3" '$0 ~ re { gsub(/[][]/, "", $1); split($1, c, ":"); n += c[1] } END { print n + 0 }'
}
save_norm() { lab_exec router "$1" | grep -v '^#' | sed -E 's/ \[[0-9]+:[0-9]+\]$//'; }
queued() { lab_nfq_stats "$Q" | awk '{ print $8 }'; }
flush_neighbours() {
    lab_exec client ip -6 neigh flush dev "$LAB_HOST_IF"
    lab_exec router ip -6 neigh flush dev "$LAB_EXT_IF"
}
# chat6 MARK: the commands Postfix received from the client's IPv6 address since MARK.
chat6() { maillog_since "$1" | sed -n "s/.*: < unknown\[$LAB_CLIENT_IP6\]: //p"; }
chat4() { maillog_since "$1" | sed -n "s/.*: < unknown\[$LAB_CLIENT_IP\]: //p"; }

# mail_session NAME HOST TO [--expn]: ds.py mail in the background; MAIL_PID, output in $LAB_DIR/NAME.out.
mail_session() {
    local name=$1 host=$2 to=$3; shift 3
    lab_spawn client "$LAB_DIR/$name.out" "${DS[@]}" mail "$host" --to "$to" --subject "$name" --body "$BODY" "$@"
    MAIL_PID=$LAB_LAST_PID
}
# delivered_same TO: a message for TO was delivered and its body is $BODY byte for byte.
delivered_same() {
    "${MAILCHECK[@]}" wait "$POSTFIX_MAILDIR" "$1" 1 15 >/dev/null || return 1
    cmp -s <("${MAILCHECK[@]}" body "$("${MAILCHECK[@]}" list "$POSTFIX_MAILDIR" "$1" | head -n 1)") "$BODY"
}

run_daemon() {  # CONFIG MAP...: the rules applied, the daemon on them
    CFG=$1
    shift
    MAP=("$@")
    dt_rules_apply || abort "$(basename "$CFG") rules" "setup-iptables.sh apply failed: $(tail -n 3 "$LAB_DIR/apply.err" | tr '\n' '|')"
    daemon_start || abort "$(basename "$CFG") daemon" "the daemon did not start"
    note "$(basename "$CFG"): rules applied, daemon up ($(grep -m1 'inspecting queue' "$DERR" | msg))"
}

# ---------------------------------------------------------------------------------------------
step "lab: dual-stack namespaces, Postfix on both families"
POSTFIX_IPV6=1
lab_up || abort setup "lab_up"
postfix_up "debug_peer_list = $LAB_CLIENT_IP, [$LAB_CLIENT_IP6]" || abort setup "postfix_up"
BODY=$LAB_DIR/body.txt
note "Postfix on $LAB_SERVER_IP:25 and [$LAB_SERVER_IP6]:25; body: $("${MAILCHECK[@]}" make-body "$BODY")"
listen server tcp "$LAB_SERVER_IP6" 80
listen inside tcp "$LAB_INSIDE_IP6" 25
listen inside tcp "$LAB_INSIDE_IP6" 8080
listen client tcp "$LAB_CLIENT_IP6" 8000
listen client udp "$LAB_CLIENT_IP6" 9000
for target in "server $LAB_SERVER_IP6 80" "inside $LAB_INSIDE_IP6 25" "inside $LAB_INSIDE_IP6 8080"; do
    read -r _ addr port <<<"$target"
    [[ "$(probe client tcp "$addr" "$port")" == "peer $LAB_CLIENT_IP6 "* ]] || abort setup "no rules yet, but [$addr]:$port does not answer"
done
note "without rules every IPv6 listener answers the client (server :80, inside :25 and :8080)"

# The router's own rules, in both families: apply keeps them, remove leaves them.
lab_exec router iptables -A INPUT -p udp --dport 9 -j DROP
lab_exec router ip6tables -A INPUT -p udp --dport 9 -j DROP
lab_exec router ip6tables -t mangle -N OTHER6
lab_exec router ip6tables -t mangle -A OTHER6 -j RETURN
lab_exec router ip6tables -t mangle -A FORWARD -j OTHER6
save_norm iptables-save >"$LAB_DIR/before4"
save_norm ip6tables-save >"$LAB_DIR/before6"

# ---------------------------------------------------------------------------------------------
step "A1. 17-dual-stack-15.4: mail over IPv6 and IPv4 at the same time, EXPN in each"
CFG17=$CORPUS/17-dual-stack-15.4.cfg
MAP17=(--interface "GigabitEthernet0/0=$LAB_EXT_IF" --interface "GigabitEthernet0/1=$LAB_INT_IF")
run_daemon "$CFG17" "${MAP17[@]}"
flush_neighbours
na0=$(counter6 mangle 'V6-OUTSIDE-IN: implicit permit icmp any any nd-na')
ns0=$(counter6 mangle 'V6-OUTSIDE-IN: implicit permit icmp any any nd-ns')
mark=$(maillog_mark) dmark=$(derr_mark)
mail_session a1-v6 "$LAB_SERVER_IP6" a1-v6@example.test --expn
pid6=$MAIL_PID
mail_session a1-v4 "$LAB_SERVER_NAT_IP" a1-v4@example.test --expn
pid4=$MAIL_PID
both_done() { grep -q '^RESULT' "$LAB_DIR/a1-v6.out" && grep -q '^RESULT' "$LAB_DIR/a1-v4.out"; }
lab_wait_until 40 both_done || true
lab_kill "$pid6" 5 >/dev/null 2>&1 || true
for fam in 6 4; do
    out=$LAB_DIR/a1-v$fam.out
    chat=$(chat$fam "$mark")
    line=$(masked_line "$chat" "EXPN root" || true)
    ok=0
    if grep -q '^RESULT ok' "$out" && delivered_same "a1-v$fam@example.test" && [[ -n "$line" ]] && ! grep -q EXPN <<<"$chat"; then ok=1; fi
    verdict "a1-ipv$fam-mail" "$ok" "delivered byte-identical ($(wc -c <"$BODY") bytes), Postfix read \`$line\` for EXPN root" \
        "client: $(grep '^RESULT' "$out"); Postfix read: $(tr '\n' '|' <<<"$chat")"
done
lab_kill "$pid4" 5 >/dev/null 2>&1 || true
alert6=$(derr_since "$dmark" | grep -m1 "Invalid SMTP command (EXPN).* from initiator (\[$LAB_CLIENT_IP6\]:[0-9]*)" | msg)
alert4=$(derr_since "$dmark" | grep -m1 "Invalid SMTP command (EXPN).* from initiator ($LAB_CLIENT_IP:[0-9]*)" | msg)
verdict a1-alerts "$([[ -n "$alert6" && -n "$alert4" ]] && echo 1 || echo 0)" "$alert6 / $alert4" \
    "alerts: $(derr_since "$dmark" | grep SMTP_INVALID | msg | tr '\n' '|')"
# The client resolved the router (its solicitations); the router learnt the client from them.
# Now the router must ask: its solicitation, the client's advertisement.
lab_exec router ip -6 neigh flush dev "$LAB_EXT_IF"
rc=0; lab_exec inside ping -6 -n -q -c 1 -W 2 "$LAB_CLIENT_IP6" >/dev/null 2>&1 || rc=$?
na=$(($(counter6 mangle 'V6-OUTSIDE-IN: implicit permit icmp any any nd-na') - na0))
ns=$(($(counter6 mangle 'V6-OUTSIDE-IN: implicit permit icmp any any nd-ns') - ns0))
verdict a1-neighbour-discovery "$((na > 0 && ns > 0 && rc == 0))" \
    "neighbour caches flushed: $ns solicitations (resolving the router) and $na advertisements (answering it) from the client passed the implicit permits" \
    "implicit nd-ns counted $ns, nd-na $na; ping from inside exit $rc"

# ---------------------------------------------------------------------------------------------
step "A2. sessions detail: each family with its rule; V6-OUT-IN's max-data"
lab_spawn client "$LAB_DIR/hold6.log" "${DS[@]}" hold "$LAB_SERVER_IP6" --go "$LAB_DIR/go"
h6=$LAB_LAST_PID
lab_spawn client "$LAB_DIR/hold4.log" "${DS[@]}" hold "$LAB_SERVER_NAT_IP" --go "$LAB_DIR/go"
h4=$LAB_LAST_PID
lab_wait_until 15 grep -q '^HOLD' "$LAB_DIR/hold6.log" || true
lab_wait_until 15 grep -q '^HOLD' "$LAB_DIR/hold4.log" || true
p6=$(sed -n 's/^HOLD port=//p' "$LAB_DIR/hold6.log") p4=$(sed -n 's/^HOLD port=//p' "$LAB_DIR/hold4.log")
ctl show ip inspect sessions detail
s6=$(grep -A4 -F " ([$LAB_CLIENT_IP6]:$p6)=>([$LAB_SERVER_IP6]:25) smtp SIS_OPEN" <<<"$CTL_OUT" || true)
s4=$(grep -A4 -F " ($LAB_CLIENT_IP:$p4)=>($LAB_SERVER_IP:25) smtp SIS_OPEN" <<<"$CTL_OUT" || true)
verdict a2-sessions-ipv6 "$([[ -n "$p6" ]] && grep -q "Inspection rule V6-OUT-IN, SMTP" <<<"$s6" && echo 1 || echo 0)" \
    "$(head -n 1 <<<"$s6" | sed 's/^ *//'); $(grep -o 'Inspection rule [^,]*' <<<"$s6")" "detail: $(tr '\n' '|' <<<"$CTL_OUT")"
verdict a2-sessions-ipv4 "$([[ -n "$p4" ]] && grep -q "Inspection rule OUT-IN, SMTP" <<<"$s4" && echo 1 || echo 0)" \
    "$(head -n 1 <<<"$s4" | sed 's/^ *//'); $(grep -o 'Inspection rule [^,]*' <<<"$s4")" "detail: $(tr '\n' '|' <<<"$CTL_OUT")"
touch "$LAB_DIR/go"
lab_kill "$h6" 5 >/dev/null 2>&1 || true
lab_kill "$h4" 5 >/dev/null 2>&1 || true
dmark=$(derr_mark)
rc6=0 rc4=0
out6=$(lab_exec client timeout 60 "${DS[@]}" mail "$LAB_SERVER_IP6" --to big6@example.test --size 3000000 2>&1) || rc6=$?
out4=$(lab_exec client timeout 60 "${DS[@]}" mail "$LAB_SERVER_NAT_IP" --to big4@example.test --size 3000000 2>&1) || rc4=$?
maxdata=$(derr_since "$dmark" | grep -m1 "SMTP_MAX_DATA" | msg)
verdict a2-max-data-per-family "$([[ $rc6 != 0 && -n "$maxdata" && $rc4 == 0 ]] && "${MAILCHECK[@]}" wait "$POSTFIX_MAILDIR" big4@example.test 1 15 >/dev/null &&
        [[ $("${MAILCHECK[@]}" count "$POSTFIX_MAILDIR" big6@example.test) == 0 ]] && echo 1 || echo 0)" \
    "3 MB over IPv6: $(tail -n 1 <<<"$out6" | cut -c1-60)… ($maxdata); over IPv4: delivered" \
    "IPv6: $(tail -n 1 <<<"$out6"); IPv4: $(tail -n 1 <<<"$out4"); alert '${maxdata:-none}'"

# ---------------------------------------------------------------------------------------------
step "A3. the IPv6 access list with real connections"
refused() {     # NAME NS ADDR PORT: a timeout, counted by the list's implicit deny
    local denied answer
    denied=$(counter6 mangle 'V6-OUTSIDE-IN: implicit deny')
    answer=$(probe "$2" tcp "$3" "$4")
    verdict "$1" "$([[ "$answer" == timeout && $(counter6 mangle 'V6-OUTSIDE-IN: implicit deny') -gt $denied ]] && echo 1 || echo 0)" \
        "[$3]:$4 from $2: refused by V6-OUTSIDE-IN's implicit deny" "got '$answer'"
}
refused a3-server-80-refused client "$LAB_SERVER_IP6" 80
refused a3-inside-25-refused client "$LAB_INSIDE_IP6" 25
refused a3-unsolicited-refused client "$LAB_INSIDE_IP6" 8080
rc=0; lab_exec client ping -6 -n -q -c 1 -W 2 "$LAB_ROUTER_EXT_IP6" >/dev/null 2>&1 || rc=$?
verdict a3-ping-router "$((rc == 0))" "ping [$LAB_ROUTER_EXT_IP6] answered (permit icmp any host … echo-request)" "ping exit $rc"
rc=0; lab_exec client ping -6 -n -q -c 1 -W 1 "$LAB_SERVER_IP6" >/dev/null 2>&1 || rc=$?
verdict a3-ping-server-denied "$((rc != 0))" "ping [$LAB_SERVER_IP6] unanswered (echo-request only to the router)" "answered"
answer=$(probe inside tcp "$LAB_CLIENT_IP6" 8000)
verdict a3-inside-tcp-out "$([[ "$answer" == "peer $LAB_INSIDE_IP6 "* ]] && echo 1 || echo 0)" \
    "inside -> [$LAB_CLIENT_IP6]:8000: reply through the list (ipv6 inspect V6-IN-OUT tcp): $answer" "got '$answer'"
answer=$(probe inside udp "$LAB_CLIENT_IP6" 9000)
verdict a3-inside-udp-out "$([[ "$answer" == "peer $LAB_INSIDE_IP6 "* ]] && echo 1 || echo 0)" \
    "inside -> [$LAB_CLIENT_IP6]:9000/udp: reply (udp inspected): $answer" "got '$answer'"
rc=0; lab_exec inside ping -6 -n -q -c 1 -W 2 "$LAB_CLIENT_IP6" >/dev/null 2>&1 || rc=$?
verdict a3-inside-ping-out "$((rc == 0))" "ping from inside to [$LAB_CLIENT_IP6] answered (icmp inspected)" "ping exit $rc"
SPOOF=2001:db8:10:10::99
lab_exec client ip -6 addr add "$SPOOF/128" dev "$LAB_HOST_IF" nodad
spoofed0=$(counter6 raw 'SI-SPOOF-ext0 -s 2001:db8:10:10::/64')
lab_capture_start server "$LAB_HOST_IF" "$LAB_DIR/spoof.pcap" ip6 and src "$SPOOF" || true
cap=$LAB_LAST_PID
answer=$(probe client tcp "$LAB_SERVER_IP6" 25 "$SPOOF")
lab_capture_stop "$cap"
seen=$(tcpdump -n -r "$LAB_DIR/spoof.pcap" 2>/dev/null | wc -l)
spoofed=$(($(counter6 raw 'SI-SPOOF-ext0 -s 2001:db8:10:10::/64') - spoofed0))
verdict a3-anti-spoofing "$([[ "$answer" == timeout && $spoofed -gt 0 && $seen == 0 ]] && echo 1 || echo 0)" \
    "SYNs from [$SPOOF] (the inside prefix) on ext0: $spoofed dropped by SI-SPOOF-ext0, $seen at the server" \
    "answer '$answer', dropped $spoofed, at the server $seen"
lab_exec client ip -6 addr del "$SPOOF/128" dev "$LAB_HOST_IF"

# ---------------------------------------------------------------------------------------------
step "A4. IOS's pitfall: an explicit deny before the implicit neighbour-discovery permits"
DARK=$LAB_DIR/17-dark.cfg
awk '{ print } /^ permit icmp any host 2001:DB8:22:1::16 echo-request$/ { print " deny ipv6 any any log" }' "$CFG17" >"$DARK"
lab_exec router "$BIN" check --config "$DARK" >"$LAB_DIR/dark.check" 2>/dev/null
warned=$(grep -m1 'denies neighbour discovery (nd-na, nd-ns)' "$LAB_DIR/dark.check" | sed 's/^ *//')
lab_kill "$DAEMON_PID" 5 >/dev/null 2>&1 || true
CFG=$DARK
dt_rules_apply || abort dark-rules "setup-iptables.sh apply of the explicit deny"
daemon_start || abort dark-daemon "the daemon did not start"
flush_neighbours
denied0=$(counter6 mangle 'V6-OUTSIDE-IN: deny ipv6 any any log')
answer=$(probe client tcp "$LAB_SERVER_IP6" 25)
denied=$(($(counter6 mangle 'V6-OUTSIDE-IN: deny ipv6 any any log') - denied0))
answer4=$(lab_exec client timeout 10 "${DS[@]}" mail "$LAB_SERVER_NAT_IP" --to dark4@example.test --size 1000 2>&1 | tail -n 1)
verdict a4-explicit-deny-darkens-ipv6 "$([[ -n "$warned" && "$answer" != peer* && $denied -gt 0 && "$answer4" == "RESULT ok"* ]] && echo 1 || echo 0)" \
    "check: \"$warned\"; client -> [$LAB_SERVER_IP6]:25 after a cache flush: $answer ($denied packets, its neighbour solicitations, denied); IPv4 mail still delivered" \
    "warning '${warned:-none}', answer '$answer', denied $denied, IPv4: $answer4"
lab_kill "$DAEMON_PID" 5 >/dev/null 2>&1 || true

# ---------------------------------------------------------------------------------------------
step "A5. remove: both families as before"
lab_exec router "$SETUP" remove >"$LAB_DIR/remove.out" 2>&1 || fail a5-remove "$(tail -n 3 "$LAB_DIR/remove.out")"
ok=1 why=""
cmp -s "$LAB_DIR/before4" <(save_norm iptables-save) || { ok=0; why+="iptables-save: $(diff "$LAB_DIR/before4" <(save_norm iptables-save) | head -n 4 | tr '\n' '|') "; }
cmp -s "$LAB_DIR/before6" <(save_norm ip6tables-save) || { ok=0; why+="ip6tables-save: $(diff "$LAB_DIR/before6" <(save_norm ip6tables-save) | head -n 4 | tr '\n' '|')"; }
verdict a5-remove-restores-both "$ok" "iptables-save ($(grep -c '^-A' "$LAB_DIR/before4") rules) and ip6tables-save ($(grep -c '^-A' "$LAB_DIR/before6") rules, a user chain) read as before apply" "$why"

# ---------------------------------------------------------------------------------------------
step "B. the seed speaks of IPv4 only: its IPv6 SMTP is inspected all the same"
gap=$(lab_exec router "$BIN" check --config "$SEED" 2>/dev/null | grep -m1 'IPv6 SMTP entering through it is inspected' | sed 's/^ *//')
verdict b-check-warns "$([[ "$gap" == "84 warning"*"OUT-IN inspects smtp over IPv4 only on Ethernet2/0"* ]] && echo 1 || echo 0)" "$gap" "no warning"
run_daemon "$SEED" --interface "Ethernet2/0=$LAB_EXT_IF" --interface "Ethernet2/1=$LAB_INT_IF"
# A4 denied neighbour discovery: entries it left FAILED would answer the first connect with
# EHOSTUNREACH ("No route to host", seen once in the full suite) until the kernel probes again.
flush_neighbours
mark=$(maillog_mark) dmark=$(derr_mark)
out=$(lab_exec client timeout 30 "${DS[@]}" mail "$LAB_SERVER_IP6" --to b-v6@example.test --body "$BODY" --expn 2>&1)
chat=$(chat6 "$mark")
line=$(masked_line "$chat" "EXPN root" || true)
alert=$(derr_since "$dmark" | grep -m1 "Invalid SMTP command (EXPN).* from initiator (\[$LAB_CLIENT_IP6\]:" | msg)
verdict b-ipv6-inspected "$([[ "$out" == *"RESULT ok"* && -n "$line" && -n "$alert" ]] && ! grep -q EXPN <<<"$chat" && delivered_same b-v6@example.test && echo 1 || echo 0)" \
    "to [$LAB_SERVER_IP6]:25 with the seed's rules: Postfix read \`$line\`; $alert; delivered byte-identical" \
    "client: $(tail -n 1 <<<"$out"); Postfix read $(tr '\n' '|' <<<"$chat"); alert '${alert:-none}'"
lab_spawn client "$LAB_DIR/hold-b.log" "${DS[@]}" hold "$LAB_SERVER_IP6" --go "$LAB_DIR/go-b"
hb=$LAB_LAST_PID
lab_wait_until 15 grep -q '^HOLD' "$LAB_DIR/hold-b.log" || true
pb=$(sed -n 's/^HOLD port=//p' "$LAB_DIR/hold-b.log")
ctl show ip inspect sessions detail
sb=$(grep -A4 -F " ([$LAB_CLIENT_IP6]:$pb)=>([$LAB_SERVER_IP6]:25) smtp SIS_OPEN" <<<"$CTL_OUT" || true)
verdict b-sessions-ipv6 "$([[ -n "$pb" ]] && grep -q "Inspection rule OUT-IN, SMTP" <<<"$sb" && echo 1 || echo 0)" \
    "$(head -n 1 <<<"$sb" | sed 's/^ *//'); $(grep -o 'Inspection rule [^,]*' <<<"$sb")" "detail: $(tr '\n' '|' <<<"$CTL_OUT")"
touch "$LAB_DIR/go-b"
lab_kill "$hb" 5 >/dev/null 2>&1 || true

# The IPv4 suites' sessions, over IPv6: pipelined commands, a session typed a byte at a time.
mark=$(maillog_mark)
out=$(lab_exec client timeout 30 "${DS[@]}" pipeline "$LAB_SERVER_IP6" --to b-pipe6@example.test 2>&1)
chat=$(chat6 "$mark")
line=$(masked_line "$chat" "EXPN root" || true)
verdict b-ipv6-pipelined "$([[ "$out" == *"RESULT ok"* && -n "$line" ]] && ! grep -q EXPN <<<"$chat" &&
        "${MAILCHECK[@]}" wait "$POSTFIX_MAILDIR" b-pipe6@example.test 1 15 >/dev/null && echo 1 || echo 0)" \
    "MAIL RCPT EXPN RCPT DATA in one segment over IPv6: $(grep -o 'replies [^;]*' <<<"$out"); Postfix read \`$line\` in their midst; delivered" \
    "client: $(tail -n 1 <<<"$out"); Postfix read $(tr '\n' '|' <<<"$chat")"
mark=$(maillog_mark)
out=$(lab_exec client timeout 60 "${DS[@]}" typed "$LAB_SERVER_IP6" --to b-typed6@example.test --expn 2>&1)
chat=$(chat6 "$mark")
line=$(masked_line "$chat" "EXPN root" || true)
verdict b-ipv6-typed "$([[ "$out" == *"RESULT ok"* && -n "$line" ]] && grep -qx "MAIL FROM:<ds@client.test>" <<<"$chat" &&
        "${MAILCHECK[@]}" wait "$POSTFIX_MAILDIR" b-typed6@example.test 1 15 >/dev/null && echo 1 || echo 0)" \
    "typed one byte a segment over IPv6: $(grep -o '[0-9]* one-byte sends' <<<"$out"); legal lines passed whole, EXPN reached Postfix as \`$line\`; delivered" \
    "client: $(tail -n 1 <<<"$out"); Postfix read $(tr '\n' '|' <<<"$chat")"

# A daemon killed and started again: the IPv6 session it held is reset on its next packet (its
# SMTP state died with the old process), and a new IPv6 session is inspected again.
lab_spawn client "$LAB_DIR/hold-r.log" "${DS[@]}" hold "$LAB_SERVER_IP6" --go "$LAB_DIR/go-r" --after rcpt --to b-r@example.test
hr=$LAB_LAST_PID
lab_wait_until 15 grep -q '^HOLD' "$LAB_DIR/hold-r.log" || true
pr=$(sed -n 's/^HOLD port=//p' "$LAB_DIR/hold-r.log")
lab_kill "$DAEMON_PID" 2 KILL >/dev/null 2>&1 || true
daemon_start || abort b-restart "the daemon did not start again"
dmark=$(derr_mark)
touch "$LAB_DIR/go-r"
lab_wait_until 15 grep -q '^OUTCOME' "$LAB_DIR/hold-r.log" || true
outcome=$(sed -n 's/^OUTCOME //p' "$LAB_DIR/hold-r.log")
drop=$(derr_since "$dmark" | grep -m1 "DROP_PKT: Dropping tcp pkt \[$LAB_CLIENT_IP6\]:$pr => \[$LAB_SERVER_IP6\]:25" | msg)
lab_kill "$hr" 5 >/dev/null 2>&1 || true
mark=$(maillog_mark)
out=$(lab_exec client timeout 30 "${DS[@]}" mail "$LAB_SERVER_IP6" --to b-after@example.test --size 2000 --expn 2>&1)
line=$(masked_line "$(chat6 "$mark")" "EXPN root" || true)
verdict b-ipv6-restart "$([[ -n "$pr" && ( "$outcome" == reset || "$outcome" == eof ) && -n "$drop" && "$out" == *"RESULT ok"* && -n "$line" ]] && echo 1 || echo 0)" \
    "SIGKILL and start: the held IPv6 session (port $pr) got '$outcome' on its next command ($drop); a new one is inspected (\`$line\`)" \
    "port '${pr:-none}', outcome '${outcome:-none}', alert '${drop:-none}', new session: $(tail -n 1 <<<"$out"), masked '${line:-none}'"

lab_kill "$DAEMON_PID" 5 >/dev/null 2>&1 || true
lab_exec router conntrack -F >/dev/null 2>&1 || true
q0=$(counter6 mangle 'smtp/esmtp inspection by smtp-inspect')
lab_capture_start server "$LAB_HOST_IF" "$LAB_DIR/closed.pcap" ip6 and tcp port 25 || true
cap=$LAB_LAST_PID
mark=$(maillog_mark)
answer=$(probe client tcp "$LAB_SERVER_IP6" 25)
lab_capture_stop "$cap"
seen=$(tcpdump -n -r "$LAB_DIR/closed.pcap" 2>/dev/null | wc -l)
queued6=$(($(counter6 mangle 'smtp/esmtp inspection by smtp-inspect') - q0))
verdict b-fail-closed-ipv6 "$([[ "$answer" == timeout && $queued6 -gt 0 && $seen == 0 && -z "$(chat6 "$mark")" ]] && echo 1 || echo 0)" \
    "no daemon, no bypass: [$LAB_SERVER_IP6]:25 timed out; $queued6 SYNs met NFQUEUE, $seen packets at the server, nothing in Postfix's log" \
    "answer '$answer', queued $queued6, at the server $seen"
lab_exec router "$SETUP" remove >/dev/null 2>&1 || true

# ---------------------------------------------------------------------------------------------
step "C. one transaction: the IPv6 half fails, IPv4 stays as it was"
CFG=$SEED
MAP=(--interface "Ethernet2/0=$LAB_EXT_IF" --interface "Ethernet2/1=$LAB_INT_IF")
lab_exec router "$SETUP" apply --config "$SEED" "${MAP[@]}" --queue "$Q" --queue-bypass --binary "$BIN" >/dev/null 2>&1 ||
    abort c-earlier "the earlier set (with --queue-bypass) did not apply"
save_norm iptables-save >"$LAB_DIR/earlier4"
save_norm ip6tables-save >"$LAB_DIR/earlier6"
addresses=$(lab_exec router ip -o addr show dev "$LAB_EXT_IF" | awk '{ print $4 }' | sort | tr '\n' ' ')
forward=$(lab_exec router sysctl -n net.ipv4.ip_forward)
FAKE=$LAB_DIR/fake
mkdir -p "$FAKE"
cat >"$FAKE/ip6tables-restore" <<EOF
#!/bin/bash
# passes --test to the real one, fails the real load
for a in "\$@"; do [[ "\$a" == --test ]] && exec $(command -v ip6tables-restore) "\$@"; done
cat >/dev/null; echo "ip6tables-restore: line 5 failed (injected by dual-stack.sh)" >&2; exit 1
EOF
chmod +x "$FAKE/ip6tables-restore"
rc=0
lab_exec router env PATH="$FAKE:$PATH" "$SETUP" apply --config "$CFG17" "${MAP17[@]}" --queue "$Q" --binary "$BIN" \
    >"$LAB_DIR/failed.out" 2>&1 || rc=$?
ok=1 why=""
((rc == 1)) || { ok=0; why+="exit $rc; "; }
grep -q "ip6tables-restore failed on the IPv6 rule set" "$LAB_DIR/failed.out" || { ok=0; why+="no message; "; }
cmp -s "$LAB_DIR/earlier4" <(save_norm iptables-save) || { ok=0; why+="iptables-save changed: $(diff "$LAB_DIR/earlier4" <(save_norm iptables-save) | head -n 4 | tr '\n' '|') "; }
cmp -s "$LAB_DIR/earlier6" <(save_norm ip6tables-save) || { ok=0; why+="ip6tables-save changed "; }
[[ "$(lab_exec router ip -o addr show dev "$LAB_EXT_IF" | awk '{ print $4 }' | sort | tr '\n' ' ')" == "$addresses" ]] || { ok=0; why+="addresses changed; "; }
[[ "$(lab_exec router sysctl -n net.ipv4.ip_forward)" == "$forward" ]] || { ok=0; why+="ip_forward changed; "; }
verdict c-failed-ipv6-leaves-ipv4 "$ok" \
    "apply of 17 over the seed's set, ip6tables-restore failing: exit 1, \"$(grep -m1 'put back' "$LAB_DIR/failed.out" | sed 's/^setup-iptables: //')\"; both saves, addresses and ip_forward as before" \
    "$why$(tr '\n' '|' <"$LAB_DIR/failed.out" | tail -c 300)"
lab_exec router "$SETUP" remove >/dev/null 2>&1 || true
cmp -s "$LAB_DIR/before4" <(save_norm iptables-save) && cmp -s "$LAB_DIR/before6" <(save_norm ip6tables-save)
verdict c-remove-after "$(( $? == 0 ))" "remove after the failed apply: both saves as at the start" "differs"

summary
((${#FAILED[@]} == 0))
