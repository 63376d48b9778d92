#!/usr/bin/env bash
# scripts/setup-iptables.sh: load the iptables rule set `smtp-inspect rules` makes from an IOS
# configuration, and take it out again, leaving every other rule alone. As root, on the router
# (or inside a network namespace with `ip netns exec NS scripts/setup-iptables.sh …`):
#
#   scripts/setup-iptables.sh apply  --config FILE --interface IOSNAME=LINUXNAME ... \
#                                    [--queue N | --queues A-B] [--queue-bypass] [--binary PATH]
#   scripts/setup-iptables.sh status [--config FILE --interface ... (to compare with)]
#   scripts/setup-iptables.sh remove
#
# apply   runs `smtp-inspect rules` with the options given, performs its `# SETUP` lines (sysctl,
#         modprobe, `ip addr add` of the static NAT global addresses that are not there yet,
#         `nfct add timeout` of the conntrack timeout policies the rules name) and loads the rules
#         with `iptables-restore --noflush`. Applying again replaces the earlier
#         set in the same iptables-restore transaction per table (no moment without rules), so
#         apply twice leaves exactly the same rules.
# remove  deletes the jumps commented "smtp-inspect" from the built-in chains, every SI-* chain,
#         the addresses and timeout policies apply added, puts back the sysctls it changed and
#         deletes the tables it created, so that iptables-save shows what it showed before apply
#         (counters aside).
# status  shows what is installed, what apply changed besides, and whether smtp-inspect is bound
#         to the queue; with --config (and the same options as apply) whether it is up to date.
#
# What apply changed is kept in the kernel with the rules, as the comments of an SI-STATE chain
# in the filter table that nothing jumps to, so that it lives and dies with the network namespace.
#
# The binary: --binary PATH, else $SMTP_INSPECT_BIN, else smtp-inspect on PATH, else this
# checkout's .build/release or .build/debug.
#
# Exit status: 0 done; 1 failed (the message says what, where and how to fix it); 2 smtp-inspect
# refused the configuration or options; 3 status: not installed; 4 status: installed, but not what
# --config and the options would load now; 64 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=setup-iptables
TABLES=(raw mangle nat filter)
STATE_CHAIN=SI-STATE
STATE_NOTE="what setup-iptables.sh apply changed besides these rules; remove undoes it (never jumped to)"
LOCK=/run/lock/smtp-inspect-setup-iptables.lock

usage() {
    cat <<EOF
usage: $0 apply  --config FILE --interface IOSNAME=LINUXNAME|auto ... [--queue N | --queues A-B]
                          [--queue-bypass] [--binary PATH]
       $0 status [--config FILE --interface ... [--binary PATH]]
       $0 remove
EOF
}

# die MESSAGE [HINT...]: the error, indented hints, exit $EXIT_STATUS (default 1).
die() {
    printf '%s: error: %s\n' "$PROG" "$1" >&2
    shift
    local hint
    for hint in "$@"; do printf '    %s\n' "$hint" >&2; done
    exit "${EXIT_STATUS:-1}"
}
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
say()  { printf '%s: %s\n' "$PROG" "$*"; }
usage_error() { printf '%s: %s\n' "$PROG" "$1" >&2; usage >&2; exit 64; }

# ---------------------------------------------------------------------------------------------
# Arguments

ACTION=${1:-}
case "$ACTION" in
    apply|remove|status) shift ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    "") usage_error "no action given: apply, remove or status" ;;
    *) usage_error "unknown action '$ACTION': expected apply, remove or status" ;;
esac

CONFIG=""
BINARY=""
RULE_ARGS=()            # passed to `smtp-inspect rules` as given
while (($#)); do
    case "$1" in
        --config|--interface|--queue|--queues|--binary)
            (($# >= 2)) || usage_error "$1 needs a value"
            case "$1" in
                --config) CONFIG=$2 ;;
                --binary) BINARY=$2 ;;
                *) RULE_ARGS+=("$1" "$2") ;;
            esac
            shift 2 ;;
        --config=*) CONFIG=${1#*=}; shift ;;
        --binary=*) BINARY=${1#*=}; shift ;;
        --interface=*|--queue=*|--queues=*) RULE_ARGS+=("$1"); shift ;;
        --queue-bypass) RULE_ARGS+=("$1"); shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
