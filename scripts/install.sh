#!/usr/bin/env bash
# scripts/install.sh: put smtp-inspect on a router (Debian 12, systemd). As root, from a clone:
#
#   scripts/install.sh                  # build (release) and install; safe to run again
#   scripts/install.sh --dry-run        # say what it would do, change nothing (no root needed)
#   scripts/install.sh --uninstall      # take it out again (the configuration stays)
#   scripts/install.sh --uninstall --purge   # ... and the configuration and the user too
#
# Options:
#   --prefix DIR     where the programs go (default /usr/local): DIR/sbin/smtp-inspect,
#                    DIR/sbin/smtp-inspect-iptables (scripts/setup-iptables.sh), the examples in
#                    DIR/share/doc/smtp-inspect; the units are rewritten to match
#   --destdir DIR    install under DIR instead of / (a staging tree, a container's root); paths
#                    inside the files stay as if installed in /
#   --binary PATH    install this smtp-inspect instead of building one
#
# What it installs:
#   PREFIX/sbin/smtp-inspect                     built with the Swift runtime linked in
#                                                (swift build -c release --static-swift-stdlib,
#                                                in .build-release), so /opt/swift is not needed
#   PREFIX/sbin/smtp-inspect-iptables            scripts/setup-iptables.sh
#   /etc/systemd/system/smtp-inspect.service     the daemon (deploy/)
#   /etc/systemd/system/smtp-inspect-iptables.service   its iptables rules (deploy/)
#   /etc/default/smtp-inspect                    interface map and options (deploy/default), only
#                                                if there is none
#   /etc/smtp-inspect/running-config             the seed's IOS configuration as an example (its
#                                                U+2212 signs as '-'), only if there is none;
#                                                0640 root:smtp-inspect (it holds passwords)
#   PREFIX/share/doc/smtp-inspect/               README.md, the shipped default and config
#   the system user smtp-inspect                 the daemon runs as it (with two capabilities)
# Files that are already there and the same are left alone: a second run changes nothing.
# Exit status: 0 done; 1 failed; 64 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=install.sh
PREFIX=/usr/local
DESTDIR=""
BINARY=""
DRY=0
UNINSTALL=0
PURGE=0
USER_NAME=smtp-inspect
SCRATCH=$ROOT/.build-release

usage() { sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
    case "$1" in
        --prefix|--destdir|--binary)
            (($# >= 2)) || { echo "$PROG: $1 needs a value" >&2; exit 64; }
            case "$1" in --prefix) PREFIX=$2 ;; --destdir) DESTDIR=$2 ;; --binary) BINARY=$2 ;; esac
            shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; shift ;;
        --destdir=*) DESTDIR=${1#*=}; shift ;;
        --binary=*) BINARY=${1#*=}; shift ;;
        --dry-run|-n) DRY=1; shift ;;
        --uninstall) UNINSTALL=1; shift ;;
        --purge) PURGE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "$PROG: unknown argument: $1 (try --help)" >&2; exit 64 ;;
    esac
