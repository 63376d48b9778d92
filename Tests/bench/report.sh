#!/usr/bin/env bash
# Tests/bench/report.sh: scripts/bench-report.py turns each section's measurements (SECTION.json,
# as scripts/bench.sh writes them) into its BENCHMARKS.md block, unchanged. core.json and
# synflood.json are the measurements behind the blocks BENCHMARKS.md had when the report moved
# from bench.sh's awk to the script, and their .md are those blocks; datapath.json holds that
# block's real runs with made-up allocation samples, and datapath.md is what the awk report
# made of them; tls.json is the TLS run of 4 December 04:42 (five paths) and tls.md its block.
# No root, no build. Ends with "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0
for json in "$here"/*.json; do
    name=$(basename "$json" .json)
    if diff -u "$here/$name.md" <(python3 "$here/../../scripts/bench-report.py" "$json") >"/tmp/bench-report-$$.diff"; then
        passed=$((passed + 1)); echo "PASS  $name: the report equals $name.md"
    else
        failed=$((failed + 1)); echo "FAIL  $name: the report differs from $name.md:"; head -n 40 "/tmp/bench-report-$$.diff"
    fi
    rm -f "/tmp/bench-report-$$.diff"
done
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
