#!/usr/bin/env python3
"""Scripted SMTP clients for Tests/e2e/daemon-config.sh and control-socket.sh (run in the lab's
client namespace, talking to 172.22.1.110:25 through the router's NAT and smtp-inspect).

Every mode prints what it sent and got (C:/S: lines), counts the bytes it sent and received
(payload, as the inspector's per-session counters see them), and ends with one line
"RESULT ok ..." (exit 0) or "RESULT fail: why" (exit 1).

  expn  greeting, EHLO (the seed's OUT-IN rule is `smtp`: EHLO is masked, the 500 makes the
        client fall back to HELO), EXPN root (expects 500), MAIL, RCPT, DATA, ".", QUIT
  hold  greeting, HELO, MAIL, RCPT; prints "HOLD port=P sent=N received=M" and waits for the
        file --go; then QUIT, 221, close; prints "DONE port=P sent=N received=M"
  two   greeting, HELO, MAIL, RCPT, DATA, a small first message, 250; prints "FIRST ..." and
        waits for --go; then MAIL, RCPT, DATA and a second message of --size2 bytes; prints
        "OUTCOME reset|eof|reply CODE|timeout" (what became of the second message)
  flood --sessions N --lines M: N sessions, each greeting and HELO; then each sends M illegal
        lines `X` (the seed's rule masks them: one alert each) and QUIT in one write, all N
        within moments; reads what the server answers until it closes; prints
        "FLOOD sessions=N lines=TOTAL"
"""
import argparse
import os
import socket
import sys
import time


def say(text):
    print(text, flush=True)


class Fail(Exception):
    pass


