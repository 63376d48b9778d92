#!/usr/bin/env python3
"""Every rule set `check` accepts must load, and load as written (issue 10, "Fuzzing").

    Tests/fuzz/iptables-check.py FUZZ_BIN DIR... [--sample N]

For each configuration file under DIR (at most N, default 200, spread evenly over the sorted
names), `FUZZ_BIN config --rules FILE` prints the rules `smtp-inspect rules` would print with
every interface mapped (exit 3: `check` refuses the file, nothing to load): the IPv4 set, then
after the `# ==== IPv6` line the IPv6 set. They are loaded for real with `iptables-restore
--noflush` and `ip6tables-restore --noflush` in a throwaway network namespace (`unshare --net`,
root only; nothing outside it is touched) and read back with `iptables-save` and
`ip6tables-save` (after the conntrack timeout policies they name are made with `nfct`, as
scripts/setup-iptables.sh does): every chain must hold the rules it was given, with the same targets in the same
order. `--test` alone is not enough: a NUL in a comment cut the rule there, and
iptables-restore loaded the rest without its `-j`.

Exit status 0 when every accepted rule set loaded as written; 1 otherwise (each failure is
printed with its file and what differed); 2 on a usage error.
"""
import os
import shlex
import subprocess
import sys
import tempfile


def targets(text):
    """{(table, chain): [target...]} of the -A/-I rules in iptables-restore text."""
    table = None
    rules = {}
    for raw in text.split("\n"):
        line = raw.strip()
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith("-A ") or line.startswith("-I "):
            try:
                words = shlex.split(line)
            except ValueError:
                words = line.split()
            chain = words[1]
            target = "(none)"
            for k, word in enumerate(words[:-1]):
                if word in ("-j", "-g", "--jump", "--goto"):
                    target = word.lstrip("-")[0] + " " + words[k + 1]
            rules.setdefault((table, chain), []).append(target)
    return rules


SEPARATOR = "# ==== IPv6"


def split_families(text):
    """(IPv4 text, IPv6 text) of `smtp-inspect rules` output."""
    lines = text.split("\n")
    for k, line in enumerate(lines):
        if line.startswith(SEPARATOR):
            return "\n".join(lines[:k]) + "\n", "\n".join(lines[k:])
    return text, ""


def load(ipv4, ipv6):
    """Loads both rule sets in a new network namespace; returns (ok, saved IPv4, saved IPv6 or
    the error)."""
    with tempfile.TemporaryDirectory() as scratch:
        for name, text in (("v4", ipv4), ("v6", ipv6)):
            with open(os.path.join(scratch, name), "wb") as f:
                f.write(text.encode("utf-8", "surrogateescape"))
        # The conntrack timeout policies the rules name come first (`# SETUP timeout NAME
        # POLICY...`, `timeout6` for IPv6), as scripts/setup-iptables.sh makes them.
        policies = []
        for text, keyword, l3 in ((ipv4, "timeout", "inet"), (ipv6, "timeout6", "inet6")):
            for line in text.split("\n"):
                words = line.split()
                if len(words) > 3 and words[:3] == ["#", "SETUP", keyword]:
                    policies.append(" ".join(["nfct", "add", "timeout", shlex.quote(words[3]), l3]
                                             + [shlex.quote(w) for w in words[4:]]))
        script = " && ".join(policies + [
            f"iptables-restore --noflush {scratch}/v4", f"ip6tables-restore --noflush {scratch}/v6",
            f"iptables-save >{scratch}/s4", f"ip6tables-save >{scratch}/s6"])
        done = subprocess.run(["unshare", "--net", "sh", "-c", script], capture_output=True, timeout=60)
        if done.returncode != 0:
            return False, done.stderr.decode("utf-8", "replace").strip(), ""
        saved = []
        for name in ("s4", "s6"):
            with open(os.path.join(scratch, name), "rb") as f:
                saved.append(f.read().decode("utf-8", "replace"))
        return True, saved[0], saved[1]


def main(argv):
    args = argv[1:]
    sample = 200
    if "--sample" in args:
        k = args.index("--sample")
        sample = int(args[k + 1])
        del args[k:k + 2]
    if len(args) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("iptables-check: loading rules needs root (a network namespace of its own)", file=sys.stderr)
        return 2
    fuzz, dirs = args[0], args[1:]
    files = sorted(os.path.join(d, n) for d in dirs for n in os.listdir(d)
                   if not n.startswith(".") and not n.endswith(".md"))
    if len(files) > sample:
        step = len(files) / sample
        files = [files[int(k * step)] for k in range(sample)]
    counts = {"refused by check": 0, "loaded as written": 0, "failed": 0}
    for path in files:
        made = subprocess.run([fuzz, "config", "--rules", path], capture_output=True, timeout=60)
        if made.returncode == 3:
            counts["refused by check"] += 1
            continue
        if made.returncode != 0:
            counts["failed"] += 1
            print(f"FAIL {path}: smtp-inspect-fuzz config --rules exited {made.returncode}\n"
                  f"{made.stderr.decode('utf-8', 'replace')[-2000:]}")
            continue
        ipv4, ipv6 = split_families(made.stdout.decode("utf-8", "surrogateescape"))
        ok, saved4, saved6 = load(ipv4, ipv6)
        problem = None
        if not ok:
            problem = f"iptables-restore or ip6tables-restore refused the rules: {saved4[-1000:]}"
        else:
            for family, text, saved in (("IPv4", ipv4, saved4), ("IPv6", ipv6, saved6)):
                want, got = targets(text), targets(saved)
                for key in sorted(want, key=str):
                    if got.get(key, []) != want[key]:
                        problem = (f"{family} table {key[0]} chain {key[1]}: the file has targets {want[key]}, "
                                   f"the kernel shows {got.get(key, [])}")
                        break
                if problem:
                    break
        if problem is None:
            counts["loaded as written"] += 1
        else:
            counts["failed"] += 1
            print(f"FAIL {path}: {problem}")
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    print(f"iptables-check: {len(files)} configurations: {summary}")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