done
[[ "$PREFIX" == /* ]] || { echo "$PROG: --prefix must be an absolute path" >&2; exit 64; }
PREFIX=${PREFIX%/}
[[ -z "$DESTDIR" || "$DESTDIR" == /* ]] || DESTDIR=$(pwd)/$DESTDIR
DESTDIR=${DESTDIR%/}
((PURGE == 0 || UNINSTALL == 1)) || { echo "$PROG: --purge goes with --uninstall" >&2; exit 64; }
if ((DRY == 0 && EUID != 0)) && [[ -z "$DESTDIR" ]]; then
    echo "$PROG: run me as root (or try --dry-run, or --destdir DIR for a staging tree)" >&2
    exit 1
fi

SBIN=$PREFIX/sbin
DOC=$PREFIX/share/doc/smtp-inspect
UNITDIR=/etc/systemd/system
UNITS=(smtp-inspect.service smtp-inspect-iptables.service)
# Systemd runs here (and we install into this system, not a staging tree).
SYSTEMD=0
[[ -z "$DESTDIR" && -d /run/systemd/system ]] && SYSTEMD=1

did=()
# act WORD TEXT: say what was (or, with --dry-run, would be) done.
act() {
    if [[ "$1" == keep ]]; then printf '  %-15s %s\n' "$3" "$2"; return; fi
    if ((DRY)); then printf '  would %-9s %s\n' "$1" "$2"; else printf '  %-15s %s\n' "$3" "$2"; fi
    did+=("$1")
}
note() { printf '  %s\n' "$*"; }
die() { echo "$PROG: error: $*" >&2; exit 1; }
run() { ((DRY)) || "$@"; }

# put SRC DEST MODE [OWNER:GROUP]: install SRC (a file) as DESTDIR/DEST unless it is the same.
put() {
    local src=$1 dest=$DESTDIR$2 mode=$3 owner=${4:-root:root}
    if [[ -f "$dest" ]] && cmp -s "$src" "$dest"; then
        if [[ "$(stat -c '%a' "$dest")" != "${mode#0}" ]]; then
            act chmod "$2 ($mode)" "mode fixed"
            run chmod "$mode" "$dest"
        else
            act keep "$2" "unchanged"
        fi
        return
    fi
    if [[ -e "$dest" ]]; then act update "$2" "updated"; else act install "$2" "installed"; fi
    run install -D -m "$mode" "$src" "$dest"
    [[ -n "$DESTDIR" && $EUID != 0 ]] || run chown "$owner" "$dest"
}

# put_once SRC DEST MODE [OWNER:GROUP]: only when DEST does not exist (it is the administrator's).
put_once() {
    local dest=$DESTDIR$2
    if [[ -e "$dest" ]]; then
        if cmp -s "$1" "$dest"; then act keep "$2" "unchanged"; else act keep "$2 (yours: left as it is)" "kept"; fi
        return
    fi
    put "$@"
}

# remove PATH: delete DESTDIR/PATH if it is there.
remove() {
    if [[ -e "$DESTDIR$1" || -L "$DESTDIR$1" ]]; then
        act remove "$1" "removed"
        run rm -rf "$DESTDIR$1"
    fi
}

user_exists() {
    if [[ -n "$DESTDIR" ]]; then grep -q "^$USER_NAME:" "$DESTDIR/etc/passwd" 2>/dev/null; else getent passwd "$USER_NAME" >/dev/null; fi
}
# Only in this system, or in a DESTDIR that is a whole root (one with etc/passwd).
can_manage_users() { [[ -z "$DESTDIR" || -f "$DESTDIR/etc/passwd" ]] && ((EUID == 0 || DRY)); }
root_opt() { [[ -z "$DESTDIR" ]] || printf -- '--root\n%s\n' "$DESTDIR"; }

# ---------------------------------------------------------------------------------------------
uninstall() {
    echo "$PROG: uninstalling from ${DESTDIR:-/} (prefix $PREFIX)$( ((DRY)) && echo ', dry run: nothing changes')"
    local u
    if ((SYSTEMD)); then
        for u in smtp-inspect.service smtp-inspect-iptables.service; do
            if systemctl is-enabled --quiet "$u" 2>/dev/null || systemctl is-active --quiet "$u" 2>/dev/null; then
                act stop "$u (systemctl disable --now; the rules unit removes its rules)" "stopped"
                run systemctl disable --now "$u" || true
            fi
        done
    fi
    # Rules loaded by hand (or without systemd): with the program gone they would stop SMTP.
    local script=$DESTDIR$SBIN/smtp-inspect-iptables rc=0
    if [[ -z "$DESTDIR" && -x "$script" ]]; then
        "$script" status >/dev/null 2>&1 || rc=$?
        if ((rc == 0 || rc == 4)); then
            act remove "the iptables rules (smtp-inspect-iptables remove)" "removed"
            ((DRY)) || "$script" remove | sed 's/^/    /'
        fi
    fi
    if [[ -z "$DESTDIR" ]] && pgrep -x smtp-inspect >/dev/null 2>&1; then
        note "note: an smtp-inspect process still runs (pid $(pgrep -x smtp-inspect | tr '\n' ' ')); it was not started by the unit: stop it yourself"
    fi
    for u in "${UNITS[@]}"; do remove "$UNITDIR/$u"; done
    remove "$SBIN/smtp-inspect"
    remove "$SBIN/smtp-inspect-iptables"
    remove "$DOC"
    if ((PURGE)); then
        remove /etc/smtp-inspect
        remove /etc/default/smtp-inspect
        if user_exists && can_manage_users; then
            act delete "user $USER_NAME" "deleted"
            # shellcheck disable=SC2046
            run userdel $(root_opt) "$USER_NAME"
        fi
    else
        for f in /etc/smtp-inspect /etc/default/smtp-inspect; do
            [[ -e "$DESTDIR$f" ]] && note "kept $f (your configuration; --purge deletes it)"
        done
        user_exists && note "kept the user $USER_NAME (--purge deletes it)"
    fi
    if ((SYSTEMD)); then act reload "systemd (systemctl daemon-reload)" "reloaded"; run systemctl daemon-reload || true; fi
    ((${#did[@]})) || note "nothing to do: smtp-inspect is not installed there"
}

# ---------------------------------------------------------------------------------------------
build() {
    if [[ -n "$BINARY" ]]; then
        [[ -x "$BINARY" && ! -d "$BINARY" ]] || die "--binary $BINARY is not an executable file"
        return
    fi
    [[ -x /opt/swift/usr/bin/swift ]] && ! command -v swift >/dev/null && PATH=/opt/swift/usr/bin:$PATH
    command -v swift >/dev/null || die "no Swift toolchain (swift on PATH or /opt/swift/usr/bin/swift)" \
        "install Swift 6 for Debian 12 (swift.org), or build elsewhere and give --binary PATH"
    local need=(libnetfilter-queue-dev libmnl-dev libnfnetlink-dev libpcap-dev pkg-config gcc libc6-dev) missing=() p
    for p in "${need[@]}"; do
        [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] || missing+=("$p")
    done
    if ((${#missing[@]})); then
        act apt-get "install ${missing[*]} (to build)" "apt-get"
        if ((DRY == 0)); then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
                die "apt-get install ${missing[*]} failed"
        fi
    fi
    local cmd=(swift build -c release --static-swift-stdlib --product smtp-inspect --scratch-path "$SCRATCH")
    if ((DRY)); then
        act build "smtp-inspect: (cd $ROOT && ${cmd[*]})" "built"
        BINARY=$SCRATCH/release/smtp-inspect
        return
    fi
    echo "$PROG: building: ${cmd[*]}"
    local log; log=$(mktemp)
    if ! (cd "$ROOT" && "${cmd[@]}") >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        die "the build failed (its last lines are above)"
    fi
    tail -n 1 "$log" | sed 's/^/  /'
    rm -f "$log"
    BINARY=$(cd "$ROOT" && swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --show-bin-path)/smtp-inspect
}

install_all() {
    echo "$PROG: installing into ${DESTDIR:-/} (prefix $PREFIX)$( ((DRY)) && echo ', dry run: nothing changes')"
    build
    local tmp; tmp=$(mktemp -d)
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" EXIT

    # Runtime needs: iptables, ip, flock for the rules; the libraries the binary links.
    local c missing=()
    for c in iptables-restore iptables-save ip flock sysctl awk; do command -v "$c" >/dev/null || missing+=("$c"); done
    ((${#missing[@]} == 0)) || note "warning: not found here: ${missing[*]} (Debian: apt-get install iptables iproute2 util-linux procps)"
    if [[ -f "$BINARY" ]] && ldd "$BINARY" 2>/dev/null | grep -q 'not found'; then
        note "warning: $BINARY needs libraries this system lacks:"
        ldd "$BINARY" | grep 'not found' | sed 's/^/    /'
        note "(Debian: apt-get install libnetfilter-queue1 libmnl0 libnfnetlink0 libpcap0.8)"
    elif [[ -f "$BINARY" ]] && ldd "$BINARY" 2>/dev/null | grep -q '/opt/swift'; then
        note "note: $BINARY uses the Swift runtime in /opt/swift: keep it installed (or build with --static-swift-stdlib)"
    fi

    # The user the daemon runs as.
    local group=root
    if user_exists; then
        act keep "user $USER_NAME" "unchanged"
        group=$USER_NAME
    elif can_manage_users; then
        act create "system user $USER_NAME (no home, no shell)" "created"
        # shellcheck disable=SC2046
        run useradd $(root_opt) --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "smtp-inspect daemon" "$USER_NAME"
        group=$USER_NAME
    else
        note "note: no user $USER_NAME in ${DESTDIR:-/} (a staging tree): create it on the target (useradd --system $USER_NAME)"
    fi
    ((DRY)) && group=$USER_NAME
    # chown resolves names in this system's files: in a DESTDIR root, use its numeric gid.
    if [[ -n "$DESTDIR" && "$group" != root && -f "$DESTDIR/etc/group" ]] && ((DRY == 0)); then
        owner_group=$(awk -F: -v n="$group" '$1 == n { print $3 }' "$DESTDIR/etc/group")
    else
        owner_group=$group
    fi

    # Programs.
    if ((DRY)) && [[ ! -f "$BINARY" ]]; then
        act install "$SBIN/smtp-inspect (the build's)" "installed"
    else
        put "$BINARY" "$SBIN/smtp-inspect" 0755
    fi
    put "$ROOT/scripts/setup-iptables.sh" "$SBIN/smtp-inspect-iptables" 0755

    # Units, with the programs where --prefix put them.
    local u
    for u in "${UNITS[@]}"; do
        sed -e "s#/usr/local/sbin/#$SBIN/#g" -e "s#/usr/local/share/doc/smtp-inspect#$DOC#g" "$ROOT/deploy/$u" >"$tmp/$u"
        put "$tmp/$u" "$UNITDIR/$u" 0644
    done

    # Examples, and the configuration only where there is none.
    sed 's/\xe2\x88\x92/-/g' "$ROOT/iptables/seed-running-config.txt" >"$tmp/running-config"
    put "$tmp/running-config" "$DOC/running-config.example" 0644
    put "$ROOT/deploy/default" "$DOC/default.example" 0644
    [[ -f "$ROOT/README.md" ]] && put "$ROOT/README.md" "$DOC/README.md" 0644
    if [[ ! -d "$DESTDIR/etc/smtp-inspect" ]]; then
        act create "/etc/smtp-inspect/ (0750 root:$group)" "created"
        run install -d -m 0750 "$DESTDIR/etc/smtp-inspect"
        [[ $EUID != 0 ]] || run chown "root:$owner_group" "$DESTDIR/etc/smtp-inspect"
    fi
    put_once "$tmp/running-config" /etc/smtp-inspect/running-config 0640 "root:$owner_group"
    put_once "$ROOT/deploy/default" /etc/default/smtp-inspect 0644

    if ((SYSTEMD)); then
        act reload "systemd (systemctl daemon-reload)" "reloaded"
        run systemctl daemon-reload || note "warning: systemctl daemon-reload failed"
    fi
    rm -rf "$tmp"
    trap - EXIT

    cat <<EOF

Next steps:
  1. Put the router's IOS configuration in /etc/smtp-inspect/running-config (an example, the
     seed's, is there if there was none) and check it:
       $SBIN/smtp-inspect check --config /etc/smtp-inspect/running-config
  2. Map its interfaces to this router's in /etc/default/smtp-inspect (SMTP_INSPECT_INTERFACES),
     choose fail-closed (default) or fail-open (SMTP_INSPECT_RULE_OPTIONS=--queue-bypass), and
     look at the rules it makes:
       $SBIN/smtp-inspect rules --config /etc/smtp-inspect/running-config --interface ...
  3. Start both units, now and at boot:
       systemctl enable --now smtp-inspect-iptables smtp-inspect
  4. Check: systemctl status smtp-inspect; journalctl -u smtp-inspect -f;
       $SBIN/smtp-inspect show ip inspect sessions detail --control /run/smtp-inspect/control.sock
  Roll back: systemctl disable --now smtp-inspect smtp-inspect-iptables (removes the rules);
  remove the programs: scripts/install.sh --uninstall.
EOF
    ((SYSTEMD)) || note "(systemd is not running here: the units are installed but nothing was started.)"
}

if ((UNINSTALL)); then uninstall; else install_all; fi