class Session:
    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.port = self.sock.getsockname()[1]
        self.buf = b""
        self.sent = 0
        self.received = 0
        say("connected port=%d" % self.port)

    def send(self, data):
        self.sock.sendall(data)
        self.sent += len(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("EOF from server (buffer %r)" % self.buf)
            self.received += len(chunk)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        lines = []
        while True:
            line = self._line()
            lines.append(line.decode("latin-1"))
            if len(line) < 3 or not line[:3].isdigit():
                raise Fail("malformed reply line %r" % line)
            if line[3:4] != b"-":
                say("S: %s" % " | ".join(lines))
                return int(line[:3]), lines

    def cmd(self, line, code=None):
        say("C: %s" % line)
        self.send(line.encode("latin-1") + b"\r\n")
        got, lines = self.reply()
        if code is not None and got != code:
            raise Fail("%s: expected %d, got %r" % (line.split(" ")[0], code, lines))
        return got, lines

    def counts(self):
        return "port=%d sent=%d received=%d" % (self.port, self.sent, self.received)


def message(subject, to, size):
    """A message of about `size` bytes on the wire (headers, 76-byte lines, CRLF.CRLF)."""
    head = ("From: <e2e@client.test>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n" % (to, subject)).encode()
    body = b""
    n = 0
    while len(head) + len(body) + 3 < size:
        body += ("line %06d " % n).encode() + b"y" * 63 + b"\r\n"
        n += 1
    return head + body + b".\r\n"


def greet(s, helo):
    got, _ = s.reply()
    if got != 220:
        raise Fail("greeting %d" % got)
    got, _ = s.cmd("EHLO " + helo)
    if got != 250:
        s.cmd("HELO " + helo, 250)


def mode_expn(a):
    s = Session(a.host, a.port, a.timeout)
    greet(s, "client.test")
    got, lines = s.cmd("EXPN root")
    if got != 500:
        raise Fail("EXPN root: expected 500, got %r" % lines)
    s.cmd("MAIL FROM:<e2e@client.test>", 250)
    s.cmd("RCPT TO:<%s>" % a.to, 250)
    s.cmd("DATA", 354)
    s.send(message(a.subject, a.to, 400))
    got, lines = s.reply()
    if got != 250:
        raise Fail("end of data: %r" % lines)
    s.cmd("QUIT", 221)
    s.sock.close()
    return "EXPN 500 (%s); %s" % (lines[-1], s.counts())


def wait_go(path, limit):
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise Fail("no --go file after %d s" % limit)
        time.sleep(0.05)


def mode_hold(a):
    s = Session(a.host, a.port, a.timeout)
    greet(s, "client.test")
    s.cmd("MAIL FROM:<e2e@client.test>", 250)
    s.cmd("RCPT TO:<%s>" % a.to, 250)
    say("HOLD %s" % s.counts())
    wait_go(a.go, a.wait)
    s.cmd("QUIT", 221)
    # Read to the server's FIN so its every byte is counted, then close.
    while True:
        chunk = s.sock.recv(65536)
        if not chunk:
            break
        s.received += len(chunk)
    s.sock.close()
    say("DONE %s" % s.counts())
    return s.counts()


def mode_two(a):
    s = Session(a.host, a.port, a.timeout)
    greet(s, "client.test")
    s.cmd("MAIL FROM:<e2e@client.test>", 250)
    s.cmd("RCPT TO:<%s>" % a.to, 250)
    s.cmd("DATA", 354)
    first = message(a.subject + " first", a.to, a.size1)
    s.send(first)
    got, lines = s.reply()
    if got != 250:
        raise Fail("first message: %r" % lines)
    say("FIRST delivered %d bytes; %s" % (len(first), s.counts()))
    wait_go(a.go, a.wait)
    try:
        s.cmd("MAIL FROM:<e2e@client.test>", 250)
        s.cmd("RCPT TO:<%s>" % a.to, 250)
        s.cmd("DATA", 354)
        second = message(a.subject + " second", a.to, a.size2)
        say("C: <second message, %d bytes>" % len(second))
        s.send(second)
        got, lines = s.reply()
        outcome = "reply %d %s" % (got, lines[-1])
    except ConnectionResetError as e:
        outcome = "reset (%s)" % e
    except BrokenPipeError as e:
        outcome = "reset (broken pipe: %s)" % e
    except EOFError as e:
        outcome = "eof (%s)" % e
    except socket.timeout:
        outcome = "timeout"
    say("OUTCOME %s" % outcome)
    s.sock.close()
    return outcome


def mode_flood(a):
    sessions = []
    for _ in range(a.sessions):
        s = Session(a.host, a.port, a.timeout)
        got, _ = s.reply()
        if got != 220:
            raise Fail("greeting %d" % got)
        s.cmd("HELO client.test", 250)
        sessions.append(s)
    flood = b"X\r\n" * a.lines + b"QUIT\r\n"
    for s in sessions:
        s.send(flood)
    say("C: %d x (%d lines of X, QUIT)" % (a.sessions, a.lines))
    answered = 0
    for s in sessions:
        try:
            while True:
                chunk = s.sock.recv(65536)
                if not chunk:
                    break
                answered += chunk.count(b"\r\n")
        except OSError:
            pass  # the server may reset a session it closed with our lines unread
        s.sock.close()
    total = a.sessions * a.lines
    say("FLOOD sessions=%d lines=%d" % (a.sessions, total))
    return "%d illegal lines in %d sessions; %d reply lines" % (total, a.sessions, answered)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["expn", "hold", "two", "flood"])
    p.add_argument("--host", default="172.22.1.110")
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("--to", default="e2e@example.test")
    p.add_argument("--subject", default="daemon e2e")
    p.add_argument("--go", default="")
    p.add_argument("--wait", type=float, default=60)
    p.add_argument("--size1", type=int, default=300)
    p.add_argument("--size2", type=int, default=5000)
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--lines", type=int, default=700)
    a = p.parse_args()
    try:
        result = {"expn": mode_expn, "hold": mode_hold, "two": mode_two, "flood": mode_flood}[a.mode](a)
    except (Fail, OSError, EOFError) as e:
        say("RESULT fail: %s: %s" % (type(e).__name__, e))
        return 1
    say("RESULT ok %s" % result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
