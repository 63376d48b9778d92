#!/usr/bin/env bash
# shellcheck disable=SC2119  # lab functions with optional arguments called without any
# Tests/e2e/attacks.sh: raw-packet attacks on smtp-inspect (issue 10, "Hardening"), judged by what
# the SERVER read, never by what the inspector says. As root:
#
#   Tests/e2e/attacks.sh                       # everything (~10 min + build)
#   Tests/e2e/attacks.sh 'urg-*' forge-354     # only these cases (names or classes, globs)
#   ATTACKS_MODES=plain4 ATTACKS_SERVERS=rec Tests/e2e/attacks.sh frag   # one cell of the matrix
#
# A scapy attacker in the client namespace (attacks/tcpraw.py: its own TCP connections, the client
# kernel's RSTs for them dropped by an OUTPUT rule) runs each attack of attacks/cases.py: TCP
# urgent data, RST/SYN games, bad checksums, IP fragments, data on the SYN, packets forged with the
# server's address from the outside, overlapping held segments. Each tries to have the server read
# `EXPN root` as a command. The server is the recording server (attacks/recserver.py: its log
# holds every byte its application read and every line it took as a command) or the lab's Postfix
# (debug_peer_list: every command line smtpd read is in the maillog). A case FAILs if the server
# read EXPN as a command, or if a session that a fixed inspector must keep alive (cases.CASES)
# died. Then the legitimate sessions: an in-window RST the server ignores (legit-inwindow-rst), a
# fragmented session through the generated rules (legit-fragmented), a burst of 20 parallel
# smtp-source clients (1000 connections) under IOS's default half-open thresholds (legit-burst), and a soak of
# ATTACKS_SOAK_MESSAGES (10000) messages with hostile-looking bodies, every one delivered
# byte-identical (legit-soak). The burst and the soak run over IPv6 too (gen6, plain6).
#
# The matrix: rule sets x servers.
#   plain4   lab_nfqueue_smtp (FORWARD, TCP/25 both ways to the queue), IPv4, to 10.10.10.2;
#            smtp-inspect run with its built-in esmtp policy and --allow-starttls
#   plain6   the same through ip6tables, IPv6, to 2001:db8:10:10::2 (same daemon)
#   gen4     the seed's generated rules (setup-iptables.sh apply), IPv4, to the NAT address
#            172.22.1.110; smtp-inspect run --config with the seed (policy smtp)
#   gen6     the same rules' IPv6 half, to 2001:db8:10:10::2 (no NAT in IPv6): the seed speaks of
#            IPv4 only, so its IPv6 SMTP is inspected with OUT-IN's smtp (the same daemon)
#
# Environment: ATTACKS_MODES ("plain4 plain6 gen4 gen6"), ATTACKS_SERVERS ("rec postfix"),
# ATTACKS_XFAIL (case names whose failure is known: XFAIL, not counted), ATTACKS_SOAK_MESSAGES,
# ATTACKS_SOAK6_MESSAGES (the soak's IPv6 half, plain6/postfix: 2000),
# ATTACKS_KEEP=DIR (keep logs and the results table there), SMTP_INSPECT_BIN (else a debug build).
# Output: one `ok`/`FAIL` line per case and cell with what the server read, a table, and
# "N passed, N failed"; exit 1 if anything failed. Everything is removed on exit (lab_cleanup).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/Tests/e2e/attacks
# shellcheck source=scripts/lib/lab.sh
source "$ROOT/scripts/lib/lab.sh"
# shellcheck source=Tests/e2e/lib/checks.sh
source "$ROOT/Tests/e2e/lib/checks.sh"