if [[ "$ACTION" == apply && -z "$CONFIG" ]]; then
    usage_error "apply needs --config FILE (the router's show running-config)"
fi
if [[ "$ACTION" == remove && (-n "$CONFIG" || ${#RULE_ARGS[@]} -gt 0) ]]; then
    warn "remove takes no --config or rule options: it removes what apply recorded (ignoring them)"
fi

((EUID == 0)) || die "$ACTION needs root (to read and change iptables, addresses and sysctls)" \
    "run it with sudo, or as root inside the namespace: ip netns exec NS $0 $ACTION ..."
for tool in iptables-save iptables-restore ip sysctl flock sha256sum awk; do
    command -v "$tool" >/dev/null ||
        die "$tool not found" "install it (Debian: apt-get install iptables iproute2 procps util-linux coreutils gawk)"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/setup-iptables.XXXXXX")
APPLIED=1               # 0 while apply has changed things it must undo if it stops half-way
UNDO=()                 # what this run did, undone (last first) when apply fails
on_exit() {
    local rc=$? i
    if ((APPLIED == 0 && ${#UNDO[@]})); then
        warn "apply did not complete: undoing what this run changed"
        for ((i = ${#UNDO[@]} - 1; i >= 0; i--)); do eval "${UNDO[i]}" || true; done
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One run at a time (per host: the lock is not per namespace, and runs are short).
[[ -d "${LOCK%/*}" && -w "${LOCK%/*}" ]] || LOCK=${TMPDIR:-/tmp}/smtp-inspect-setup-iptables.lock
exec 9>"$LOCK"
flock -w 60 9 || die "another setup-iptables.sh has held $LOCK for 60 s" "wait for it to finish, then try again"

# ---------------------------------------------------------------------------------------------
# The binary and the rules

find_binary() {
    local candidate
    if [[ -n "$BINARY" ]]; then
        [[ -x "$BINARY" && ! -d "$BINARY" ]] || die "--binary $BINARY is not an executable file"
        return
    fi
    if [[ -n "${SMTP_INSPECT_BIN:-}" ]]; then
        [[ -x "$SMTP_INSPECT_BIN" ]] || die "SMTP_INSPECT_BIN=$SMTP_INSPECT_BIN is not executable"
        BINARY=$SMTP_INSPECT_BIN
        return
    fi
    if candidate=$(command -v smtp-inspect); then BINARY=$candidate; return; fi
    for candidate in "$ROOT/.build/release/smtp-inspect" "$ROOT/.build/debug/smtp-inspect"; do
        if [[ -x "$candidate" ]]; then BINARY=$candidate; return; fi
    done
    die "smtp-inspect not found (not on PATH, no --binary, no SMTP_INSPECT_BIN, not built in $ROOT/.build)" \
        "build it: (cd $ROOT && swift build -c release --product smtp-inspect), or give --binary PATH"
}

# generate_rules FILE: `smtp-inspect rules` with our options into FILE; its messages go to stderr.
generate_rules() {
    local rc=0
    find_binary
    [[ -r "$CONFIG" ]] || die "cannot read --config $CONFIG" "give the path of the router's saved show running-config"
    "$BINARY" rules --config "$CONFIG" "${RULE_ARGS[@]}" >"$1" || rc=$?
    if ((rc != 0)); then
        EXIT_STATUS=2
        ((rc == 64)) && EXIT_STATUS=64
        die "smtp-inspect rules refused the configuration or the options (messages above); nothing was changed"
    fi
}

# ---------------------------------------------------------------------------------------------
# What is installed now: iptables-save read into a few lists.

TABLES_NOW=()           # tables iptables-save lists
declare -A SI_CHAINS=() # table -> SI- chains (space-separated)
declare -A JUMPS=()     # table -> our jumps as iptables-save prints them (newline-separated)
declare -A EMPTY=()     # table -> 1 when it holds nothing but empty built-in chains with ACCEPT
FOREIGN=""              # rules outside SI- chains, not commented smtp-inspect, that go to SI- chains
STATE=()                # SI-STATE entries: "address DEV ADDR/32", "sysctl NAME=OLD", "table NAME", ...
SNAPSHOT=$TMP/iptables-save.txt

read_installed() {
    local kind table rest
    iptables-save >"$SNAPSHOT" 2>"$TMP/save.err" ||
        die "iptables-save failed: $(cat "$TMP/save.err")" "is iptables installed and is this kernel's netfilter usable?"
    TABLES_NOW=() SI_CHAINS=() JUMPS=() EMPTY=() FOREIGN="" STATE=()
    while IFS=$'\t' read -r kind table rest; do
        case "$kind" in
            table)   TABLES_NOW+=("$table"); EMPTY[$table]=1 ;;
            chain)   SI_CHAINS[$table]+="${SI_CHAINS[$table]:+ }$rest" ;;
            jump)    JUMPS[$table]+="$rest"$'\n' ;;
            foreign) FOREIGN+="  $table: $rest"$'\n' ;;
            state)   STATE+=("$rest") ;;
            busy)    EMPTY[$table]=0 ;;
        esac
    done < <(awk -v state="$STATE_CHAIN" '
        /^\*/ { table = substr($0, 2); print "table\t" table; next }
        /^:/ {
            name = substr($1, 2)
            if (name ~ /^SI-/) print "chain\t" table "\t" name
            else if ($2 != "ACCEPT") print "busy\t" table      # a user chain or a DROP policy
            next
        }
        /^-A / {
            chain = $2
            if (chain ~ /^SI-/) {
                if (table == "filter" && chain == state && match($0, /--comment ("[^"]*"|[^ ]+)/)) {
                    text = substr($0, RSTART + 10, RLENGTH - 10)
                    gsub(/^"|"$/, "", text)
                    print "state\t" table "\t" text
                }
                next
            }
            print "busy\t" table
            if ($0 ~ / -[jg] SI-[^ ]+( |$)/) {
                if ($0 ~ / --comment "?smtp-inspect"?( |$)/) print "jump\t" table "\t" $0
                else print "foreign\t" table "\t" $0
            }
        }' "$SNAPSHOT")
}

installed() { local t; for t in "${!SI_CHAINS[@]}" "${!JUMPS[@]}"; do return 0; done; return 1; }

has_table() { local t; for t in "${TABLES_NOW[@]}"; do [[ "$t" == "$1" ]] && return 0; done; return 1; }

# state_get PREFIX: the state entries starting with PREFIX.
state_get() { local e; for e in "${STATE[@]}"; do [[ "$e" == "$1"* ]] && printf '%s\n' "$e"; done; return 0; }

refuse_foreign() {
    [[ -z "$FOREIGN" ]] && return 0
    die "rules that are not smtp-inspect's jump into its SI- chains:"$'\n'"${FOREIGN%$'\n'}" \
        "setup-iptables.sh only removes the jumps it adds (commented \"smtp-inspect\"); delete these" \
        "rules first (iptables -t TABLE -D ...), then run $ACTION again. Nothing was changed."
}

# ---------------------------------------------------------------------------------------------
# SETUP lines: sysctl, module, address

SYSCTLS=()              # NAME=VALUE
MODULES=()
ADDRESSES=()            # DEV ADDR/32
TIMEOUTS=()             # NAME POLICY... (nfct add timeout NAME inet POLICY...)
read_setup() {
    local word a b
    while read -r _ _ word a b; do
        case "$word" in
            sysctl)  SYSCTLS+=("$a") ;;
            module)  MODULES+=("$a") ;;
            address) ADDRESSES+=("$a $b") ;;
            timeout) TIMEOUTS+=("$a $b") ;;
            *) die "smtp-inspect rules printed a SETUP line this script does not know: SETUP $word $a $b" \
                   "use the setup-iptables.sh of the same checkout as the binary ($BINARY)" ;;
        esac
    done < <(grep -E '^# SETUP [a-z]+ ' "$1")    # not the header's "# SETUP lines, …"
}

# address_present DEV ADDR: ADDR (any prefix length) is on DEV.
address_present() {
    # No `grep -q` at the end of a pipe: under pipefail, its early exit can fail the writer.
    ip -4 -o addr show dev "$1" 2>/dev/null |
        awk -v a="$2" '{ split($4, p, "/"); if (p[1] == a) found = 1 } END { exit !found }'
}

# timeout_present NAME: conntrack has a timeout policy of that name (nfct; none without it).
timeout_present() {
    command -v nfct >/dev/null || return 1
    nfct list timeout 2>/dev/null | awk -v n=".$1" '$1 == n { found = 1 } END { exit !found }'
}

load_module() {
    local name=$1 out
    [[ -d "/sys/module/$name" ]] && return 0          # loaded, or built in with parameters
    [[ -e /proc/modules ]] || return 0                # no loadable modules: everything is built in
    if ! out=$(modprobe "$name" 2>&1); then
        warn "could not load kernel module $name (${out:-modprobe failed}); unless it is built into the" \
            "kernel, the ftp inspection it serves will not work (Debian: it ships with the kernel image)"
    fi
}

# ---------------------------------------------------------------------------------------------
# apply

# The state after this apply: entries kept from an earlier apply plus what this one changes.
NEW_STATE=()
TO_ADD=()               # DEV ADDR/32 to add now
TO_SET=()               # NAME=VALUE to set now
TO_TIME=()              # NAME POLICY... timeout policies to create now
STALE=()                # state entries of an earlier apply that this one no longer needs (undo after)
plan_setup() {
    local entry name value current dev addr old t
    for entry in "${SYSCTLS[@]}"; do
        name=${entry%%=*} value=${entry#*=}
        current=$(sysctl -n "$name" 2>/dev/null) || die "sysctl $name does not exist here" \
            "smtp-inspect rules asked for $name=$value; is this an IPv4 router kernel?"
        old=$(state_get "sysctl $name=")
        if [[ -n "$old" ]]; then NEW_STATE+=("$old")
        elif [[ "$current" != "$value" ]]; then NEW_STATE+=("sysctl $name=$current")
        fi
        [[ "$current" == "$value" ]] || TO_SET+=("$entry")
    done
    for entry in "${ADDRESSES[@]}"; do
        read -r dev addr <<<"$entry"
        ip link show dev "$dev" >/dev/null 2>&1 ||
            die "interface $dev does not exist here (needed for the static NAT address $addr)" \
                "check --interface ...=$dev against \`ip link\` (in this network namespace)"
        if [[ -n "$(state_get "address $dev $addr")" ]]; then
            NEW_STATE+=("address $dev $addr")
            address_present "$dev" "${addr%/*}" || TO_ADD+=("$dev $addr")
        elif ! address_present "$dev" "${addr%/*}"; then
            NEW_STATE+=("address $dev $addr")
            TO_ADD+=("$dev $addr")
        fi
    done
    if ((${#TIMEOUTS[@]})); then
        command -v nfct >/dev/null || die "nfct not found: the rules name conntrack timeout policies (an inspected protocol's \`timeout\`)" \
            "install it (Debian: apt-get install nfct)"
    fi
    local name policy
    for entry in "${TIMEOUTS[@]}"; do
        read -r name policy <<<"$entry"
        if [[ -n "$(state_get "timeout $name")" ]]; then
            NEW_STATE+=("timeout $name")
            timeout_present "$name" || TO_TIME+=("$entry")
        elif ! timeout_present "$name"; then
            NEW_STATE+=("timeout $name")
            TO_TIME+=("$entry")
        fi
    done
    for t in "${TABLES[@]}"; do
        if [[ -n "$(state_get "table $t")" ]] || ! has_table "$t"; then NEW_STATE+=("table $t"); fi
    done
    local kept
    for entry in "${STATE[@]}"; do
        case "$entry" in
            "sysctl "*|"address "*|"timeout "*)
                kept=0
                for t in "${NEW_STATE[@]}"; do [[ "$t" == "$entry" ]] && kept=1; done
                ((kept)) || STALE+=("$entry") ;;
        esac
    done
    NEW_STATE+=("rules sha256 $(sha256sum <"$RULES" | cut -d' ' -f1)" "config ${CONFIG:0:240}")
}

# build_restore RULES OUT: the generated rules with, per table, what replaces an earlier set in
# the same transaction: its jumps deleted, its chains that are not declared again flushed and
# deleted (chains declared again are flushed by iptables-restore), and SI-STATE in filter.
build_restore() {
    local rules=$1 out=$2 t chain line declared
    for t in "${TABLES[@]}"; do
        declared=" $(awk -v t="$t" '/^\*/ { in_t = ($0 == "*" t) } in_t && /^:SI-/ { print substr($1, 2) }' "$rules" | tr '\n' ' ')"
        {
            while IFS= read -r line; do
                [[ -n "$line" ]] && printf -- '-D%s\n' "${line#-A}"
            done <<<"${JUMPS[$t]:-}"
            for chain in ${SI_CHAINS[$t]:-}; do
                [[ "$declared" == *" $chain "* || ("$t" == filter && "$chain" == "$STATE_CHAIN") ]] || echo "-F $chain"
            done
            for chain in ${SI_CHAINS[$t]:-}; do
                [[ "$declared" == *" $chain "* || ("$t" == filter && "$chain" == "$STATE_CHAIN") ]] || echo "-X $chain"
            done
            if [[ "$t" == filter ]]; then
                printf -- '-A %s -m comment --comment "%s" -j RETURN\n' "$STATE_CHAIN" "$STATE_NOTE"
                for line in "${NEW_STATE[@]}"; do
                    line=${line//\"/\'}
                    printf -- '-A %s -m comment --comment "%s" -j RETURN\n' "$STATE_CHAIN" "${line//\\/\'}"
                done
            fi
        } >"$TMP/prelude.$t"
    done
    # Declarations stay first; the prelude goes before the table's first rule (or its COMMIT).
    awk -v dir="$TMP" -v state="$STATE_CHAIN" '
        function prelude(   line, file) {
            file = dir "/prelude." table
            while ((getline line < file) > 0) print line
            close(file)
            done[table] = 1
            pending = 0
        }
        /^\*/ {
            table = substr($0, 2); print; pending = 1; seen[table] = 1
            if (table == "filter") print ":" state " - [0:0]"
            next
        }
        pending && (/^-/ || /^COMMIT/) { prelude() }
        { print }
        END {
            n = split("raw mangle nat filter", all, " ")
            for (i = 1; i <= n; i++) {
                table = all[i]
                if (seen[table]) continue
                print "*" table
                if (table == "filter") print ":" state " - [0:0]"
                prelude()
                print "COMMIT"
            }
        }' "$rules" >"$TMP/ordered.rules"
    # filter first: it holds SI-STATE, so that if a later table fails to commit (iptables
    # commits table by table) the record of what this apply created is there for remove.
    awk -v dir="$TMP" '/^\*/ { file = dir "/section." substr($0, 2) } file { print > file }' "$TMP/ordered.rules"
    for t in filter raw mangle nat; do cat "$TMP/section.$t"; done >"$out"
}

do_apply() {
    local entry dev addr name value out
    RULES=$TMP/rules.txt
    generate_rules "$RULES"
    read_installed
    refuse_foreign
    read_setup "$RULES"
    plan_setup
    build_restore "$RULES" "$TMP/apply.rules"
    if ! out=$(iptables-restore --test --noflush <"$TMP/apply.rules" 2>&1); then
        cp "$TMP/apply.rules" "${TMPDIR:-/tmp}/setup-iptables-failed.rules"
        die "iptables-restore --test refused the rule set; nothing was changed:"$'\n'"$out" \
            "the file it read is ${TMPDIR:-/tmp}/setup-iptables-failed.rules (line numbers refer to it)" \
            "a missing match or target usually means a kernel without that netfilter feature"
    fi

    APPLIED=0
    for name in "${MODULES[@]}"; do load_module "$name"; done
    for entry in "${TO_SET[@]}"; do
        name=${entry%%=*} value=${entry#*=}
        UNDO+=("sysctl -qw '$name=$(sysctl -n "$name")'")
        sysctl -qw "$entry" >/dev/null || die "sysctl -w $entry failed" "is /proc/sys writable here?"
    done
    for entry in "${TO_ADD[@]}"; do
        read -r dev addr <<<"$entry"
        ip addr add "$addr" dev "$dev" || die "ip addr add $addr dev $dev failed"
        UNDO+=("ip addr del '$addr' dev '$dev'")
    done
    local name policy
    for entry in "${TO_TIME[@]}"; do
        read -r name policy <<<"$entry"
        # shellcheck disable=SC2086  # the policy's words: PROTOCOL STATE SECONDS ...
        out=$(nfct add timeout "$name" inet $policy 2>&1) ||
            die "nfct add timeout $name inet $policy failed: $out" "is nfnetlink_cttimeout in this kernel (CONFIG_NF_CT_NETLINK_TIMEOUT)?"
        UNDO+=("nfct delete timeout '$name'")
    done
    if ! out=$(iptables-restore --noflush <"$TMP/apply.rules" 2>&1); then
        cp "$TMP/apply.rules" "${TMPDIR:-/tmp}/setup-iptables-failed.rules"
        die "iptables-restore failed:"$'\n'"$out" \
            "iptables commits each table on its own, so some tables may hold the new rules already:" \
            "see \`$0 status\`; fix the cause, then apply again (or remove)." \
            "The file it read is ${TMPDIR:-/tmp}/setup-iptables-failed.rules."
    fi
    APPLIED=1

    # What an earlier apply changed and this one no longer needs.
    for entry in "${STALE[@]}"; do undo_entry "$entry"; done

    read_installed
    summary applied
}

# ---------------------------------------------------------------------------------------------
# remove

# undo_entry ENTRY: put back one thing apply changed.
undo_entry() {
    local kind a b
    read -r kind a b <<<"$1"
    case "$kind" in
        address)
            if ip link show dev "$a" >/dev/null 2>&1 && address_present "$a" "${b%/*}"; then
                ip addr del "$b" dev "$a" || warn "could not delete address $b from $a"
                say "deleted address $b from $a"
            fi ;;
        sysctl)
            sysctl -qw "$a" >/dev/null || warn "could not put back sysctl $a"
            say "sysctl ${a%%=*} back to ${a#*=}" ;;
        timeout)
            if timeout_present "$a"; then
                nfct delete timeout "$a" 2>/dev/null || warn "could not delete the conntrack timeout policy $a (still in use?)"
                say "deleted conntrack timeout policy $a"
            fi ;;
    esac
}

do_remove() {
    local t chain line entry out
    read_installed
    refuse_foreign
    if ! installed; then
        say "nothing to remove: no SI- chains and no smtp-inspect jumps in $(printf '%s ' "${TABLES_NOW[@]}")"
        return 0
    fi
    [[ ${#STATE[@]} -gt 0 ]] || warn "no SI-STATE record (the rules were not loaded by this script):" \
        "removing the chains and jumps only; addresses and sysctls are left as they are"
    for t in "${TABLES[@]}"; do
        [[ -n "${SI_CHAINS[$t]:-}${JUMPS[$t]:-}" ]] || continue
        echo "*$t"
        while IFS= read -r line; do
            [[ -n "$line" ]] && printf -- '-D%s\n' "${line#-A}"
        done <<<"${JUMPS[$t]:-}"
        for chain in ${SI_CHAINS[$t]:-}; do echo "-F $chain"; done
        for chain in ${SI_CHAINS[$t]:-}; do echo "-X $chain"; done
        echo COMMIT
    done >"$TMP/remove.rules"
    if ! out=$(iptables-restore --noflush <"$TMP/remove.rules" 2>&1); then
        die "iptables-restore failed while removing:"$'\n'"$out" "see \`$0 status\`; run remove again"
    fi
    for entry in "${STATE[@]}"; do undo_entry "$entry"; done
    # Tables apply created that hold nothing now: delete them (iptables-restore without --noflush
    # and an empty section deletes an nft table; with iptables-legacy it only flushes an empty one).
    local recorded=("${STATE[@]}")
    read_installed
    for entry in "${recorded[@]}"; do
        [[ "$entry" == "table "* ]] || continue
        t=${entry#table }
        if has_table "$t" && [[ "${EMPTY[$t]:-0}" == 1 ]]; then
            printf '*%s\nCOMMIT\n' "$t" | iptables-restore || warn "could not delete the empty table $t"
        fi
    done
    local besides=""
    ((${#recorded[@]} == 0)) || besides=", and what apply changed besides"
    say "removed: every SI- chain and the smtp-inspect jumps$besides"
}

# ---------------------------------------------------------------------------------------------
# status and the summary

# summary WORD: what is installed (from read_installed's snapshot) and what apply changed.
summary() {
    local t chains=0 rules nfq bound jumps="" list entry
    rules=$(($(grep -cE "^-A SI-" "$SNAPSHOT" || true) - $(grep -cE "^-A $STATE_CHAIN " "$SNAPSHOT" || true)))
    for t in "${TABLES[@]}"; do
        for list in ${SI_CHAINS[$t]:-}; do [[ "$list" == "$STATE_CHAIN" ]] || chains=$((chains + 1)); done
        [[ -n "${JUMPS[$t]:-}" ]] &&
            jumps+=" $t:$(printf '%s' "${JUMPS[$t]}" | awk '{ printf "%s%s", sep, $2; sep = "," }')"
    done
    say "$1: $rules rules in $chains SI- chains; jumps from${jumps:- nowhere}"
    for entry in "${STATE[@]}"; do
        case "$entry" in
            "address "*) say "  address ${entry#address } added by apply (remove deletes it)" ;;
            "timeout "*) say "  conntrack timeout policy ${entry#timeout } added by apply (remove deletes it)" ;;
            "sysctl "*)  say "  sysctl ${entry#sysctl } before apply (remove puts it back)" ;;
            "table "*)   say "  table ${entry#table } created by apply (remove deletes it when empty)" ;;
            "config "*)  say "  from --config ${entry#config }" ;;
        esac
    done
    nfq=$(sed -nE 's/^-A SI-.* -j NFQUEUE (.*)$/\1/p' "$SNAPSHOT" | sort -u | awk 'NR == 1')
    if [[ -n "$nfq" ]]; then
        bound=$( (awk '{ print $1 }' /proc/net/netfilter/nfnetlink_queue 2>/dev/null || true) | tr '\n' ' ')
        if [[ "$nfq" == *--queue-bypass* ]]; then
            say "  NFQUEUE $nfq: with bypass, smtp/esmtp sessions pass uninspected while no smtp-inspect is bound"
        else
            say "  NFQUEUE $nfq: without bypass, smtp/esmtp sessions stop while no smtp-inspect is bound (fail closed)"
        fi
        say "  queues bound by a program here: ${bound:-none}"
    fi
}

do_status() {
    local t rc=0 want have
    read_installed
    if ! installed; then
        say "not installed: no SI- chains and no smtp-inspect jumps (tables: ${TABLES_NOW[*]:-none})"
        return 3
    fi
    summary installed
    [[ -n "$FOREIGN" ]] && warn "other rules jump into SI- chains (remove will refuse):"$'\n'"${FOREIGN%$'\n'}"
    [[ ${#STATE[@]} -gt 0 ]] || warn "no SI-STATE record: loaded by hand, not by setup-iptables.sh apply"
    if [[ -n "$CONFIG" ]]; then
        RULES=$TMP/rules.txt
        generate_rules "$RULES"
        want=$(sha256sum <"$RULES" | cut -d' ' -f1)
        have=$(state_get "rules sha256 " | awk '{ print $3 }')
        if [[ "$want" == "$have" ]]; then
            say "  up to date: these are the rules --config $CONFIG and the options give"
        else
            say "  NOT up to date: --config $CONFIG with these options gives other rules; run apply"
            rc=4
        fi
    fi
    echo
    echo "# The installed rules with their counters [packets:bytes] (iptables-save -c):"
    iptables-save -c | awk -v state="$STATE_CHAIN" '
        /^\*/ { table = $0; shown = 0; next }
        /^(:SI-|\[[0-9]+:[0-9]+\] -A (SI-|.*--comment "?smtp-inspect"?( |$)))/ {
            if (!shown) { print table; shown = 1 }
            print
        }'
    return $rc
}

case "$ACTION" in
    apply)  do_apply ;;
    remove) do_remove ;;
    status) rc=0; do_status || rc=$?; exit "$rc" ;;
esac
