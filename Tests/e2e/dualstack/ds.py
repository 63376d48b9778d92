#!/usr/bin/env python3
"""Clients and listeners of Tests/e2e/dual-stack.sh, for both address families (run in the lab's
namespaces). Addresses are given bare (2001:db8:10:10::2, 10.10.10.2); the family follows.

  ds.py serve tcp|udp ADDR PORT            answer every connection / datagram with "peer A P"
  ds.py probe tcp|udp ADDR PORT T [SRC]    print the answer, or "timeout" (exit 1) / "refused" (2)
                                           / "error: …" (3); SRC binds the source address
  ds.py mail HOST --to TO --body FILE [--expn] [--size N] [--source SRC]
        EHLO (HELO if refused), [EXPN root, expecting 500], MAIL, RCPT, DATA, FILE's lines sent
        with CRLF and dot-stuffed (or, with --size, a body of about N bytes), ".", QUIT. Ends with
        "RESULT ok …" (exit 0) or "RESULT fail: …" / "RESULT reset …" (exit 1).
  ds.py hold HOST --go FILE [--source SRC] [--after rcpt]
        EHLO (HELO if refused), MAIL; prints "HOLD port=P" and waits for FILE; then QUIT, or with
        --after rcpt a RCPT, and prints "OUTCOME reply CODE | reset | eof | timeout".
  ds.py pipeline HOST --to TO
        HELO, then MAIL, RCPT, EXPN root, RCPT, DATA in one send: expects 250 250 500 250 354; the
        message; QUIT.
  ds.py typed HOST --to TO [--expn]
        a session typed one byte per segment (TCP_NODELAY), message included; with --expn an
        `EXPN root` typed so too (expects 500).
"""
import argparse
import os
import socket
import sys
import time


