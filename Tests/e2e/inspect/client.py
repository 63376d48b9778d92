#!/usr/bin/env python3
"""Scripted SMTP clients for Tests/e2e/inspect-e2e.sh (run in the lab's client namespace).

Each mode talks to HOST:25, prints what it sent and what it got (C:/S: lines), checks the
replies it expects, and ends with one line "RESULT ok ..." (exit 0) or "RESULT fail: why"
(exit 1). Modes that record rather than judge (held, probe) always exit 0.

  expn-mail  EHLO, EXPN root (expects 500), MAIL, RCPT, DATA, body, ".", QUIT in one session
  pipeline   EHLO, then MAIL RCPT VRFY EXPN RCPT DATA in one send; 250 250 252 500 250 354
  typed      a legal session typed one byte per segment (TCP_NODELAY), message included
  typed-bad  EHLO, then illegal verbs typed one byte per segment (each expects 500), QUIT
  held       connect, EHLO, wait for --go FILE, then MAIL: what happens (reply, reset, EOF)
  probe      a TCP connect with a short timeout: connected or timed out
  abort      EHLO, QUIT and at once a RST (SO_LINGER 0), before the server's 221 arrives
"""
import argparse
import socket
import sys
import time

T0 = time.monotonic()


def ms():
    return int((time.monotonic() - T0) * 1000)


def say(text):
    print(text, flush=True)


class Fail(Exception):
    pass


