"""The attacks of Tests/e2e/attacks.sh, one function per case, grouped by the classes of issue 10.

Every attack tries to get `EXPN root` read as a command by the server (the judge, in run.py,
reads the server's own record: the recording server's log or Postfix's per-peer debug log).
Each case then sends NOOP and records whether the session is alive; CASES says, per case,
whether a fixed inspector must keep it alive (the normalisations of issue 10), so run.py can
assert that too.

A case gets `ctx` (run.py's Context): ctx.conn() opens a raw connection (tcpraw.Conn) on a
fresh port, ctx.forge_src / ctx.forge_global are the server's addresses to forge, ctx.policy is
"esmtp" or "smtp". It returns (alive, note): alive True/False/None (None: not probed).
"""
import time

from tcpraw import sadd

ATTACK = b"EXPN root\r\n"
HIDDEN = b"VRFY root\r\n"        # as long as ATTACK, legal in both policies


class Skip(Exception):
    """The case does not apply to this mode (e.g. no NAT global address)."""


# --- common steps ------------------------------------------------------------------------------

def opened(ctx, **kw):
    c = ctx.conn(**kw)
    if not c.connect():
        raise RuntimeError("no handshake")
    if not c.reply():
        raise RuntimeError("no greeting")
    if c.chat("HELO attacker.test\r\n") != "250":
        raise RuntimeError("HELO not answered 250")
    return c


def in_data(ctx):
    c = opened(ctx)
    for line, want in ((b"MAIL FROM:<a@client.test>\r\n", "250"), (b"RCPT TO:<b@example.test>\r\n", "250"),
                       (b"DATA\r\n", "354")):
        got = c.chat(line)
        if got != want:
            raise RuntimeError("%s answered %s" % (line.decode().strip(), got))
    if not c.send(b"Subject: attack\r\n\r\nbody line\r\n"):
        raise RuntimeError("message start not acknowledged")
    return c


def finish_data(c):
    """Ends message data the way a fixed inspector leaves it (the server still reads data), and
    probes: on an unfixed one the server is already back in command mode and answers 500s."""
    c.send(b".\r\n")
    c.replies(0.5)
    return c.probe()


def after(c, wait=0.6):
    c.replies(wait)
    return c.probe()


# --- 1. TCP urgent data --------------------------------------------------------------------------

def urg_hidden_dot(ctx):
    """DATA: 'X.\\r\\nEXPN root' with X urgent: the server (urgent byte removed) reads an end of
    data and then a command; the inspector reads message data."""
    c = in_data(ctx)
    c.send(b"X." + b"\r\n" + ATTACK, urgptr=1, flags="PAU")
    return finish_data(c), ""


def urg_dot_then_hidden(ctx):
    """DATA: '.Y\\r\\n' with Y urgent: the server reads '.' alone (end of data)."""
    c = in_data(ctx)
    c.send(b".Y\r\n" + ATTACK, urgptr=2, flags="PAU")
    return finish_data(c), ""


def urg_pure_ack(ctx):
    """URG on a pure ACK points at the first byte of the next data segment, which has no URG."""
    c = in_data(ctx)
    c.send_raw(c.segment("AU", urgptr=1))
    time.sleep(0.1)
    c.send(b"X.\r\n" + ATTACK)
    return finish_data(c), ""


def urg_pointer_beyond(ctx):
    """URG on a data segment whose pointer lies in the next segment (the X of 'X.')."""
    c = in_data(ctx)
    first = b"more body\r\n"
    c.send(first, urgptr=len(first) + 1, flags="PAU")
    c.send(b"X.\r\n" + ATTACK)
    return finish_data(c), ""


def urg_command_mode(ctx):
    """Command mode: 'EXPXN root' with the second X urgent (the server would read EXPN root).
    Masking from the first illegal byte defeats it even today: a control case."""
    c = opened(ctx)
    c.send(b"EXPXN root\r\n", urgptr=4, flags="PAU")
    return after(c), ""


