# shellcheck shell=bash disable=SC2034  # (variables are for the callers)
# Tests/e2e/daemon/common.sh: what Tests/e2e/daemon-config.sh, control-socket.sh and
# real-configs.sh share beyond Tests/e2e/lib/checks.sh: the binary in .build-daemontests, the
# lab with the seed's rules applied by scripts/setup-iptables.sh (no bypass), the daemon running
# on a copy of the seed's configuration, its control socket, and Postfix's view of the SMTP
# commands it received. Source it after scripts/lib/lab.sh.
#
# The daemon always gets `--control $LAB_DIR/ctl.sock` (never the default /run path), and
# everything it and the lab create goes away on every exit path (lab_cleanup, the EXIT trap).

# shellcheck source=Tests/e2e/lib/checks.sh
source "$ROOT/Tests/e2e/lib/checks.sh"     # results, preflight, the binary, PY, SMTPC

DT_HERE=$ROOT/Tests/e2e/daemon
SMTPC+=(--host "$LAB_SERVER_NAT_IP")      # the seed's static NAT of the server
SETUP=$ROOT/scripts/setup-iptables.sh
SEED=$ROOT/iptables/seed-running-config.txt
MAP=(--interface "Ethernet2/0=$LAB_EXT_IF" --interface "Ethernet2/1=$LAB_INT_IF")
Q=0

# dt_preflight: root and the tools these scripts use.
dt_preflight() {
    e2e_require_root
    e2e_require ip iptables iptables-save swaks postfix timeout "$PY"
}

# dt_binary: BIN = $SMTP_INSPECT_BIN, or a build of this checkout in .build-daemontests.
dt_binary() { e2e_binary smtp-inspect .build-daemontests; }

# ---------------------------------------------------------------------------------------------
# The configuration: a copy of the seed's in $LAB_DIR, with lines added after the seed's
# `ip inspect name OUT−IN smtp` (its line number is kept in CFG_RULE_LINE).

CFG=""
CFG_RULE_LINE=0
# dt_config LINE...: write $LAB_DIR/router.cfg = the seed + LINE... after its OUT-IN rule.
dt_config() {
    CFG=$LAB_DIR/router.cfg
    CFG_RULE_LINE=$(grep -n '^ip inspect name OUT.IN smtp$' "$SEED" | cut -d: -f1)
    [[ -n "$CFG_RULE_LINE" ]] || { echo "no 'ip inspect name OUT-IN smtp' line in $SEED" >&2; return 1; }
    {
        head -n "$CFG_RULE_LINE" "$SEED"
        printf '%s\n' "$@"
        tail -n +$((CFG_RULE_LINE + 1)) "$SEED"
    } >"$CFG"
}

# dt_rules_apply: the rule set from $CFG with scripts/setup-iptables.sh, no --queue-bypass.
dt_rules_apply() {
    lab_exec router "$SETUP" apply --config "$CFG" "${MAP[@]}" --queue "$Q" --binary "$BIN" \
        >"$LAB_DIR/apply.out" 2>"$LAB_DIR/apply.err" || {
        cat "$LAB_DIR/apply.out" "$LAB_DIR/apply.err" >&2
        return 1
    }
    lab_on_cleanup "lab_exec router '$SETUP' remove >/dev/null 2>&1 || true"
}

# dt_lab [POSTFIX-PARAMS...]: lab, Postfix (logging the SMTP commands of the client), rules.
dt_lab() {
    lab_up || abort setup "lab_up"
    postfix_up "debug_peer_list = $LAB_CLIENT_IP" "$@" || abort setup "postfix_up"
    note "lab $LAB_PREFIX up; Postfix on $LAB_SERVER_IP:25 logs the commands of $LAB_CLIENT_IP (debug_peer_list)"
}

# ---------------------------------------------------------------------------------------------
# The daemon: `smtp-inspect run` in the router on $CFG; stdout (counters) in DOUT, stderr
# (alerts, audit trail, trace, notes) in DERR. DAEMON_PID is the daemon itself (ip netns exec
# and sh exec it), so signals reach it.

CTL=""
daemon_start() {
    CTL=$LAB_DIR/ctl.sock
    e2e_daemon_start --config "$CFG" "${MAP[@]}" --queue "$Q" --control "$CTL" --stats-interval 1 "$@"
}

# ctl WORDS...: the control command `smtp-inspect WORDS... --control $CTL`, run in the router;
# stdout+stderr in CTL_OUT, exit status in CTL_RC.
ctl() {
    CTL_RC=0
    CTL_OUT=$(lab_exec router timeout 15 "$BIN" "$@" --control "$CTL" 2>&1) || CTL_RC=$?
}

# stat_field REGEX: a figure of `show ip inspect statistics`, e.g. stat_counts -> "0:21:0".
stats_text() { ctl show ip inspect statistics; echo "$CTL_OUT"; }
stat_current() { sed -n 's/^Current session counts (estab\/half-open\/terminating) \[\(.*\)\]$/\1/p' <<<"$1"; }
stat_maxever() { sed -n 's/^Maxever session counts (estab\/half-open\/terminating) \[\(.*\)\]$/\1/p' <<<"$1"; }
stat_created() { sed -n 's/^Session creations since subsystem startup or last reset \([0-9]*\)$/\1/p' <<<"$1"; }

# Lines of DERR: a mark (its line count), what came after it, how many match.
derr_mark() { wc -l <"$DERR"; }
derr_since() { tail -n +$(($1 + 1)) "$DERR"; }
derr_count_since() { derr_since "$1" | grep -c -- "$2" || true; }
# the message part of a log line (after the IOS timestamp)
msg() { sed 's/^.*\(%FW-[0-9]-\)/\1/'; }

# counters_now: the daemon's last counters line on stdout.
counters_now() { tail -n 1 "$DOUT"; }

# ---------------------------------------------------------------------------------------------
# Postfix's log

# chat_since MARK: the commands Postfix received from the client since MARK.
chat_since() { postfix_commands_since "$1" "$LAB_CLIENT_IP"; }
# delivered_to ADDR: messages delivered to ADDR (their Delivered-To header).
delivered_to() {
    local n=0 f
    for f in "$POSTFIX_MAILDIR"/new/* "$POSTFIX_MAILDIR"/cur/*; do
        [[ -f "$f" ]] && grep -qi "^Delivered-To: $1\$" "$f" && n=$((n + 1))
    done
    echo "$n"
}
wait_delivered() { lab_wait_until "${3:-15}" _delivered_at_least "$1" "$2"; }
_delivered_at_least() { (($(delivered_to "$1") >= $2)); }

# swaks_mail TO SUBJECT [SWAKS-OPTIONS...]: mail from the client to 172.22.1.110:25 through NAT
# and inspection. SW_RC, SW_OUT (the transcript file).
SW_N=0
swaks_mail() {
    local to=$1 subject=$2; shift 2
    SW_N=$((SW_N + 1))
    SW_OUT=$LAB_DIR/swaks-$SW_N.out
    SW_RC=0
    lab_exec client swaks -n --server "$LAB_SERVER_NAT_IP" --timeout 15 --helo client.test \
        --from e2e@client.test --to "$to" --header "Subject: $subject" "$@" >"$SW_OUT" 2>&1 || SW_RC=$?
}
