#!/usr/bin/env bash
# shellcheck disable=SC2119  # lab functions with optional arguments called without any
# Tests/e2e/real-configs.sh: configurations as operators paste them (Tests/configs/corpus), their
# rules loaded by the kernel, and three of them running in the lab with Postfix behind the router
# and smtp-inspect inspecting. As root:
#
#   Tests/e2e/real-configs.sh        # builds into .build-daemontests unless SMTP_INSPECT_BIN=PATH
#
# 1. every corpus configuration: `smtp-inspect rules --family ipv4|ipv6` with its map (for `auto`,
#    in a throwaway namespace with interfaces holding the map's addresses) equals its goldens
#    (NAME.rules.txt, NAME.rules6.txt), passes `iptables-restore --test` / `ip6tables-restore
#    --test` and loads for real (timeout policies, inet and inet6, created with nfct first);
# 2. (a) a dialer-style outside interface (14-c887-pppoe-pat-port-forward: Dialer1=ext0 with
#    `ip address negotiated`, Vlan1=int0): mail from outside to the router's own address 172.22.1.16
#    goes through `static tcp 10.10.10.2 25 interface Dialer1 25` to Postfix, EXPN masked and
#    alerted, `show ip inspect sessions detail` names the global endpoint; the inside host reaches
#    the outside through PAT (the client sees 172.22.1.16) and gets replies for an inspected
#    protocol (tcp) only: its UDP gets no answer; unsolicited connections are refused;
# 3. (b) named extended list with an object group, `--interface auto` (15-technote-named-acl-15.0):
#    the seed's behaviour: mail to 172.22.1.110 delivered with EXPN masked, 172.22.1.110:80 and
#    172.22.1.111:25 refused by the list, the inside host reaches the outside;
# 4. (c) `ip inspect name IN-OUT udp timeout 45`: conntrack's timeout of an inside UDP session is
#    at most 45 s (Linux would give 30 unreplied, 120 replied);
# 5. anti-spoofing: SYNs from the client namespace with source 10.10.10.2 (the server's own
#    address) and 172.22.1.110 (its global one) reach neither the server nor the queue; the
#    SI-SPOOF-ext0 rules count them;
# 6. fragments: an SMTP command sent from the client in two IP fragments is answered (conntrack
#    reassembles before the queue), the raw fragment guard counts nothing, the daemon lives;
#    `setup-iptables.sh remove` takes the timeout policies away with the rules.
# Every check prints PASS or FAIL; exit status 1 if any failed. Everything is removed on exit.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/lab.sh
source "$ROOT/scripts/lib/lab.sh"
# shellcheck source=Tests/e2e/daemon/common.sh
source "$ROOT/Tests/e2e/daemon/common.sh"

CORPUS=$ROOT/Tests/configs/corpus
HERE=$ROOT/Tests/e2e/configs
PROBE=("$PY" "$E2E_LIB/netprobe.py")
WAIT=2          # seconds a connection that must fail is given

dt_preflight
e2e_require nfct unshare iptables-restore conntrack tcpdump
dt_binary

# map_args NAME: the --interface arguments of NAME.map (pairs and `auto`; not its host lines).
map_args() {
    local line
    while IFS= read -r line; do
        [[ -z "$line" || "$line" == host\ * || "$line" == host6\ * ]] && continue
        printf -- '--interface\n%s\n' "$line"
    done <"$CORPUS/$1.map"
}