# --- 2. RST/SYN desynchronisation ----------------------------------------------------------------

def _syn(c, isn):
    c.send_raw(c.segment("S", seq=isn, ack=0, options=[("MSS", 1400)]))
    time.sleep(0.1)


def rst_inwindow_syn_oldseq(ctx):
    """An RST inside the window but not at the next sequence number (the server sends a
    challenge ACK and goes on), a SYN with another ISN, then data with the old numbers."""
    c = opened(ctx)
    c.send_raw(c.segment("RA", seq=sadd(c.snd_nxt, 1000)))
    time.sleep(0.1)
    _syn(c, sadd(c.snd_nxt, 50000))
    c.send(ATTACK)
    return after(c), ""


def rst_inwindow_then_data(ctx):
    """An in-window inexact RST, then a command the inspector must still judge."""
    c = opened(ctx)
    c.send_raw(c.segment("RA", seq=sadd(c.snd_nxt, 1000)))
    time.sleep(0.2)
    c.send(ATTACK)
    return after(c), ""


def rst_outwindow_syn_oldseq(ctx):
    """An RST far outside the window (the server ignores it silently), SYN, old numbers."""
    c = opened(ctx)
    c.send_raw(c.segment("RA", seq=sadd(c.snd_nxt, 1 << 30)))
    time.sleep(0.1)
    _syn(c, sadd(c.snd_nxt, 50000))
    c.send(ATTACK)
    return after(c), ""


def syn_on_established(ctx):
    """A SYN with another ISN on the established session (no RST), then the old numbers."""
    c = opened(ctx)
    _syn(c, sadd(c.snd_nxt, 50000))
    c.send(ATTACK)
    return after(c), ""


def rst_syn_behind(ctx):
    """Inexact RST, then a SYN whose ISN puts the old numbers ahead of the new stream."""
    c = opened(ctx)
    c.send_raw(c.segment("RA", seq=sadd(c.snd_nxt, 1000)))
    time.sleep(0.1)
    _syn(c, sadd(c.snd_nxt, -50000))
    c.send(ATTACK)
    return after(c), ""


def syn_with_data_established(ctx):
    """A SYN carrying the command at the next sequence number of the established session."""
    c = opened(ctx)
    c.send_raw(c.segment("S", seq=sadd(c.snd_nxt, -1), ack=0, payload=ATTACK))
    time.sleep(0.2)
    return after(c), ""


def retransmit_below_ack(ctx):
    """Bytes below the acknowledged point retransmitted with other bytes, running past it."""
    c = opened(ctx)
    if c.chat(b"NOOP\r\n") != "250":
        raise RuntimeError("NOOP not answered")
    c.send_raw(c.segment("PA", seq=sadd(c.snd_nxt, -6), payload=ATTACK))
    c.snd_nxt = sadd(c.snd_nxt, len(ATTACK) - 6)
    return after(c), ""


# --- 3. Checksums ---------------------------------------------------------------------------------

def csum_rst_syn_oldseq(ctx):
    """An RST at exactly the next sequence number but with a bad TCP checksum (the server drops
    it), a SYN with another ISN, then data with the old numbers."""
    c = opened(ctx)
    c.send_raw(c.segment("RA"), bad_tcp_csum=True)
    time.sleep(0.1)
    _syn(c, sadd(c.snd_nxt, 50000))
    c.send(ATTACK)
    return after(c), ""


def csum_fin(ctx):
    """A FIN with a bad TCP checksum, then a command."""
    c = opened(ctx)
    c.send_raw(c.segment("FA"), bad_tcp_csum=True)
    time.sleep(0.1)
    c.send(ATTACK)
    return after(c), ""


def _decoy(ctx, delta):
    c = ctx.conn()
    c.send_raw(c.segment("S", seq=sadd(c.isn, delta), ack=0, options=[("MSS", 1400)]), bad_tcp_csum=True)
    time.sleep(0.1)
    if not c.connect() or not c.reply():
        return c, False
    return c, c.chat("HELO attacker.test\r\n") == "250"