E2E_XFAIL=${ATTACKS_XFAIL:-}    # case names: XFAIL in every cell of the matrix
Q=0
MODES=${ATTACKS_MODES:-plain4 plain6 gen4 gen6}
SERVERS=${ATTACKS_SERVERS:-rec postfix}
SOAK_N=${ATTACKS_SOAK_MESSAGES:-10000}
SOAK6_N=${ATTACKS_SOAK6_MESSAGES:-2000}
SEED=$ROOT/iptables/seed-running-config.txt
MAP=(--interface "Ethernet2/0=$LAB_EXT_IF" --interface "Ethernet2/1=$LAB_INT_IF")
CASES=("$@")
((${#CASES[@]})) || CASES=('*')

e2e_require_root
e2e_require ip iptables ip6tables postfix "$PY"
"$PY" -c 'import scapy.all' 2>/dev/null || { echo "attacks: $PY cannot import scapy: run scripts/deps.sh (python3-scapy)" >&2; exit 2; }
SMTP_SOURCE=$(smtp_source) || { echo "attacks: smtp-source missing: run scripts/deps.sh" >&2; exit 2; }

selected() {    # NAME CLASS: is the case selected by the arguments?
    local p
    for p in "${CASES[@]}"; do
        # shellcheck disable=SC2053  # globs on purpose
        [[ "$1" == $p || "$2" == $p ]] && return 0
    done
    return 1
}

e2e_binary

# ---------------------------------------------------------------------------------------------
# Results: checks.sh's, with the matrix of cases and the logs kept (ATTACKS_KEEP=DIR) first.

e2e_report() {
    if [[ -s "${RESULTS:-}" ]]; then
        echo
        echo "== attacks: EXPN = the server read EXPN as a command; dead = the session did not survive"
        "$PY" - "$RESULTS" <<'EOF'
import sys
rows, cols = {}, []
for line in open(sys.argv[1]):
    label, name, klass, verdict, expn, live = line.rstrip("\n").split("\t")[:6]
    if label not in cols:
        cols.append(label)
    cell = "PASS" if verdict == "ok" else ("EXPN" if expn == "EXPN" else live if live != "alive" else "error")
    if verdict == "XFAIL":
        cell += "(x)"
    rows.setdefault((klass, name), {})[label] = cell
print("%-26s %s" % ("case", " ".join("%-14s" % c for c in cols)))
for (klass, name), cells in rows.items():
    print("%-26s %s" % (name, " ".join("%-14s" % cells.get(c, "-") for c in cols)))
EOF
    fi
    if [[ -n "${ATTACKS_KEEP:-}" && -n "$LAB_DIR" ]]; then
        mkdir -p "$ATTACKS_KEEP" && cp -r "$LAB_DIR"/*.log "$LAB_DIR"/*.tsv "$LAB_DIR"/*.err "$LAB_DIR"/*.pcap "$ATTACKS_KEEP"/ 2>/dev/null || true
        [[ -n "$POSTFIX_MAILLOG" ]] && cp "$POSTFIX_MAILLOG" "$ATTACKS_KEEP"/maillog 2>/dev/null || true
    fi
}

# ---------------------------------------------------------------------------------------------
# The lab

lab_up || abort setup "lab_up"
RESULTS=$LAB_DIR/results.tsv
: >"$RESULTS"
ROUTER_MAC=$(lab_exec router cat "/sys/class/net/$LAB_EXT_IF/address")
# Server-side TCP Fast Open for every listener without a cookie (0x1 client, 0x2 server, 0x200 no
# cookie needed, 0x400 all listeners): a SYN's data reaches the application as soon as a server
# that uses TFO takes it, which is what an attack with data on the SYN needs.
lab_exec server sysctl -qw net.ipv4.tcp_fastopen=0x603
# Forged "server" packets come in on the router's outside interface and leave through it again,
# so the router sends the (claimed) server an ICMP redirect; an IPv6 server that takes it cannot
# answer the client any more (later handshakes failed). Hosts behind a firewall ignore
# redirects; the lab's too.
for ns in server client; do
    lab_exec "$ns" sysctl -qw net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.default.accept_redirects=0 \
        "net.ipv4.conf.$LAB_HOST_IF.accept_redirects=0" net.ipv6.conf.all.accept_redirects=0 \
        net.ipv6.conf.default.accept_redirects=0 "net.ipv6.conf.$LAB_HOST_IF.accept_redirects=0"
done
lab_exec router sysctl -qw net.ipv4.conf.all.send_redirects=0 "net.ipv4.conf.$LAB_EXT_IF.send_redirects=0"
# The attacker's connections are unknown to the client's kernel: drop the RSTs it would send.
for ipt in iptables ip6tables; do
    lab_exec client "$ipt" -A OUTPUT -p tcp --sport 20000:29999 --tcp-flags RST RST -j DROP
done
POSTFIX_IPV6=1
if [[ -n "${ATTACKS_KEEP:-}" ]]; then   # captures on both router interfaces, kept with the logs
    lab_capture_start router "$LAB_EXT_IF" "$LAB_DIR/ext.pcap" tcp port 25 || true
    lab_capture_start router "$LAB_INT_IF" "$LAB_DIR/int.pcap" tcp port 25 || true
fi
echo "== lab $LAB_PREFIX up; router $LAB_EXT_IF is $ROUTER_MAC"

# ---------------------------------------------------------------------------------------------
# Rule sets and the daemon

daemon_start() {        # OPTIONS...
    e2e_daemon_start --queue "$Q" --stats-interval 0 "$@" || abort setup "the daemon did not start"
}
daemon_stop() {
    [[ -n "$DAEMON_PID" ]] && lab_kill "$DAEMON_PID" 5 >/dev/null 2>&1
    DAEMON_PID=""
}

rules_plain() {
    lab_nfqueue_smtp "$Q" || abort setup "lab_nfqueue_smtp"
    lab_exec router ip6tables -A FORWARD -p tcp --dport 25 -j NFQUEUE --queue-num "$Q"
    lab_exec router ip6tables -A FORWARD -p tcp --sport 25 -j NFQUEUE --queue-num "$Q"
    daemon_start --allow-starttls
}
rules_gen() {
    lab_exec router "$ROOT/scripts/setup-iptables.sh" apply --config "$SEED" "${MAP[@]}" --queue "$Q" --binary "$BIN" \
        >"$LAB_DIR/apply.out" 2>&1 || { cat "$LAB_DIR/apply.out" >&2; abort setup "setup-iptables.sh apply"; }
    lab_on_cleanup "lab_exec router '$ROOT/scripts/setup-iptables.sh' remove >/dev/null 2>&1 || true"
    daemon_start --config "$SEED" "${MAP[@]}"
}
rules_down() {
    daemon_stop
    lab_exec router "$ROOT/scripts/setup-iptables.sh" remove >/dev/null 2>&1 || true
    lab_iptables_flush
    lab_exec router conntrack -F >/dev/null 2>&1 || true
}

# What each mode means: the client's target, the server's address to forge, the NAT global
# address to forge (if any), the client's address, the policy.
declare -A MODES_FOR_RULES=([plain]="plain4 plain6" [gen]="gen4 gen6")
mode_args() {
    case "$1" in
        plain4) echo "--target $LAB_SERVER_IP --forge-src $LAB_SERVER_IP --client $LAB_CLIENT_IP --policy esmtp" ;;
        plain6) echo "--target $LAB_SERVER_IP6 --forge-src $LAB_SERVER_IP6 --client $LAB_CLIENT_IP6 --policy esmtp" ;;
        gen4) echo "--target $LAB_SERVER_NAT_IP --forge-src $LAB_SERVER_IP --forge-global $LAB_SERVER_NAT_IP --client $LAB_CLIENT_IP --policy smtp" ;;
        gen6) echo "--target $LAB_SERVER_IP6 --forge-src $LAB_SERVER_IP6 --client $LAB_CLIENT_IP6 --policy smtp" ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# Servers

REC_PID="" REC_LOG=""
server_up() {
    case "$1" in
        rec)
            REC_LOG=$LAB_DIR/recserver.log
            : >>"$REC_LOG"
            lab_spawn server "$LAB_DIR/recserver.out" "$PY" "$HERE/recserver.py" "$REC_LOG" "$LAB_SERVER_IP" "$LAB_SERVER_IP6"
            REC_PID=$LAB_LAST_PID
            lab_wait_listen server "$LAB_SERVER_IP" 25 10 && lab_wait_listen server "$LAB_SERVER_IP6" 25 10 ||
                { cat "$LAB_DIR/recserver.out" >&2; abort setup "recording server"; }
            ;;
        postfix)
            postfix_up "debug_peer_list = $LAB_CLIENT_IP, [$LAB_CLIENT_IP6]" "smtpd_client_port_logging = yes" \
                >/dev/null 2>&1 || abort setup "postfix_up"
            ;;
    esac
}
server_down() {
    case "$1" in
        rec) lab_kill "$REC_PID" 3 >/dev/null 2>&1 || true; REC_PID="" ;;
        postfix) postfix_down >/dev/null 2>&1 ;;
    esac
}
judge_args() {
    case "$1" in
        rec) echo "--reclog $REC_LOG" ;;
        postfix) echo "--maillog $POSTFIX_MAILLOG" ;;
    esac
}

# run_cases MODE SERVER PATTERNS: the attacks (run.py) in the client namespace.
run_cases() {
    local mode=$1 server=$2 patterns=$3 line rc=0
    # shellcheck disable=SC2046  # word splitting of the argument lists on purpose
    while IFS= read -r line; do
        case "$line" in
            "ok   "*) line=${line#ok   }; pass "${line%%: *}" "${line#*: }" ;;
            "FAIL "*) line=${line#FAIL }; fail "${line%%: *}" "${line#*: }" ;;
            "XFAIL "*) NXFAIL=$((NXFAIL + 1)); echo "$line" ;;
            *) echo "$line" ;;
        esac
    done < <(lab_exec client "$PY" "$HERE/run.py" --label "$mode/$server" --router-mac "$ROUTER_MAC" \
        --iface "$LAB_HOST_IF" $(mode_args "$mode") $(judge_args "$server") --cases "$patterns" \
        --results "$RESULTS" --xfail "${ATTACKS_XFAIL:-}" 2>&1 || true)
}

# ---------------------------------------------------------------------------------------------
# The legitimate sessions that are not raw-packet cases

legit_burst() {     # MODE: 20 parallel smtp-source clients, IOS's default half-open thresholds
    local mode=$1 n0 want=1000 t0 rc=0 target flag=-4     # 1000 connections: past one-minute high (500)
    target="$LAB_SERVER_NAT_IP:25"
    [[ "$mode" == gen6 ]] && target="[$LAB_SERVER_IP6]:25" flag=-6
    n0=$(mailbox_count)
    t0=$(lab_now)
    lab_exec client timeout 120 "$SMTP_SOURCE" $flag -c -l 1000 -m "$want" -s 20 -M client.test \
        -f burst@client.test -t burst@example.test "$target" >"$LAB_DIR/burst-$mode.out" 2>&1 || rc=$?
    mailbox_wait $((n0 + want)) 60 2>/dev/null || true
    local got=$(($(mailbox_count) - n0))
    local alerts; alerts=$(grep -c 'ALERT_ON' "$DERR" || true)
    if ((got == want && rc == 0)); then
        pass "$mode/postfix legit-burst" "$got of $want messages delivered to $target in $(lab_since "$t0") s (ALERT_ON lines: $alerts)"
    else
        fail "$mode/postfix legit-burst" "$got of $want messages delivered to $target, smtp-source exit $rc (ALERT_ON lines: $alerts): $(tail -n 2 "$LAB_DIR/burst-$mode.out" | tr '\n' ' ')"
    fi
}

legit_soak() {      # MODE N: N hostile-looking messages through the inspector, each byte-identical
    local mode=$1 n=$2 t0 rc=0 n0 target=$LAB_SERVER_IP
    [[ "$mode" == plain6 ]] && target=$LAB_SERVER_IP6
    mailbox_clear
    n0=$(mailbox_count)
    t0=$(lab_now)
    lab_exec client timeout 900 "$PY" "$HERE/soak.py" send --target "$target" --messages "$n" \
        --sessions 8 --manifest "$LAB_DIR/soak-$mode.manifest" >"$LAB_DIR/soak-$mode.out" 2>&1 || rc=$?
    mailbox_wait $((n0 + n)) 120 2>/dev/null || true
    local sent; sent=$(tail -n 1 "$LAB_DIR/soak-$mode.out")
    if ((rc == 0)) && "$PY" "$HERE/soak.py" check --manifest "$LAB_DIR/soak-$mode.manifest" --maildir "$POSTFIX_MAILDIR" \
        >"$LAB_DIR/soak-$mode.check" 2>&1; then
        pass "$mode/postfix legit-soak" "$sent; $(tail -n 1 "$LAB_DIR/soak-$mode.check") ($(lab_since "$t0") s)"
    else
        fail "$mode/postfix legit-soak" "sender exit $rc: $sent; $(tail -n 3 "$LAB_DIR/soak-$mode.check" 2>/dev/null | tr '\n' ' ')"
    fi
}

# ---------------------------------------------------------------------------------------------
# The matrix

attack_patterns=$(IFS=,; echo "${CASES[*]}")
for rules in plain gen; do
    modes=()
    for m in ${MODES_FOR_RULES[$rules]}; do [[ " $MODES " == *" $m "* ]] && modes+=("$m"); done
    ((${#modes[@]})) || continue
    echo
    echo "== rules: $rules (${modes[*]}) at $(lab_since "$T_START") s"
    "rules_$rules"
    for server in $SERVERS; do
        server_up "$server"
        for mode in "${modes[@]}"; do
            echo "-- $mode/$server"
            run_cases "$mode" "$server" "$attack_patterns"
        done
        if [[ "$server" == postfix ]] && selected legit-burst legit; then
            for mode in "${modes[@]}"; do [[ "$mode" == gen* ]] && legit_burst "$mode"; done
        fi
        if [[ "$server" == postfix ]] && selected legit-soak legit; then
            [[ " ${modes[*]} " == *" plain4 "* ]] && legit_soak plain4 "$SOAK_N"
            [[ " ${modes[*]} " == *" plain6 "* ]] && legit_soak plain6 "$SOAK6_N"
        fi
        server_down "$server"
    done
    rules_down
done

finish
