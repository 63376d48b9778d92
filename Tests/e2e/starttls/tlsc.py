#!/usr/bin/env python3
"""STARTTLS clients and a recording SMTP server for Tests/e2e/starttls.sh (run in the lab).

    tlsc.py MODE [options]

Clients (each prints what it sent and got, C:/S: lines, and ends with "RESULT ok ..." (exit 0)
or "RESULT fail: why" (exit 1)):

  mail        greeting, EHLO (STARTTLS must be offered), STARTTLS (220), the TLS handshake (the
              server's certificate verified against --cafile, name --tls-name), EHLO again, MAIL,
              RCPT, DATA, the --body file (LF line ends; sent dot-stuffed with CRLF, so the
              Maildir copy equals the file), QUIT. Pauses for the test: --pause-plain FILE
              prints "PLAIN port=P" after the first EHLO and waits until FILE exists;
              --pause-tls FILE prints "TLS port=P PROTOCOL CIPHER" after the second EHLO and
              waits likewise. Prints "SENT n bytes" once the message is accepted.
  plain       EHLO, STARTTLS (expects 220), then instead of a handshake the plaintext --line
              (EXPN root): prints "OUTCOME reply CODE TEXT|reset|eof|timeout", what became of it.
              Exit 0 whatever the outcome (the test judges it).
  refused     EHLO --helo, STARTTLS (prints its reply, which must not be 220), then each --line
              with its reply, then QUIT.
  expn        EHLO, EXPN root (prints its reply), QUIT; with --bind-port P from port P (to reuse
              the ports of an earlier connection). --pause-plain FILE prints "PLAIN port=P" after
              the EXPN reply and waits until FILE exists before the QUIT.
  tls         EHLO --helo, STARTTLS (220), the TLS handshake, EHLO again; --pause-tls FILE prints
              "TLS port=P PROTOCOL CIPHER" and waits until FILE exists; then each --line over TLS
              and QUIT, printing "OUTCOME reply CODE TEXT|reset|eof|timeout|error" for each.
              Exit 0 whatever the outcomes (the test judges them).
  make-body   OUT SIZE: a deterministic body of about SIZE bytes (LF line ends) to OUT.

Server:

  record      --listen ADDR --port P --dir DIR: an SMTP server on ADDR (IPv4 or IPv6) that
              writes every byte each connection sends to DIR/<peer address>-<peer port>.in. It
              offers STARTTLS; to STARTTLS it answers 454 when the EHLO name contains "454",
              else 220 and then does NOT switch to TLS: it goes on reading lines as commands,
              as a server fooled by plaintext after the 220 would (each is recorded and answered
              500). EXPN, VRFY and unknown commands: 500; MAIL, RCPT, RSET, NOOP: 250; QUIT: 221
              and close.
              With --cert and --key, an EHLO name containing "tls" makes it switch for real after
              the 220 (a TLS handshake with that certificate; what it reads inside TLS is recorded
              too), and one containing "abort" makes it answer QUIT with an RST (SO_LINGER 0)
              instead of 221. A second connection from the same peer address and port is recorded
              to DIR/<peer address>-<peer port>.2.in (.3.in ...), the first one's file kept.
"""
import argparse
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from smtpc import Fail, ServerClosed, ms, outcome_of, say, wait_for  # noqa: E402  (the e2e client's helpers)