def csum_decoy_syn_ahead(ctx):
    """A decoy SYN with a bad checksum and an ISN 100000 ahead of the real one: every real
    byte lies 'before' the stream the inspector expects. The attack comes right after the
    greeting (a reply to HELO would reach an inspector that saw no command)."""
    c = ctx.conn()
    c.send_raw(c.segment("S", seq=sadd(c.isn, 100000), ack=0, options=[("MSS", 1400)]), bad_tcp_csum=True)
    time.sleep(0.1)
    if not c.connect() or not c.reply():
        return False, "session did not open"
    c.send(ATTACK)
    return after(c), ""


def csum_decoy_syn_behind(ctx):
    """A decoy SYN with a bad checksum and an ISN 100000 behind: every real byte lies beyond a
    gap that never fills."""
    c, ok = _decoy(ctx, -100000)
    if not ok:
        return False, "session did not open"
    c.send(ATTACK)
    return after(c), ""


def csum_data_then_real(ctx):
    """A legal line with a bad checksum (the server drops it), then the attack at the same
    numbers with a good one."""
    c = opened(ctx)
    seq = c.snd_nxt
    c.send_raw(c.segment("PA", seq=seq, payload=HIDDEN), bad_tcp_csum=True)
    time.sleep(0.1)
    c.send(ATTACK)
    return after(c), ""


def ip_csum_rst_syn_oldseq(ctx):
    """The RST with a bad IPv4 header checksum (IPv6 has none: a bad TCP checksum instead)."""
    c = opened(ctx)
    c.send_raw(c.segment("RA"), bad_ip_csum=not c.v6, bad_tcp_csum=c.v6)
    time.sleep(0.1)
    _syn(c, sadd(c.snd_nxt, 50000))
    c.send(ATTACK)
    return after(c), ""


# --- 4. IP fragments ------------------------------------------------------------------------------

def _fragmented(ctx, at, reverse=False):
    c = opened(ctx)
    seq = c.snd_nxt
    c.send_raw(c.segment("PA", seq=seq, payload=ATTACK), fragment_at=at, reverse=reverse)
    c.snd_nxt = sadd(seq, len(ATTACK))
    if not c.wait(lambda: c.acked(c.snd_nxt) or c.rst, 1.0):
        c.snd_nxt = seq          # not taken: a real stack would send it again, unfragmented
        c.send(ATTACK)
    return after(c), ""


def frag_command(ctx):
    """The command in two IP fragments: the TCP header and 'EXPN', then ' root\\r\\n'."""
    return _fragmented(ctx, 24)


def frag_command_reversed(ctx):
    """The same two fragments, second one first."""
    return _fragmented(ctx, 24, reverse=True)


def frag_tiny_header(ctx):
    """The first fragment holds only 8 bytes of the TCP header (ports and sequence number)."""
    return _fragmented(ctx, 8)


# --- 5. Data on the SYN ----------------------------------------------------------------------------

def _syn_data(ctx, options):
    c = ctx.conn()
    if not c.connect(syn_payload=ATTACK, syn_options=options):
        return False, "no handshake"
    note = "SYN data acknowledged by the server" if c.syn_data_acked else "SYN data not acknowledged"
    if not c.syn_data_acked:
        c.send(ATTACK)       # as a TFO client does when the server did not take the SYN's data
    if not c.reply():
        return False, note + "; no greeting"
    return after(c), note


def syn_data(ctx):
    """A SYN with the command as payload, no TFO option."""
    return _syn_data(ctx, [])


def syn_data_tfo(ctx):
    """A TCP Fast Open SYN: TFO option (cookie request) and the command as payload."""
    return _syn_data(ctx, [(34, b"")])