# ---------------------------------------------------------------------------------------------
step "1. every corpus configuration: rules equal the golden and load into a namespace"
lab_up || abort setup "lab_up"
LOADER=$LAB_DIR/load.sh
cat >"$LOADER" <<'EOF'
# In a throwaway network namespace: interfaces (veth, this kernel has no dummy) for the map's
# `host` lines, the rules, iptables-restore --test, the timeout policies, the real load. Prints
# one line: what failed, or OK.
set -u
bin=$1 cfg=$2 map=$3 golden=$4 out=$5; shift 5
n=0
while read -r word dev cidr; do
    [[ ("$word" == host || "$word" == host6) && "$dev" != lo ]] || continue
    if ! ip link show dev "$dev" >/dev/null 2>&1; then
        n=$((n + 1))
        ip link add "$dev" type veth peer name "sipeer$n" && ip link set "$dev" up || { echo "interface $dev"; exit 1; }
    fi
    if [[ "$word" == host6 ]]; then ip -6 addr add "$cidr" dev "$dev" nodad; else ip addr add "$cidr" dev "$dev"; fi ||
        { echo "address $cidr on $dev"; exit 1; }
done <"$map"
n=0
for family in ipv4 ipv6; do
    suffix='' restore=iptables-restore l3=inet keyword=timeout
    [[ $family == ipv6 ]] && suffix=6 restore=ip6tables-restore l3=inet6 keyword=timeout6
    expected=${golden%.rules.txt}.rules$suffix.txt
    "$bin" rules --config "$cfg" "$@" --family $family >"$out$suffix" 2>"$out.err" || { echo "rules --family $family exit $?: $(head -n 3 "$out.err")"; exit 1; }
    cmp -s "$out$suffix" "$expected" || { echo "differs from $(basename "$expected"): $(diff "$expected" "$out$suffix" | head -n 4 | tr '\n' '|')"; exit 1; }
    $restore --test --noflush <"$out$suffix" 2>"$out.err" || { echo "$restore --test: $(head -n 2 "$out.err")"; exit 1; }
    grep "^# SETUP $keyword " "$out$suffix" | while read -r _ _ _ name policy; do
        # shellcheck disable=SC2086  # the policy's words
        nfct add timeout "$name" $l3 $policy || exit 1
    done || { echo "nfct add timeout ($l3) failed"; exit 1; }
    $restore --noflush <"$out$suffix" 2>"$out.err" || { echo "$restore: $(head -n 2 "$out.err")"; exit 1; }
    n=$((n + $(grep -c '^-A' "$out$suffix")))
