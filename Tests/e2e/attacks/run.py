#!/usr/bin/python3
"""Runs the attacks of cases.py against one server through one rule set, and judges each by what
the server read. Called by Tests/e2e/attacks.sh in the lab's client namespace:

    run.py --label plain4/rec --target 10.10.10.2 --client 172.22.1.50 --router-mac MAC
           (--reclog FILE | --maillog FILE) [--forge-src ADDR] [--forge-global ADDR]
           [--cases PATTERN,...] [--results FILE] [--xfail NAME,...]

Prints one line per case:
    ok   LABEL CASE: server read [...]; alive (must stay alive)
    FAIL LABEL CASE: server read EXPN root as a command: [...]
A case FAILs when the server read a command line starting with EXPN, or when a case that must
stay alive once the inspector is fixed (cases.CASES) lost its session. --xfail NAME lists cases
whose failure is expected (printed XFAIL, not counted). Exit status 1 if any case failed.
"""
import argparse
import fnmatch
import json
import os
import random
import re
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402
import tcpraw  # noqa: E402


class RecorderJudge:
    """The recording server's log: what its application read on the connection from PORT."""

    def __init__(self, path, client):
        self.path, self.client = path, client

    def mark(self):
        return os.path.getsize(self.path)

    def _events(self, mark, port):
        peer = ("[%s]:%d" if ":" in self.client else "%s:%d") % (self.client, port)
        conns, events = set(), []
        with open(self.path) as f:
            f.seek(mark)
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if e.get("ev") == "open" and e.get("peer") == peer:
                    conns.add(e["conn"])
                if e.get("conn") in conns:
                    events.append(e)
        return events

    def wait_closed(self, mark, port, timeout=3.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ev = self._events(mark, port)
            opened = sum(1 for e in ev if e["ev"] == "open")
            closed = sum(1 for e in ev if e["ev"] == "close")
            if opened == closed:
                return
            time.sleep(0.1)

    def read(self, mark, port):
        """(commands, bytes read, messages)"""
        ev = self._events(mark, port)
        cmds = [e["line"] for e in ev if e["ev"] == "cmd"]
        raw = b"".join(bytes.fromhex(e["hex"]) for e in ev if e["ev"] == "read")
        msgs = sum(1 for e in ev if e["ev"] == "message")
        return cmds, raw, msgs


class PostfixJudge:
    """Postfix's maillog with debug_peer_list and smtpd_client_port_logging: every command line
    smtpd read from the client is logged as `< unknown[ADDR]:PORT: LINE`."""

    def __init__(self, path, client):
        self.path, self.client = path, client

    def mark(self):
        return os.path.getsize(self.path)

    def _lines(self, mark):
        with open(self.path, "rb") as f:
            f.seek(mark)
            return f.read().decode("latin-1").splitlines()

    def _who(self, port):
        return "unknown[%s]:%d" % (self.client, port)

    def wait_closed(self, mark, port, timeout=3.0):
        who = self._who(port)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            lines = self._lines(mark)
            c = sum(1 for l in lines if "connect from " + who in l and "disconnect" not in l)
            d = sum(1 for l in lines if "disconnect from " + who in l)
            if c == d:
                return
            time.sleep(0.1)

    def read(self, mark, port):
        prefix = "< %s: " % self._who(port)
        cmds = []
        msgs = 0
        for l in self._lines(mark):
            k = l.find(prefix)
            if k >= 0:
                cmds.append(l[k + len(prefix):])
        return cmds, None, msgs


class Context:
    def __init__(self, args, link):
        self.args, self.link = args, link
        self.forge_src = args.forge_src or args.target
        self.forge_global = args.forge_global
        self.policy = args.policy
        self.ports = []

    def conn(self, **kw):
        port = random.randint(tcpraw.PORT_FIRST, tcpraw.PORT_LAST)
        while port in self.ports:
            port = random.randint(tcpraw.PORT_FIRST, tcpraw.PORT_LAST)
        self.ports.append(port)
        c = tcpraw.Conn(self.link, self.args.client, self.args.target, port, forge_src=self.forge_src, **kw)
        self.opened.append(c)
        return c


def illegal(cmd):
    return re.match(r"\s*EXPN\b", cmd, re.I) is not None


def short(cmds, limit=160):
    text = " | ".join(c if len(c) <= 40 else c[:37] + "..." for c in cmds)
    return "[" + (text if len(text) <= limit else text[:limit - 3] + "...") + "]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--router-mac", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--forge-src")
    ap.add_argument("--forge-global")
    ap.add_argument("--policy", default="esmtp")
    ap.add_argument("--reclog")
    ap.add_argument("--maillog")
    ap.add_argument("--cases", default="*")
    ap.add_argument("--results")
    ap.add_argument("--xfail", default="")
    args = ap.parse_args()

    judge = RecorderJudge(args.reclog, args.client) if args.reclog else PostfixJudge(args.maillog, args.client)
    patterns = [p for p in args.cases.replace(",", " ").split() if p]
    xfail = set(x for x in args.xfail.replace(",", " ").split() if x)
    selected = [c for c in cases.CASES if any(fnmatch.fnmatch(c[0], p) or fnmatch.fnmatch(c[1], p) for p in patterns)]
    link = tcpraw.Link(args.iface, args.router_mac)
    ctx = Context(args, link)
    failed = passed = xfailed = 0
    results = open(args.results, "a") if args.results else None
    for name, klass, must_live, fn in selected:
        ctx.opened = []
        first_port = len(ctx.ports)
        mark = judge.mark()
        alive, note, error = None, "", None
        try:
            alive, note = fn(ctx)
        except cases.Skip as e:
            print("skip %s %s: %s" % (args.label, name, e), flush=True)
            continue
        except Exception as e:  # the session could not be set up: a failure of the case
            error = "%s: %s" % (type(e).__name__, e)
            if os.environ.get("ATTACKS_DEBUG"):
                traceback.print_exc()
        for c in ctx.opened:
            c.close()
        cmds = []
        for port in ctx.ports[first_port:]:
            judge.wait_closed(mark, port)
            got, _, _ = judge.read(mark, port)
            cmds += got
        bad = [c for c in cmds if illegal(c)]
        why = []
        if bad:
            why.append("server read %r as a command" % bad[0])
        if error:
            why.append(error)
        elif must_live and not alive:
            why.append("session did not survive (it must, once fixed)")
        verdict = "FAIL" if why else "ok"
        live = "alive" if alive else ("dead" if alive is not None else "not probed")
        detail = "server read %s; %s%s" % (short(cmds), live, ("; " + note) if note else "")
        if why and name in xfail:
            verdict = "XFAIL"
        if verdict == "ok":
            passed += 1
        elif verdict == "XFAIL":
            xfailed += 1
        else:
            failed += 1
        line = "%-4s %s %s: %s%s" % (verdict, args.label, name, ("; ".join(why) + " -- ") if why else "", detail)
        print(line, flush=True)
        if results:
            results.write("\t".join([args.label, name, klass, verdict, "EXPN" if bad else "-", live,
                                     error or "", short(cmds, 400)]) + "\n")
            results.flush()
    link.stop = True
    print("%s: %d passed, %d failed%s" % (args.label, passed, failed, (", %d xfail" % xfailed) if xfailed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