class Session:
    def __init__(self, host, port, timeout, connect_timeout, nodelay=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if SOURCE:
            self.sock.bind((SOURCE, 0))
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(connect_timeout)
        t = time.monotonic()
        self.sock.connect((host, port))
        self.connect_ms = int((time.monotonic() - t) * 1000)
        self.sock.settimeout(timeout)
        self.port = self.sock.getsockname()[1]
        self.buf = b""
        self.sends = 0
        say("connected port=%d after %d ms" % (self.port, self.connect_ms))

    def send(self, data):
        self.sock.sendall(data)
        self.sends += 1

    def type(self, data, delay):
        """One byte per send(); with TCP_NODELAY and a pause each byte is its own segment."""
        for i in range(len(data)):
            self.send(data[i:i + 1])
            time.sleep(delay)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Fail("EOF from server (buffer %r)" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """One (possibly multi-line) reply: (code, [lines])."""
        lines = []
        while True:
            line = self._line()
            lines.append(line.decode("latin-1"))
            if len(line) < 3 or not line[:3].isdigit():
                raise Fail("malformed reply line %r" % line)
            if line[3:4] != b"-":
                return int(line[:3]), lines

    def expect(self, label, code, text=None):
        got, lines = self.reply()
        say("S: %s" % " | ".join(lines))
        if got != code or (text is not None and text not in lines[-1]):
            raise Fail("%s: expected %d%s, got %r" % (label, code, " " + text if text else "", lines))
        return lines

    def cmd(self, line, code, text=None):
        say("C: %s" % line)
        self.send(line.encode("latin-1") + b"\r\n")
        return self.expect(line.split(" ")[0], code, text)

    def typed_cmd(self, line, code, delay, text=None):
        say("C (typed): %s" % line)
        self.type(line.encode("latin-1") + b"\r\n", delay)
        return self.expect(line.split(" ")[0], code, text)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


BODY_OUT = None
SOURCE = None


def message(subject, to, lines):
    """DATA on the wire: headers, the lines dot-stuffed, CRLF.CRLF. With --body-out, writes the
    body Postfix should deliver (LF line ends) to that file."""
    if BODY_OUT:
        with open(BODY_OUT, "wb") as f:
            f.write(b"".join(l.encode() + b"\n" for l in lines))
    head = "From: <e2e@client.test>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n" % (to, subject)
    body = b"".join((b"." if l.startswith(".") else b"") + l.encode() + b"\r\n" for l in lines)
    return head.encode() + body + b".\r\n"


UNKNOWN = "5.5.2"      # Postfix: 500 5.5.2 Error: command not recognized


def mode_expn_mail(a):
    s = Session(a.host, a.port, a.timeout, a.connect_timeout)
    s.expect("banner", 220)
    s.cmd("EHLO client.test", 250)
    lines = s.cmd("EXPN root", 500, UNKNOWN)
    say("EXPN reply: %s" % lines[-1])
    s.cmd("MAIL FROM:<e2e@client.test>", 250)
    s.cmd("RCPT TO:<%s>" % a.to, 250)
    s.cmd("DATA", 354)
    say("C: <message, subject %s>" % a.subject)
    s.send(message(a.subject, a.to, ["expn-mail " + a.subject, "EXPN root in the body stays as it is", ".leading dot"]))
    queued = s.expect("end of data", 250)
    s.cmd("QUIT", 221)
    s.close()
    return "connect_ms=%d %s" % (s.connect_ms, queued[-1])


PIPELINE = [
    ("MAIL FROM:<a@x>", 250, None),
    ("RCPT TO:<b@example.test>", 250, None),
    ("VRFY ok", 252, None),
    ("EXPN staff", 500, UNKNOWN),
    ("RCPT TO:<c@example.test>", 250, None),
    ("DATA", 354, None),
]


def mode_pipeline(a):
    s = Session(a.host, a.port, a.timeout, a.connect_timeout)
    s.expect("banner", 220)
    ehlo = s.cmd("EHLO client.test", 250)
    if not any(l[4:].upper().startswith("PIPELINING") for l in ehlo):
        raise Fail("PIPELINING not advertised: %r" % ehlo)
    batch = "".join(c + "\r\n" for c, _, _ in PIPELINE).encode()
    say("C (one send, %d bytes): %r" % (len(batch), batch))
    s.send(batch)
    codes = []
    for line, code, text in PIPELINE:
        got, lines = s.reply()
        say("S: %s   <- %s" % (" | ".join(lines), line))
        codes.append(got)
        if got != code or (text and text not in lines[-1]):
            raise Fail("pipelined replies %r so far, %s answered %r (expected %d)" % (codes, line, lines, code))
    s.send(message(a.subject, "b@example.test, c@example.test", ["pipelined envelope " + a.subject]))
    queued = s.expect("end of data", 250)
    s.cmd("QUIT", 221)
    s.close()
    return "replies=%s %s" % (",".join(map(str, codes)), queued[-1])


def mode_typed(a):
    s = Session(a.host, a.port, a.timeout, a.connect_timeout, nodelay=True)
    s.expect("banner", 220)
    s.typed_cmd("EHLO client.test", 250, a.delay)
    s.typed_cmd("MAIL FROM:<e2e@client.test>", 250, a.delay)
    s.typed_cmd("RCPT TO:<%s>" % a.to, 250, a.delay)
    s.typed_cmd("DATA", 354, a.delay)
    say("C (typed): <message, subject %s>" % a.subject)
    s.type(message(a.subject, a.to, ["typed one byte per segment", ".leading dot", "EXPN root (body)"]), a.delay)
    queued = s.expect("end of data", 250)
    s.typed_cmd("QUIT", 221, a.delay)
    s.close()
    return "sends=%d %s" % (s.sends, queued[-1])


def mode_typed_bad(a):
    s = Session(a.host, a.port, a.timeout, a.connect_timeout, nodelay=True)
    s.expect("banner", 220)
    s.typed_cmd("EHLO client.test", 250, a.delay)
    replies = []
    for line in a.line:
        r = s.typed_cmd(line, 500, a.delay, UNKNOWN)
        replies.append("%s => %s" % (line, r[-1]))
    s.typed_cmd("QUIT", 221, a.delay)
    s.close()
    return "sends=%d %s" % (s.sends, "; ".join(replies))


def mode_held(a):
    """Records what happens; exit 0 unless the session could not even be set up."""
    import os
    s = Session(a.host, a.port, a.timeout, a.connect_timeout)
    s.expect("banner", 220)
    s.cmd("EHLO client.test", 250)
    say("READY")
    deadline = time.monotonic() + a.wait
    while not os.path.exists(a.go):
        if time.monotonic() > deadline:
            raise Fail("no go file after %d s" % a.wait)
        time.sleep(0.05)
    t = time.monotonic()
    say("C: MAIL FROM:<held@client.test>")
    try:
        s.send(b"MAIL FROM:<held@client.test>\r\n")
        code, lines = s.reply()
        outcome = "reply %s" % " | ".join(lines)
    except ConnectionResetError:
        outcome = "reset"
    except Fail as e:
        outcome = "eof" if "EOF" in str(e) else "error %s" % e
    except socket.timeout:
        outcome = "timeout"
    except OSError as e:
        outcome = "error %s" % e
    say("OUTCOME %s after %d ms" % (outcome, (time.monotonic() - t) * 1000))
    s.close()
    return "outcome=%s" % outcome.split(" ")[0]


def mode_abort(a):
    """EHLO, then QUIT and an immediate abortive close (SO_LINGER 0: a RST follows the QUIT at
    once), so the server's 221 and FIN are still on their way when the RST has passed."""
    import struct
    s = Session(a.host, a.port, a.timeout, a.connect_timeout, nodelay=True)
    s.expect("banner", 220)
    s.cmd("EHLO client.test", 250)
    s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    say("C: QUIT, then close with RST")
    s.send(b"QUIT\r\n")
    s.close()
    return "port=%d aborted" % s.port


def mode_probe(a):
    try:
        s = Session(a.host, a.port, a.timeout, a.connect_timeout)
    except socket.timeout:
        return "timeout after %d ms" % ms()
    except OSError as e:
        return "error %s after %d ms" % (e, ms())
    try:
        code, lines = s.reply()
        banner = lines[-1]
    except (OSError, Fail) as e:
        banner = "no banner (%s)" % e
    s.close()
    return "connected after %d ms, %s" % (s.connect_ms, banner)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["expn-mail", "pipeline", "typed", "typed-bad", "held", "probe", "abort"])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--to", default="e2e@example.test")
    p.add_argument("--subject", default="e2e")
    p.add_argument("--timeout", type=float, default=15, help="per reply")
    p.add_argument("--connect-timeout", type=float, default=10)
    p.add_argument("--delay", type=float, default=0.004, help="between typed bytes")
    p.add_argument("--line", action="append", default=[], help="typed-bad: an illegal command line")
    p.add_argument("--go", help="held: proceed when this file exists")
    p.add_argument("--wait", type=float, default=120, help="held: longest wait for --go")
    p.add_argument("--source", help="local address to connect from")
    p.add_argument("--body-out", help="write the body the server should deliver to this file")
    a = p.parse_args()
    global BODY_OUT, SOURCE
    BODY_OUT = a.body_out
    SOURCE = a.source
    fn = globals()["mode_" + a.mode.replace("-", "_")]
    try:
        result = fn(a)
    except Fail as e:
        say("RESULT fail: %s (at %d ms)" % (e, ms()))
        return 1
    except (OSError, socket.timeout) as e:
        say("RESULT fail: %s: %s (at %d ms)" % (type(e).__name__, e, ms()))
        return 1
    say("RESULT ok %s (%d ms)" % (result, ms()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