done
echo "OK $n rules (IPv4 and IPv6)"
EOF
for cfg in "$CORPUS"/*.cfg; do
    name=$(basename "$cfg" .cfg)
    mapfile -t args < <(map_args "$name")
    result=$(unshare --net bash "$LOADER" "$BIN" "$cfg" "$CORPUS/$name.map" "$CORPUS/$name.rules.txt" \
        "$LAB_DIR/$name.rules" "${args[@]}" 2>&1 | tail -n 1)
    verdict "load $name" "$([[ "$result" == OK* ]] && echo 1 || echo 0)" "$result (${args[*]})" "$result"
done

# ---------------------------------------------------------------------------------------------
postfix_up "debug_peer_list = $LAB_CLIENT_IP" || abort setup "postfix_up"
note "Postfix on $LAB_SERVER_IP:25 logs the commands of $LAB_CLIENT_IP (debug_peer_list)"

# The deny counters of a chain in a table of the router (packets, summed).
counter() {
    lab_exec router iptables-save -c -t "$1" |
        awk -v re="$2" '$0 ~ re { gsub(/[][]/, "", $1); split($1, c, ":"); n += c[1] } END { print n + 0 }'
}
listen() {      # NS tcp|udp ADDR PORT
    lab_spawn "$1" "$LAB_DIR/listen-$1-$2-$4.log" "${PROBE[@]}" serve "$2" "$3" "$4"
    lab_wait_until 10 grep -q listening "$LAB_DIR/listen-$1-$2-$4.log" || abort setup "no $2 listener on $3:$4 in $1"
}
probe() { lab_exec "$1" timeout $((WAIT + 3)) "${PROBE[@]}" probe "$2" "$3" "$4" "$WAIT" 2>&1 || true; }
queued() { lab_nfq_stats "$Q" | awk '{ print $8 }'; }

# run_config NAME MAP...: the configuration's rules applied by setup-iptables.sh, the daemon on it.
run_config() {
    CFG=$CORPUS/$1.cfg
    shift
    MAP=("$@")
    dt_rules_apply || abort "$(basename "$CFG") rules" "setup-iptables.sh apply failed"
    daemon_start || abort "$(basename "$CFG") daemon" "the daemon did not start"
    note "$(basename "$CFG"): rules applied, daemon up ($(grep -m1 'inspecting queue' "$DERR" | msg))"
}
stop_config() {
    lab_kill "$DAEMON_PID" 5 >/dev/null 2>&1 || true
    lab_exec router "$SETUP" remove >/dev/null 2>&1 || true
}

# mail_with_expn HOST TO: smtpc's expn session to HOST:25; checks delivery, the masked EXPN in
# Postfix's log and the alert. Sets EXPN_OK.
mail_with_expn() {
    local host=$1 to=$2 mark dmark out chat line
    mark=$(maillog_mark) dmark=$(derr_mark)
    out=$(lab_exec client timeout 30 "${SMTPC[@]}" expn --host "$host" --to "$to" --subject "real-configs" 2>&1)
    wait_delivered "$to" 1 15 || true
    chat=$(chat_since "$mark")
    line=$(masked_line "$chat" "EXPN root" || true)
    EXPN_OK=0
    [[ "$out" == *"RESULT ok"* && $(delivered_to "$to") -ge 1 && -n "$line" ]] &&
        derr_since "$dmark" | grep -q "SMTP_INVALID_COMMAND: Invalid SMTP command (EXPN)" && EXPN_OK=1
    EXPN_INFO="delivered to $to; Postfix read \`$line\`; alert: $(derr_since "$dmark" | grep -m1 "SMTP_INVALID_COMMAND: Invalid SMTP command (EXPN)" | msg)"
    EXPN_WHY="client: $(tail -n 1 <<<"$out"); delivered $(delivered_to "$to"); masked line '${line:-none}'"
}

# ---------------------------------------------------------------------------------------------
step "2. (a) dialer-style outside interface: PAT and a port 25 forward (14-c887-pppoe-pat-port-forward)"
listen client tcp "$LAB_CLIENT_IP" 8000
listen client udp "$LAB_CLIENT_IP" 9000
listen inside tcp "$LAB_INSIDE_IP" 8080
run_config 14-c887-pppoe-pat-port-forward --interface "Dialer1=$LAB_EXT_IF" --interface "Vlan1=$LAB_INT_IF"

mail_with_expn "$LAB_ROUTER_EXT_IP" a-forward@example.test
verdict a-port-forward-mail "$EXPN_OK" "to $LAB_ROUTER_EXT_IP:25 (the dialer's own address): $EXPN_INFO" "$EXPN_WHY"

HOLD_LOG=$LAB_DIR/hold-a.log
lab_spawn client "$HOLD_LOG" "${SMTPC[@]}" hold --host "$LAB_ROUTER_EXT_IP" --go "$LAB_DIR/go-a" --to hold@example.test
hold_pid=$LAB_LAST_PID
lab_wait_until 15 grep -q '^HOLD' "$HOLD_LOG" || true
port=$(sed -n 's/^HOLD port=\([0-9]*\).*/\1/p' "$HOLD_LOG")
sleep 0.3
ctl show ip inspect sessions detail
alias_line="  Responder ($LAB_SERVER_IP:25) is ($LAB_ROUTER_EXT_IP:25) before NAT"
verdict a-sessions-name-global "$(grep -qxF "$alias_line" <<<"$CTL_OUT" && [[ -n "$port" ]] && echo 1 || echo 0)" \
    "session from port $port: \"${alias_line# }\"" "port '${port:-none}', detail: $(tr '\n' '|' <<<"$CTL_OUT")"
touch "$LAB_DIR/go-a"
lab_kill "$hold_pid" 5 >/dev/null 2>&1 || true