def say(text):
    print(text, flush=True)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(proto, addr, port):
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(family(addr), kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    if proto == "tcp":
        s.listen(64)
    say("listening")
    while True:
        if proto == "tcp":
            c, peer = s.accept()
            try:
                c.sendall(("peer %s %d\n" % peer[:2]).encode())
            finally:
                c.close()
        else:
            data, peer = s.recvfrom(2048)
            s.sendto(("peer %s %d\n" % peer[:2]).encode(), peer)


def probe(proto, addr, port, timeout, source):
    try:
        c = socket.socket(family(addr), socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        c.settimeout(timeout)
        if source:
            c.bind((source, 0))
        if proto == "tcp":
            c.connect((addr, port))
            say(c.recv(200).decode().strip() or "connected, no answer")
        else:
            c.sendto(b"probe\n", (addr, port))
            say(c.recv(200).decode().strip())
    except socket.timeout:
        say("timeout")
        return 1
    except ConnectionRefusedError:
        say("refused")
        return 2
    except OSError as e:
        say("error: %s" % e)
        return 3
    return 0


class Fail(Exception):
    pass


class Session:
    def __init__(self, host, source, timeout=20):
        self.sock = socket.socket(family(host), socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect((host, 25))
        self.port = self.sock.getsockname()[1]
        self.buf = b""
        say("connected port=%d" % self.port)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("EOF from the server")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def reply(self):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line[3:4] != "-":
                say("S: %s" % " | ".join(lines))
                return int(line[:3]), lines

    def cmd(self, text, want=None):
        say("C: %s" % text)
        self.sock.sendall(text.encode("latin-1") + b"\r\n")
        code, lines = self.reply()
        if want is not None and code != want:
            raise Fail("%s: expected %d, got %s" % (text.split(" ")[0], want, " | ".join(lines)))
        return code, lines


def wire_body(body):
    """LF-ended lines as SMTP sends them: CRLF, a leading dot doubled."""
    out = []
    for line in body.split(b"\n")[:-1] if body.endswith(b"\n") else body.split(b"\n"):
        out.append((b"." + line if line.startswith(b".") else line) + b"\r\n")
    return b"".join(out)


def mail(a):
    if a.size:
        body = b"".join(b"line %07d " % i + b"z" * 66 + b"\n" for i in range(a.size // 80 + 1))
    else:
        with open(a.body, "rb") as f:
            body = f.read()
    head = ("From: <ds@client.test>\nTo: <%s>\nSubject: %s\n\n" % (a.to, a.subject)).encode()
    s = Session(a.host, a.source)
    code, _ = s.reply()
    if code != 220:
        raise Fail("greeting %d" % code)
    code, _ = s.cmd("EHLO client.test")
    if code != 250:
        s.cmd("HELO client.test", 250)
    if a.expn:
        code, lines = s.cmd("EXPN root")
        if code != 500:
            raise Fail("EXPN root: expected 500, got %s" % " | ".join(lines))
    s.cmd("MAIL FROM:<ds@client.test>", 250)
    s.cmd("RCPT TO:<%s>" % a.to, 250)
    s.cmd("DATA", 354)
    say("C: <message, %d bytes of body>" % len(body))
    try:
        s.sock.sendall(wire_body(head + body) + b".\r\n")
        code, lines = s.reply()
    except (ConnectionResetError, BrokenPipeError, EOFError) as e:
        return "reset after %d bytes of body (%s)" % (len(body), e), 1
    if code != 250:
        raise Fail("end of data: %s" % " | ".join(lines))
    s.cmd("QUIT", 221)
    return "delivered port=%d (%s)" % (s.port, lines[-1]), 0


def hold(a):
    s = Session(a.host, a.source, timeout=90)
    code, _ = s.reply()
    if code != 220:
        raise Fail("greeting %d" % code)
    code, _ = s.cmd("EHLO client.test")
    if code != 250:
        s.cmd("HELO client.test", 250)   # an `smtp` rule masks EHLO
    s.cmd("MAIL FROM:<ds@client.test>", 250)
    say("HOLD port=%d" % s.port)
    deadline = time.monotonic() + 60
    while not os.path.exists(a.go):
        if time.monotonic() > deadline:
            raise Fail("no --go file")
        time.sleep(0.05)
    if a.after == "rcpt":
        s.sock.settimeout(10)
        try:
            code, lines = s.cmd("RCPT TO:<%s>" % a.to)
            outcome = "reply %d %s" % (code, lines[-1])
        except (ConnectionResetError, BrokenPipeError):
            outcome = "reset"
        except EOFError:
            outcome = "eof"
        except socket.timeout:
            outcome = "timeout"
        say("OUTCOME %s" % outcome)
        return "held port=%d: %s" % (s.port, outcome), 0
    s.cmd("QUIT", 221)
    return "held port=%d" % s.port, 0


def pipeline(a):
    s = Session(a.host, a.source)
    code, _ = s.reply()
    if code != 220:
        raise Fail("greeting %d" % code)
    s.cmd("HELO client.test", 250)
    group = ("MAIL FROM:<ds@client.test>\r\nRCPT TO:<%s>\r\nEXPN root\r\nRCPT TO:<%s>\r\nDATA\r\n" % (a.to, a.to)).encode()
    say("C: <MAIL RCPT EXPN RCPT DATA in one send>")
    s.sock.sendall(group)
    codes = [s.reply()[0] for _ in range(5)]
    if codes != [250, 250, 500, 250, 354]:
        raise Fail("pipelined replies %s, expected [250, 250, 500, 250, 354]" % codes)
    s.sock.sendall(wire_body(b"Subject: pipelined\n\npipelined over IPv6\n") + b".\r\n")
    code, lines = s.reply()
    if code != 250:
        raise Fail("end of data: %s" % " | ".join(lines))
    s.cmd("QUIT", 221)
    return "replies %s; delivered port=%d" % (codes, s.port), 0


def typed(a):
    s = Session(a.host, a.source)
    s.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    code, _ = s.reply()
    if code != 220:
        raise Fail("greeting %d" % code)
    sends = 0

    def type_line(text, want):
        nonlocal sends
        say("C: %s (typed)" % text)
        for byte in (text + "\r\n").encode():
            s.sock.send(bytes([byte]))
            sends += 1
            time.sleep(0.003)
        code, lines = s.reply()
        if code != want:
            raise Fail("%s typed: expected %d, got %s" % (text.split(" ")[0], want, " | ".join(lines)))
    type_line("HELO client.test", 250)
    if a.expn:
        type_line("EXPN root", 500)
    type_line("MAIL FROM:<ds@client.test>", 250)
    type_line("RCPT TO:<%s>" % a.to, 250)
    type_line("DATA", 354)
    for line in ["Subject: typed", "", "typed over IPv6, one byte a segment"]:
        for byte in (line + "\r\n").encode():
            s.sock.send(bytes([byte]))
            sends += 1
            time.sleep(0.003)
    type_line(".", 250)
    s.cmd("QUIT", 221)
    return "%d one-byte sends; delivered port=%d" % (sends, s.port), 0


def main():
    if sys.argv[1] in ("serve", "probe"):
        mode, proto, addr, port = sys.argv[1:5]
        if mode == "serve":
            serve(proto, addr, int(port))
            return 0
        return probe(proto, addr, int(port), float(sys.argv[5]), sys.argv[6] if len(sys.argv) > 6 else None)
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["mail", "hold", "pipeline", "typed"])
    p.add_argument("host")
    p.add_argument("--to", default="ds@example.test")
    p.add_argument("--subject", default="dual-stack")
    p.add_argument("--body", default="")
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--expn", action="store_true")
    p.add_argument("--source", default=None)
    p.add_argument("--go", default="")
    p.add_argument("--after", default="")
    a = p.parse_args()
    try:
        result, rc = {"mail": mail, "hold": hold, "pipeline": pipeline, "typed": typed}[a.mode](a)
    except (Fail, OSError, EOFError) as e:
        say("RESULT fail: %s: %s" % (type(e).__name__, e))
        return 1
    say(("RESULT ok " if rc == 0 else "RESULT ") + result)
    return rc


if __name__ == "__main__":
    sys.exit(main())