def syn_data_tfo_cookie(ctx):
    """A TFO SYN with a made-up 8-byte cookie and the command as payload."""
    return _syn_data(ctx, [(34, b"\x01\x02\x03\x04\x05\x06\x07\x08")])


# --- 6. Forged packets from the wrong side ---------------------------------------------------------

def _learn_then_forge(ctx, command, code, src=None, attempts=5):
    """Sends COMMAND once to learn the length of the server's real (refusing) reply, then again
    with a forged CODE reply of that same length sent at once from the outside (the real reply,
    arriving later at the same sequence numbers, is then a 'retransmission' of it). The forged
    reply races the real one: when the client got the real reply, the race was lost (or the
    forged packet was dropped) and a new session tries again, up to `attempts` times."""
    for attempt in range(1, attempts + 1):
        c = opened(ctx)
        first = c.reply() if c.send(command) else None
        if first is None:
            raise RuntimeError("no reply to %r" % command)
        length = len(first) + 2
        forged = (code + " " + "x" * (length - 6)).encode() + b"\r\n"
        # Both packets made first and sent back to back: the forged reply reaches the inspector
        # right behind the command, before the server's own answer.
        cmd = bytes(c.segment("PA", payload=command))
        c.snd_nxt = sadd(c.snd_nxt, len(command))
        fake = c.forged("PA", seq=c.rcv_nxt, ack=c.snd_nxt, payload=forged, src=src)
        c.link.send(cmd)
        c.link.send(fake)
        if not c.wait(lambda: c.acked(c.snd_nxt), 1.0):
            c.link.send(cmd)
            c.wait(lambda: c.acked(c.snd_nxt), 1.0)
        seen = c.reply(1.0) or ""
        won = seen.startswith(code + " x")
        if won or attempt == attempts:
            c.replies(0.3)
            c.send(ATTACK)
            note = "real reply %s; forged %s %s on attempt %d" % (
                first.split("\n")[-1][:24], code, "reached the client" if won else "never reached the client", attempt)
            return c, note
        c.close()


def forge_354(ctx):
    """DATA without RCPT (the server refuses it) and a forged 354 from the server's address."""
    c, real = _learn_then_forge(ctx, b"DATA\r\n", "354")
    return after(c), real


def forge_354_global(ctx):
    """The same with the NAT global address as the forged source."""
    if not ctx.forge_global:
        raise Skip("no NAT global address in this mode")
    c, real = _learn_then_forge(ctx, b"DATA\r\n", "354", src=ctx.forge_global)
    return after(c), real


def forge_334(ctx):
    """AUTH PLAIN (refused: no AUTH offered) and a forged 334: the inspector would read SASL."""
    c, real = _learn_then_forge(ctx, b"AUTH PLAIN\r\n", "334")
    return after(c), real


def forge_220_starttls(ctx):
    """STARTTLS (refused: no TLS) and a forged 220: the inspector would see opaque TLS."""
    c, real = _learn_then_forge(ctx, b"STARTTLS\r\n", "220")
    return after(c), real


def _hidden_then_forged_ack(ctx, hide):
    """A legal line the server drops (HIDE), a forged ACK of it from the outside (the inspector
    forgets its copy), then the attack at the same sequence numbers."""
    c = opened(ctx)
    seq = c.snd_nxt
    if hide == "csum":
        c.send_raw(c.segment("PA", seq=seq, payload=HIDDEN), bad_tcp_csum=True)
    else:  # an unexpected TCP-MD5 option: Linux drops the segment (TCPMD5Unexpected)
        c.send_raw(c.segment("PA", seq=seq, payload=HIDDEN, options=[(19, b"\x00" * 16)]))
    time.sleep(0.1)
    c.forge("A", seq=c.rcv_nxt, ack=sadd(seq, len(HIDDEN)))
    time.sleep(0.1)
    c.send(ATTACK)
    return after(c), ""


def forge_ack_hidden_csum(ctx):
    return _hidden_then_forged_ack(ctx, "csum")