answer=$(probe inside tcp "$LAB_CLIENT_IP" 8000)
verdict a-pat-out "$([[ "$answer" == "peer $LAB_ROUTER_EXT_IP:"* ]] && echo 1 || echo 0)" \
    "inside -> $LAB_CLIENT_IP:8000 (tcp, inspected): the client saw $answer" "got '$answer'"
denied=$(counter mangle 'OUTSIDE-IN: deny ip any any')
answer=$(probe inside udp "$LAB_CLIENT_IP" 9000)
verdict a-uninspected-reply-refused "$([[ "$answer" == timeout && $(counter mangle 'OUTSIDE-IN: deny ip any any') -gt $denied ]] && echo 1 || echo 0)" \
    "inside -> $LAB_CLIENT_IP:9000 (udp, not inspected by LAN): the answer was refused by OUTSIDE-IN" "got '$answer'"
answer=$(probe client tcp "$LAB_ROUTER_EXT_IP" 8080)
verdict a-unsolicited-refused "$([[ "$answer" == timeout ]] && echo 1 || echo 0)" \
    "client -> $LAB_ROUTER_EXT_IP:8080 (no forward): refused" "got '$answer'"
stop_config

# ---------------------------------------------------------------------------------------------
step "3. (b) named list with an object group, --interface auto (15-technote-named-acl-15.0)"
listen server tcp "$LAB_SERVER_IP" 80
listen inside tcp "$LAB_INSIDE_IP" 25
run_config 15-technote-named-acl-15.0 --interface auto
lab_exec router "$BIN" rules --config "$CFG" --interface auto >"$LAB_DIR/auto.rules" 2>/dev/null
map_line=$(sed -n 's/^# interfaces: //p' "$LAB_DIR/auto.rules")
verdict b-auto-map "$([[ "$map_line" == "Ethernet2/0=$LAB_EXT_IF Ethernet2/1=$LAB_INT_IF (--interface auto: by address);"* ]] && echo 1 || echo 0)" \
    "rules header: $map_line" "header '${map_line:-none}'"

mail_with_expn "$LAB_SERVER_NAT_IP" b-named@example.test
verdict b-mail "$EXPN_OK" "to $LAB_SERVER_NAT_IP:25: $EXPN_INFO" "$EXPN_WHY"
for target in "server $LAB_SERVER_NAT_IP 80" "inside $LAB_INSIDE_NAT_IP 25"; do
    read -r _ addr port <<<"$target"
    denied=$(counter mangle 'OUTSIDE-IN: implicit deny')
    answer=$(probe client tcp "$addr" "$port")
    verdict "b-refused-$addr-$port" "$([[ "$answer" == timeout && $(counter mangle 'OUTSIDE-IN: implicit deny') -gt $denied ]] && echo 1 || echo 0)" \
        "client -> $addr:$port refused by OUTSIDE-IN's implicit deny" "got '$answer'"
done
answer=$(probe inside tcp "$LAB_CLIENT_IP" 8000)
verdict b-inside-out "$([[ "$answer" == "peer $LAB_INSIDE_NAT_IP:"* ]] && echo 1 || echo 0)" \
    "inside -> $LAB_CLIENT_IP:8000: the client saw $answer" "got '$answer'"

# ---------------------------------------------------------------------------------------------
step "4. (c) udp timeout 45 is conntrack's timeout of the session"
lab_exec router conntrack -F >/dev/null 2>&1 || true   # no entry of step 2's configuration is left
lab_exec inside "${PROBE[@]}" send udp "$LAB_CLIENT_IP" 9999 >/dev/null
unreplied=$(lab_exec router conntrack -L -p udp --dport 9999 2>/dev/null | awk '{ print $3; exit }')
answer=$(probe inside udp "$LAB_CLIENT_IP" 9000)
replied=$(lab_exec router conntrack -L -p udp --dport 9000 2>/dev/null | awk '{ print $3; exit }')
ok=$([[ -n "$unreplied" && "$unreplied" -le 45 && "$unreplied" -gt 30 && "$answer" == peer* && -n "$replied" \
        && "$replied" -le 45 && "$replied" -gt 30 ]] && echo 1 || echo 0)