class Conn:
    """One SMTP client connection; `sock` becomes the TLS socket after starttls()."""

    def __init__(self, a):
        family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if a.bind_port:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", a.bind_port))
        self.sock.settimeout(a.connect_timeout)
        self.sock.connect((a.host, a.port))
        self.sock.settimeout(a.timeout)
        self.port = self.sock.getsockname()[1]
        self.buf = b""
        say("connected port=%d" % self.port)

    def send(self, data):
        self.sock.sendall(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ServerClosed("EOF from server (buffer %r)" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def reply(self, label, code=None):
        lines = []
        while True:
            line = self._line()
            lines.append(line)
            if len(line) < 3 or not line[:3].isdigit():
                raise Fail("malformed reply line %r" % line)
            if line[3:4] != "-":
                break
        say("S: %s" % " | ".join(lines))
        got = int(lines[-1][:3])
        if code is not None and got != code:
            raise Fail("%s: expected %d, got %r" % (label, code, lines))
        return got, lines

    def cmd(self, line, code=None):
        say("C: %s" % line)
        self.send(line.encode("latin-1") + b"\r\n")
        return self.reply(line.split(" ")[0], code)

    def starttls(self, a):
        if self.buf:
            raise Fail("bytes after the 220 before the handshake: %r" % self.buf)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if a.cafile:
            ctx.load_verify_locations(a.cafile)
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock, server_hostname=a.tls_name)
        say("TLS established: %s %s" % (self.sock.version(), self.sock.cipher()[0]))


def offered(lines, keyword):
    return any(l[4:].split(" ")[0].upper() == keyword for l in lines[1:])


def wire_message(body, a):
    head = "From: <tls@client.test>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n" % (a.to, a.subject)
    out = []
    for line in body.split(b"\n")[:-1] if body.endswith(b"\n") else body.split(b"\n"):
        out.append((b"." if line.startswith(b".") else b"") + line + b"\r\n")
    return head.encode() + b"".join(out) + b".\r\n"


def mode_mail(a):
    with open(a.body, "rb") as f:
        body = f.read()
    c = Conn(a)
    c.reply("greeting", 220)
    _, ehlo = c.cmd("EHLO " + a.helo, 250)
    if not offered(ehlo, "STARTTLS"):
        raise Fail("STARTTLS not offered: %r" % ehlo)
    if a.pause_plain:
        say("PLAIN port=%d" % c.port)
        wait_for(a.pause_plain, a.wait)
    c.cmd("STARTTLS", 220)
    c.starttls(a)
    proto = "%s %s" % (c.sock.version(), c.sock.cipher()[0])
    _, ehlo2 = c.cmd("EHLO " + a.helo, 250)
    if offered(ehlo2, "STARTTLS"):
        raise Fail("STARTTLS offered again inside TLS: %r" % ehlo2)
    if a.pause_tls:
        say("TLS port=%d %s" % (c.port, proto))
        wait_for(a.pause_tls, a.wait)
    c.cmd("MAIL FROM:<tls@client.test>", 250)
    c.cmd("RCPT TO:<%s>" % a.to, 250)
    c.cmd("DATA", 354)
    data = wire_message(body, a)
    say("C: <message, %d bytes on the wire, body %d bytes>" % (len(data), len(body)))
    c.send(data)
    _, queued = c.reply("end of data", 250)
    say("SENT %d bytes" % len(data))
    c.cmd("QUIT", 221)
    c.sock.close()
    return "port=%d %s %s" % (c.port, proto, queued[-1])


def line_outcome(c, line):
    """Sends LINE and prints what became of it ("OUTCOME reply CODE TEXT|reset|eof|timeout|error")."""
    def send():
        c.send(line.encode("latin-1") + b"\r\n")
        got, lines = c.reply(line.split(" ")[0])
        return "reply %d %s" % (got, lines[-1])
    outcome = outcome_of(send)
    say("OUTCOME %s" % outcome)
    return outcome


def mode_plain(a):
    c = Conn(a)
    c.reply("greeting", 220)
    _, ehlo = c.cmd("EHLO " + a.helo, 250)
    c.cmd("STARTTLS", 220)
    line = a.line[0] if a.line else "EXPN root"
    say("C (plaintext after the 220): %s" % line)
    outcome = line_outcome(c, line)
    c.sock.close()
    return "port=%d outcome=%s" % (c.port, outcome.split(" ")[0])


def mode_refused(a):
    c = Conn(a)
    c.reply("greeting", 220)
    c.cmd("EHLO " + a.helo, 250)
    got, lines = c.cmd("STARTTLS")
    if got == 220:
        raise Fail("STARTTLS answered 220, expected a refusal")
    say("STARTTLS %d" % got)
    answers = []
    for line in a.line:
        code, replies = c.cmd(line)
        answers.append("%s => %s" % (line, replies[-1]))
    c.cmd("QUIT", 221)
    c.sock.close()
    return "port=%d starttls=%d; %s" % (c.port, got, "; ".join(answers))


def mode_expn(a):
    c = Conn(a)
    c.reply("greeting", 220)
    c.cmd("EHLO " + a.helo, 250)
    _, lines = c.cmd("EXPN root")
    if a.pause_plain:
        say("PLAIN port=%d" % c.port)
        wait_for(a.pause_plain, a.wait)
    c.cmd("QUIT", 221)
    c.sock.close()
    return "port=%d EXPN => %s" % (c.port, lines[-1])


def mode_tls(a):
    c = Conn(a)
    c.reply("greeting", 220)
    c.cmd("EHLO " + a.helo, 250)
    c.cmd("STARTTLS", 220)
    c.starttls(a)
    proto = "%s %s" % (c.sock.version(), c.sock.cipher()[0])
    c.cmd("EHLO " + a.helo, 250)
    if a.pause_tls:
        say("TLS port=%d %s" % (c.port, proto))
        wait_for(a.pause_tls, a.wait)
    outcomes = []
    for line in a.line + ["QUIT"]:
        say("C: %s" % line)
        outcome = line_outcome(c, line)
        outcomes.append("%s => %s" % (line, outcome.split(" ")[0]))
        if not outcome.startswith("reply"):
            break
    c.sock.close()
    return "port=%d %s; %s" % (c.port, proto, "; ".join(outcomes))


def mode_make_body(a):
    out, size = a.args[0], int(a.args[1])
    parts, n, total = [], 0, 0
    while total < size:
        line = ("line %07d " % n).encode() + (b"." if n % 97 == 0 else b"") + b"z" * 60 + b"\n"
        if n % 13 == 0:
            line = b"." + line          # dot-stuffing on the wire
        parts.append(line)
        total += len(line)
        n += 1
    with open(out, "wb") as f:
        f.write(b"".join(parts))
    return "%d lines, %d bytes" % (n, total)


# ---------------------------------------------------------------------------------------------
# The recording server

class Recorder(socketserver.StreamRequestHandler):
    def handle(self):
        peer = self.client_address
        path = os.path.join(self.server.dir, "%s-%d.in" % (peer[0], peer[1]))
        n = 1
        while os.path.exists(path):
            n += 1
            path = os.path.join(self.server.dir, "%s-%d.%d.in" % (peer[0], peer[1], n))
        rec = open(path, "wb", buffering=0)
        out, inp = self.wfile, self.rfile
        tls = None

        def reply(text):
            out.write(text.encode() + b"\r\n")
            out.flush()

        reply("220 recorder.lab.test ESMTP recorder")
        helo = ""
        try:
            while True:
                line = inp.readline(4096)
                if not line:
                    return
                rec.write(line)
                verb = line.strip().split(b" ")[0].upper()
                if verb in (b"EHLO", b"HELO"):
                    helo = line.decode("latin-1").strip()
                    reply("250-recorder.lab.test\r\n250-PIPELINING\r\n250 STARTTLS" if verb == b"EHLO" else "250 recorder")
                elif verb == b"STARTTLS":
                    if "454" in helo:
                        reply("454 4.7.0 TLS not available due to local problem")
                    elif "tls" in helo and self.server.tls and tls is None:
                        reply("220 2.0.0 Ready to start TLS")
                        tls = self.server.tls.wrap_socket(self.connection, server_side=True)
                        out, inp = tls.makefile("wb"), tls.makefile("rb")
                    else:
                        reply("220 2.0.0 Ready to start TLS")
                        # ... and never switches: what follows is read as commands.
                elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    reply("250 2.0.0 Ok")
                elif verb == b"QUIT" and "abort" in helo:
                    # An RST from the server's side (conntrack: the entry stays, CLOSE).
                    sock = tls or self.connection     # (wrapping detached self.connection)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()
                    return
                elif verb == b"QUIT":
                    reply("221 2.0.0 Bye")
                    return
                else:
                    reply("500 5.5.2 Error: command not recognized")
        except OSError:
            return
        finally:
            rec.close()
            if tls:
                tls.close()


class RecordServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class RecordServer6(RecordServer):
    address_family = socket.AF_INET6


def mode_record(a):
    os.makedirs(a.dir, exist_ok=True)
    srv = (RecordServer6 if ":" in a.listen else RecordServer)((a.listen, a.port), Recorder)
    srv.dir = a.dir
    srv.tls = None
    if a.cert:
        srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.tls.load_cert_chain(a.cert, a.key)
    say("listening on %s:%d, recording to %s" % (a.listen, a.port, a.dir))
    srv.serve_forever()
    return "stopped"


MODES = {"mail": mode_mail, "plain": mode_plain, "refused": mode_refused, "expn": mode_expn, "tls": mode_tls,
         "make-body": mode_make_body, "record": mode_record}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=sorted(MODES))
    p.add_argument("args", nargs="*", help="make-body: OUT SIZE")
    p.add_argument("--host")
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--helo", default="client.test")
    p.add_argument("--bind-port", type=int, default=0, help="connect from this port (SO_REUSEADDR)")
    p.add_argument("--timeout", type=float, default=15, help="per reply")
    p.add_argument("--connect-timeout", type=float, default=10)
    p.add_argument("--to", default="tls@example.test")
    p.add_argument("--subject", default="starttls e2e")
    p.add_argument("--body", help="mail: the message body (LF line ends)")
    p.add_argument("--cafile", help="mail: verify the server's certificate against this file")
    p.add_argument("--tls-name", default="mail.lab.test", help="mail: the name the certificate must carry")
    p.add_argument("--line", action="append", default=[], help="plain, refused, tls: a command line")
    p.add_argument("--pause-plain", default="")
    p.add_argument("--pause-tls", default="")
    p.add_argument("--wait", type=float, default=60, help="longest wait for a go file")
    p.add_argument("--listen", help="record: address")
    p.add_argument("--dir", help="record: where each connection's bytes go")
    p.add_argument("--cert", help="record: the certificate to switch to TLS with (EHLO name with \"tls\")")
    p.add_argument("--key", help="record: its private key")
    a = p.parse_args()
    if a.mode not in ("make-body", "record") and not a.host:
        p.error("--host is required for %s" % a.mode)
    try:
        result = MODES[a.mode](a)
    except Fail as e:
        say("RESULT fail: %s (at %d ms)" % (e, ms()))
        return 1
    except (OSError, ssl.SSLError) as e:
        say("RESULT fail: %s: %s (at %d ms)" % (type(e).__name__, e, ms()))
        return 1
    say("RESULT ok %s (%d ms)" % (result, ms()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