def forge_ack_hidden_md5(ctx):
    return _hidden_then_forged_ack(ctx, "md5")


def forge_rst_server(ctx):
    """A forged RST from the server's address, a SYN with another ISN, the old numbers."""
    c = opened(ctx)
    c.forge("RA", seq=c.rcv_nxt, ack=c.snd_nxt)
    time.sleep(0.1)
    _syn(c, sadd(c.snd_nxt, 50000))
    c.send(ATTACK)
    return after(c), ""


# --- 7. Overlapping held segments ------------------------------------------------------------------

def _gap_then_fill(c, held, fill, total):
    """Sends the held segments (seq offset, bytes) beyond a gap, then the gap, and says whether
    the server acknowledged `total` bytes within 3 s."""
    base = c.snd_nxt
    for off, data in held:
        c.send_raw(c.segment("PA", seq=sadd(base, off), payload=data))
        time.sleep(0.05)
    c.send_raw(c.segment("PA", seq=base, payload=fill))
    c.snd_nxt = sadd(base, total)
    t0 = time.monotonic()
    ok = c.wait(lambda: c.acked(c.snd_nxt) or c.rst, 3.0)
    return ok and not c.rst, time.monotonic() - t0


def overlap_same_start(ctx):
    """Two held segments with the same start and different lengths (NOOP, NOOP NOOP)."""
    c = opened(ctx)
    ok, took = _gap_then_fill(c, [(6, b"NOOP\r\n"), (6, b"NOOP\r\nNOOP\r\n")], b"NOOP\r\n", 18)
    return ok and after(c), "all acknowledged in %.1f s" % took if ok else "stalled for 3 s"


def overlap_different_bytes(ctx):
    """Held VRFY root, then a longer held segment at the same start with EXPN root: the first
    seen must win (the server's queue would take the later, longer one)."""
    c = opened(ctx)
    ok, took = _gap_then_fill(c, [(6, HIDDEN), (6, ATTACK + b"NOOP\r\n")], b"NOOP\r\n", 23)
    return ok and after(c), "all acknowledged in %.1f s" % took if ok else "stalled for 3 s"


def overlap_straddle(ctx):
    """Held VRFY root, then a held segment starting 2 bytes before it with other bytes."""
    c = opened(ctx)
    ok, took = _gap_then_fill(c, [(6, HIDDEN), (4, b"\r\n" + ATTACK)], b"NOOP", 17)
    return ok and after(c), "all acknowledged in %.1f s" % took if ok else "stalled for 3 s"


# --- legitimate sessions ----------------------------------------------------------------------------

def _mail(c, body=b"Subject: legit\r\n\r\nhello\r\n", fragment_at=None):
    """MAIL, RCPT, DATA, the body, end of data; True when the server answered 250 to it."""
    def chat(line):
        seq = c.snd_nxt
        if fragment_at is not None:
            c.send_raw(c.segment("PA", seq=seq, payload=line), fragment_at=fragment_at)
            c.snd_nxt = sadd(seq, len(line))
            if not c.wait(lambda: c.acked(c.snd_nxt), 2.0):
                return None
        elif not c.send(line):
            return None
        return True
    for line, want in ((b"MAIL FROM:<legit@client.test>\r\n", "250"), (b"RCPT TO:<legit@example.test>\r\n", "250"),
                       (b"DATA\r\n", "354")):
        if not chat(line):
            return False, "%s not acknowledged" % line.decode().strip()
        r = c.reply()
        if not r or r[:3] != want:
            return False, "%s answered %r" % (line.decode().strip(), r)
    if not chat(body + b".\r\n"):
        return False, "message not acknowledged"
    r = c.reply()
    if not r or r[:3] != "250":
        return False, "end of data answered %r" % r
    return True, ""