verdict c-udp-timeout "$ok" "conntrack: unreplied UDP session ${unreplied}s, answered one ${replied}s left (policy si-udp-45; Linux: 30 and 120)" \
    "unreplied '${unreplied:-none}', replied '${replied:-none}', answer '$answer'"

# ---------------------------------------------------------------------------------------------
step "5. anti-spoofing: the server's addresses as sources on the outside"
lab_capture_start server eth0 "$LAB_DIR/spoof.pcap" "src host $LAB_SERVER_IP and tcp dst port 25" >/dev/null
cap_pid=$LAB_LAST_PID
spoofed_before=$(counter raw 'SI-SPOOF-ext0')
queued_before=$(queued)
for src in "$LAB_SERVER_IP" "$LAB_SERVER_NAT_IP"; do
    lab_exec client "$PY" "$DT_HERE/synflood.py" --src "$src" --dst "$LAB_SERVER_NAT_IP" --port 25 --count 3 --rate 20 >/dev/null 2>&1
done
sleep 1
lab_capture_stop "$cap_pid" >/dev/null 2>&1
seen=$(tcpdump -nr "$LAB_DIR/spoof.pcap" 2>/dev/null | wc -l)
dropped=$(($(counter raw 'SI-SPOOF-ext0') - spoofed_before))
queued_now=$(($(queued) - queued_before))
verdict spoofed-sources-dropped "$([[ "$seen" == 0 && "$dropped" -ge 6 && "$queued_now" == 0 ]] && echo 1 || echo 0)" \
    "6 SYNs from $LAB_SERVER_IP and $LAB_SERVER_NAT_IP via $LAB_EXT_IF: $dropped dropped by SI-SPOOF-ext0, 0 at the server, 0 queued" \
    "server saw $seen, SI-SPOOF-ext0 counted $dropped, queue took $queued_now"

# ---------------------------------------------------------------------------------------------
step "6. fragments: an SMTP command in two IP fragments"
sport=40025
lab_exec client iptables -A OUTPUT -p tcp --sport "$sport" --tcp-flags RST RST -j DROP
lab_capture_start router "$LAB_EXT_IF" "$LAB_DIR/frag.pcap" "ip[6:2] & 0x3fff != 0" >/dev/null
cap_pid=$LAB_LAST_PID
guard_before=$(counter raw 'never to the queue')
out=$(lab_exec client timeout 30 "$PY" "$HERE/fragsmtp.py" --src "$LAB_CLIENT_IP" --dst "$LAB_SERVER_NAT_IP" --sport "$sport" 2>&1)
sleep 0.5
lab_capture_stop "$cap_pid" >/dev/null 2>&1
fragments=$(tcpdump -nr "$LAB_DIR/frag.pcap" 2>/dev/null | wc -l)
guard=$(($(counter raw 'never to the queue') - guard_before))
ok=$([[ "$out" == *"RESULT ok 250"* && "$fragments" -ge 2 && "$guard" == 0 ]] && daemon_alive && echo 1 || echo 0)
verdict fragmented-smtp-flows "$ok" "$(grep -m1 '^RESULT' <<<"$out"); $fragments fragments reached $LAB_EXT_IF, the guard dropped none" \
    "client: $(tr '\n' '|' <<<"$out"); fragments $fragments, guard $guard"

policies=$(lab_exec router nfct list timeout 2>/dev/null | grep -c '^\.si-' || true)
stop_config
left=$(lab_exec router nfct list timeout 2>/dev/null | grep -c '^\.si-' || true)
chains=$(lab_exec router iptables-save | grep -c '^:SI-' || true)
verdict remove-takes-the-policies "$([[ "$policies" -ge 1 && "$left" == 0 && "$chains" == 0 ]] && echo 1 || echo 0)" \
    "setup-iptables.sh remove: $policies timeout policy gone with the rules" "policies before $policies, after $left; SI- chains left $chains"

finish
