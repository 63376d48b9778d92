#!/usr/bin/env bash
# Replays each capture fixture through `smtp-inspect replay` and compares, with the golden
# file beside it, the alerts and summary it prints and the packets it writes (dumped by
# dump-pcap.py). No root needed. UPDATE_GOLDEN=1 rewrites the goldens: review them as a diff.
#
#   Tests/replay/run.sh [PATH-TO-smtp-inspect]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-${SMTP_INSPECT_BIN:-}}
if [[ -z "$bin" ]]; then
    (cd "$here/../.." && swift build --product smtp-inspect >/dev/null)
    bin=$(cd "$here/../.." && swift build --product smtp-inspect --show-bin-path)/smtp-inspect
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for pcap in "$here"/fixtures/*.pcap; do
    name=$(basename "$pcap" .pcap)
    golden=$here/fixtures/$name.expected
    {
        "$bin" replay "$pcap" --write "$work/$name.out.pcap" --debug smtp
        echo "--- packets as they leave the inspector"
        python3 "$here/dump-pcap.py" "$work/$name.out.pcap"
    } > "$work/$name.actual" 2>&1
    if [[ "${UPDATE_GOLDEN:-}" == 1 ]]; then
        cp "$work/$name.actual" "$golden"
        echo "updated $name"
    elif diff -u "$golden" "$work/$name.actual" > "$work/$name.diff"; then
        echo "PASS  $name"
    else
        echo "FAIL  $name"; head -40 "$work/$name.diff"; failed=1
    fi
done
exit $failed
