#!/usr/bin/env python3
"""Every rule set `check` accepts must load, and load as written (issue 10, "Fuzzing").

    Tests/fuzz/iptables-check.py FUZZ_BIN DIR... [--sample N]

For each configuration file under DIR (at most N, default 200, spread evenly over the sorted
names), `FUZZ_BIN config --rules FILE` prints the rules `smtp-inspect rules` would print with
every interface mapped (exit 3: `check` refuses the file, nothing to load). The rules are then loaded for real with
`iptables-restore --noflush` in a throwaway network namespace (`unshare --net`, root only;
nothing outside it is touched) and read back with `iptables-save`: every chain must hold the
rules it was given, with the same targets in the same order. `--test` alone is not enough: a NUL
in a comment cuts the rule there, and iptables-restore loads the rest without its `-j`.

Exit status 0 when every accepted rule set loaded as written; 1 otherwise (each failure is
printed with its file and what differed); 2 on a usage error.
"""
import os
import shlex
import subprocess
import sys


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


def load(rules_text):
    """Loads the rules in a new network namespace; returns (ok, iptables-save output or error)."""
    script = "iptables-restore --noflush && iptables-save"
    done = subprocess.run(["unshare", "--net", "sh", "-c", script], input=rules_text.encode("utf-8", "surrogateescape"),
                          capture_output=True, timeout=60)
    if done.returncode != 0:
        return False, done.stderr.decode("utf-8", "replace").strip()
    return True, done.stdout.decode("utf-8", "replace")


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
        text = made.stdout.decode("utf-8", "surrogateescape")
        ok, saved = load(text)
        problem = None
        if not ok:
            problem = f"iptables-restore refused the rules: {saved[-1000:]}"
        else:
            want, got = targets(text), targets(saved)
            for key in sorted(want, key=str):
                if got.get(key, []) != want[key]:
                    problem = (f"table {key[0]} chain {key[1]}: the file has targets {want[key]}, "
                               f"iptables-save shows {got.get(key, [])}")
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