def legit_inwindow_rst(ctx):
    """A legitimate session with an RST inside the window but not at the next sequence number
    (the server answers a challenge ACK and ignores it): it must go on and deliver its mail, also
    after the inspector's closing timeouts have passed (6 s)."""
    c = opened(ctx)
    c.send_raw(c.segment("RA", seq=sadd(c.snd_nxt, 500)))
    time.sleep(1.0)
    if c.chat(b"NOOP\r\n") != "250":
        return False, "NOOP after the RST not answered"
    time.sleep(5.0)
    ok, why = _mail(c)
    if ok and c.chat(b"QUIT\r\n") != "221":
        ok, why = False, "QUIT not answered 221"
    return ok, why or "delivered; QUIT answered 221"


def legit_fragmented(ctx):
    """A legitimate session whose every client data segment is cut into two IP fragments:
    through the generated rules conntrack reassembles them before the queue, so it works."""
    if not ctx.args.label.startswith("gen"):
        raise Skip("fragments reaching the queue are dropped once fixed: only through generated rules")
    c = opened(ctx)
    ok, why = _mail(c, body=b"Subject: fragmented\r\n\r\n" + b"fragmented line\r\n" * 40, fragment_at=32)
    return ok, why or "delivered"


# --- the table ---------------------------------------------------------------------------------------
# (name, class, must stay alive once fixed, function)

CASES = [
    ("urg-hidden-dot", "urg", True, urg_hidden_dot),
    ("urg-dot-then-hidden", "urg", True, urg_dot_then_hidden),
    ("urg-pure-ack", "urg", True, urg_pure_ack),
    ("urg-pointer-beyond", "urg", True, urg_pointer_beyond),
    ("urg-command-mode", "urg", True, urg_command_mode),
    ("rst-inwindow-syn-oldseq", "rst", True, rst_inwindow_syn_oldseq),
    ("rst-inwindow-then-data", "rst", True, rst_inwindow_then_data),
    ("rst-outwindow-syn-oldseq", "rst", True, rst_outwindow_syn_oldseq),
    ("syn-on-established", "rst", True, syn_on_established),
    ("rst-syn-behind", "rst", True, rst_syn_behind),
    ("syn-data-established", "rst", True, syn_with_data_established),
    ("retransmit-below-ack", "rst", True, retransmit_below_ack),
    ("csum-rst-syn-oldseq", "csum", True, csum_rst_syn_oldseq),
    ("csum-fin", "csum", True, csum_fin),
    ("csum-decoy-syn-ahead", "csum", True, csum_decoy_syn_ahead),
    ("csum-decoy-syn-behind", "csum", True, csum_decoy_syn_behind),
    ("csum-data-then-real", "csum", True, csum_data_then_real),
    ("ip-csum-rst-syn-oldseq", "csum", True, ip_csum_rst_syn_oldseq),
    ("frag-command", "frag", True, frag_command),
    ("frag-command-reversed", "frag", True, frag_command_reversed),
    ("frag-tiny-header", "frag", True, frag_tiny_header),
    ("syn-data", "syn", True, syn_data),
    ("syn-data-tfo", "syn", True, syn_data_tfo),
    ("syn-data-tfo-cookie", "syn", True, syn_data_tfo_cookie),
    ("forge-354", "forge", True, forge_354),
    ("forge-354-global", "forge", True, forge_354_global),
    ("forge-334", "forge", True, forge_334),
    ("forge-220-starttls", "forge", True, forge_220_starttls),
    ("forge-ack-hidden-csum", "forge", True, forge_ack_hidden_csum),
    ("forge-ack-hidden-md5", "forge", True, forge_ack_hidden_md5),
    ("forge-rst-server", "forge", True, forge_rst_server),
    ("overlap-same-start", "overlap", True, overlap_same_start),
    ("overlap-different-bytes", "overlap", True, overlap_different_bytes),
    ("overlap-straddle", "overlap", True, overlap_straddle),
    ("legit-inwindow-rst", "legit", True, legit_inwindow_rst),
    ("legit-fragmented", "legit", True, legit_fragmented),
]
