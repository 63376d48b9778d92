"""A TCP client made of raw packets (scapy), for the attacks of Tests/e2e/attacks.sh.

It runs in the lab's client namespace, sends Ethernet frames to the router on an AF_PACKET socket
(so nothing of the client's own stack rewrites them: checksums, fragments, flags and options are
what the test made) and reads the answers on the same socket. The client's kernel knows nothing of
these connections and would answer them with RSTs: attacks.sh drops those with an OUTPUT rule for
the source ports used here (PORT_FIRST..PORT_LAST).

A Conn keeps just enough TCP state to talk SMTP: its own next sequence number, the server's
in-order byte stream (acknowledged as it arrives), the highest acknowledgment the server sent and
every segment received (to see challenge ACKs and RSTs). Everything else is up to the attack:
any segment can be sent with any sequence number, flags, options, checksums or fragmentation.
"""
import os
import select
import socket
import struct
import threading
import time

from scapy.all import IP, IPv6, TCP, Ether, Raw, IPv6ExtHdrFragment, get_if_hwaddr  # noqa: F401

PORT_FIRST, PORT_LAST = 20000, 29999
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def sdiff(a, b):
    """a - b in sequence space (signed, modulo 2^32)."""
    d = (a - b) & 0xFFFFFFFF
    return d - (1 << 32) if d >= 1 << 31 else d


def sadd(a, n):
    return (a + n) & 0xFFFFFFFF


class Link:
    """The client's interface: frames out to the router's MAC, TCP segments in, by port."""

    def __init__(self, iface, router_mac):
        self.iface, self.router_mac = iface, router_mac
        self.mac = get_if_hwaddr(iface)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((iface, 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.conns = {}
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self._rx, daemon=True)
        self.thread.start()

    def send(self, l3):
        """Sends an IP packet (scapy object or bytes of one) to the router."""
        data = l3 if isinstance(l3, (bytes, bytearray)) else bytes(l3)
        ethertype = 0x86DD if data[0] >> 4 == 6 else 0x0800
        frame = bytes.fromhex(self.router_mac.replace(":", "")) + bytes.fromhex(self.mac.replace(":", "")) \
            + struct.pack("!H", ethertype) + data
        self.sock.send(frame)

    def _rx(self):
        while not self.stop:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if not r:
                continue
            frame, addr = self.sock.recvfrom(70000)
            if addr[2] == PACKET_OUTGOING or len(frame) < 14:
                continue
            ethertype = struct.unpack("!H", frame[12:14])[0]
            try:
                if ethertype == 0x0800:
                    ip = IP(frame[14:])
                elif ethertype == 0x86DD:
                    ip = IPv6(frame[14:])
                else:
                    continue
            except Exception:
                continue
            if TCP not in ip:
                continue
            with self.lock:
                conn = self.conns.get(ip[TCP].dport)
            if conn is not None:
                conn._receive(ip)


class Conn:
    """One raw TCP connection from (src, sport) to (dst, dport)."""

    def __init__(self, link, src, dst, sport, dport=25, isn=None, forge_src=None):
        self.link, self.src, self.dst, self.sport, self.dport = link, src, dst, sport, dport
        self.v6 = ":" in dst
        self.forge_src = forge_src or dst      # the server's address as forged packets carry it
        self.isn = isn if isn is not None else int.from_bytes(os.urandom(4), "big")
        self.snd_nxt = sadd(self.isn, 1)
        self.rcv_nxt = None                    # the server's next sequence number
        self.srv_isn = None
        self.srv_ack = None                    # highest acknowledgment from the server
        self.stream = bytearray()              # the server's bytes, in order
        self.rpos = 0                          # replies read up to here
        self.segments = []                     # (time, flags, seq, ack, payload length) received
        self.rst = False                       # an RST arrived
        self.fin = False
        self.auto_ack = True
        self.ts = None                         # (tsval, tsecr) to put on every segment, or None
        self.cond = threading.Condition()
        with link.lock:
            link.conns[sport] = self

    # --- packets -------------------------------------------------------------------------------

    def ip(self, src=None, dst=None, **kw):
        src, dst = src or self.src, dst or self.dst
        return IPv6(src=src, dst=dst, **kw) if self.v6 else IP(src=src, dst=dst, **kw)

    def segment(self, flags="PA", seq=None, ack=None, payload=b"", options=None, window=65535, **tcp):
        seq = self.snd_nxt if seq is None else seq
        if ack is None:
            ack = self.rcv_nxt or 0
            if self.rcv_nxt is None:
                flags = flags.replace("A", "")
        opts = list(options or [])
        if self.ts is not None and not any(o[0] == "Timestamp" for o in opts):
            opts.append(("Timestamp", self.ts))
        t = TCP(sport=self.sport, dport=self.dport, seq=seq, ack=ack, flags=flags, window=window,
                options=opts, **tcp)
        return self.ip() / t / Raw(payload) if payload else self.ip() / t

    def send_raw(self, pkt, bad_tcp_csum=False, bad_ip_csum=False, fragment_at=None, reverse=False):
        """Sends one packet: optionally with a wrong TCP or IPv4 header checksum, or cut into two
        IP fragments after `fragment_at` bytes of the IP payload (a multiple of 8), optionally
        second fragment first."""
        data = bytes(pkt)                      # checksums and lengths filled in
        p = IPv6(data) if self.v6 else IP(data)
        if bad_tcp_csum:
            p[TCP].chksum ^= 0x1234
            data = bytes(p)
            p = IPv6(data) if self.v6 else IP(data)
        if fragment_at is not None:
            frags = self._fragments(p, fragment_at)
            for f in (reversed(frags) if reverse else frags):
                self.link.send(f)
            return
        if bad_ip_csum:
            p.chksum ^= 0x1234
            data = bytes(p)
        self.link.send(data)

    def _fragments(self, p, at):
        assert at % 8 == 0
        if at >= len(bytes(p[TCP])):
            return [bytes(p)]          # nothing left for a second fragment
        ident = int.from_bytes(os.urandom(4), "big")
        if self.v6:
            upper = bytes(p[TCP])
            base = IPv6(src=p.src, dst=p.dst, hlim=p.hlim)
            f1 = base / IPv6ExtHdrFragment(nh=6, offset=0, m=1, id=ident) / Raw(upper[:at])
            f2 = base / IPv6ExtHdrFragment(nh=6, offset=at // 8, m=0, id=ident) / Raw(upper[at:])
        else:
            upper = bytes(p[TCP])
            ident &= 0xFFFF
            f1 = IP(src=p.src, dst=p.dst, id=ident, flags="MF", frag=0, proto=6, ttl=p.ttl) / Raw(upper[:at])
            f2 = IP(src=p.src, dst=p.dst, id=ident, flags=0, frag=at // 8, proto=6, ttl=p.ttl) / Raw(upper[at:])
        return [bytes(f1), bytes(f2)]

    def forged(self, flags="PA", seq=None, ack=None, payload=b"", src=None):
        """The bytes of a segment that claims to come from the server (src:25 -> client)."""
        seq = self.rcv_nxt if seq is None else seq
        ack = self.snd_nxt if ack is None else ack
        t = TCP(sport=self.dport, dport=self.sport, seq=seq, ack=ack, flags=flags, window=65535)
        ip = self.ip(src=src or self.forge_src, dst=self.src)
        return bytes(ip / t / Raw(payload) if payload else ip / t)

    def forge(self, *args, **kw):
        """Sends a forged server segment from the client's side: it reaches the router on its
        outside interface and is routed back to the client."""
        self.link.send(self.forged(*args, **kw))

    # --- receiving ------------------------------------------------------------------------------

    def _receive(self, ip):
        t = ip[TCP]
        # The payload by the IP lengths (a short frame's Ethernet padding is not payload).
        if self.v6:
            plen = ip.plen - (len(bytes(ip.payload)) - len(bytes(t))) - t.dataofs * 4
        else:
            plen = ip.len - ip.ihl * 4 - t.dataofs * 4
        payload = bytes(t)[t.dataofs * 4:t.dataofs * 4 + max(0, plen)]
        flags = str(t.flags)
        ack_now = False
        with self.cond:
            self.segments.append((time.monotonic(), flags, t.seq, t.ack, len(payload)))
            if "R" in flags:
                self.rst = True
                self.cond.notify_all()
                return
            if "A" in flags and (self.srv_ack is None or sdiff(t.ack, self.srv_ack) > 0):
                self.srv_ack = t.ack
            if "S" in flags and "A" in flags:
                if self.srv_isn is None:
                    self.srv_isn = t.seq
                    self.rcv_nxt = sadd(t.seq, 1)
                ack_now = True
            elif self.rcv_nxt is not None:
                off = sdiff(self.rcv_nxt, t.seq)
                if payload:
                    ack_now = True
                    if 0 <= off < len(payload):
                        self.stream += payload[off:]
                        self.rcv_nxt = sadd(self.rcv_nxt, len(payload) - off)
                if "F" in flags and sdiff(sadd(t.seq, len(payload)), self.rcv_nxt) == 0:
                    self.rcv_nxt = sadd(self.rcv_nxt, 1)
                    self.fin = True
                    ack_now = True
            self.cond.notify_all()
        if ack_now and self.auto_ack and "S" not in flags:
            self.send_raw(self.segment("A"))

    def wait(self, predicate, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def acked(self, seq):
        return self.srv_ack is not None and sdiff(self.srv_ack, seq) >= 0

    # --- a conversation -------------------------------------------------------------------------

    def connect(self, syn_payload=b"", syn_options=None, timeout=3.0):
        """The handshake (SYN retransmitted until a SYN-ACK comes); True when established. With a
        SYN payload, the data counts from the ISN; `syn_data_acked` says whether the server took it."""
        opts = [("MSS", 1400)] + list(syn_options or [])
        syn = self.segment("S", seq=self.isn, ack=0, payload=syn_payload, options=opts)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.send_raw(syn)
            if self.wait(lambda: self.srv_isn is not None or self.rst, 0.5):
                break
        if self.srv_isn is None:
            return False
        self.syn_data_acked = sdiff(self.srv_ack, sadd(self.isn, 1)) > 0
        self.snd_nxt = sadd(self.isn, 1 + (len(syn_payload) if self.syn_data_acked else 0))
        self.send_raw(self.segment("A"))
        return True

    def send(self, data, wait=True, tries=8, interval=0.25, flags="PA", **kw):
        """Sends data at snd_nxt and advances it; with `wait`, retransmits until the server has
        acknowledged all of it. Returns whether it was acknowledged. Keywords go to the TCP
        header (e.g. urgptr=1 with flags="PAU")."""
        seq = self.snd_nxt
        self.snd_nxt = sadd(seq, len(data))
        pkt = self.segment(flags, seq=seq, payload=data, **kw)
        for _ in range(tries if wait else 1):
            self.send_raw(pkt)
            if not wait:
                return True
            if self.wait(lambda: self.acked(self.snd_nxt) or self.rst, interval):
                return self.acked(self.snd_nxt)
        return False

    def reply(self, timeout=3.0):
        """The server's next whole reply (all its lines) as text, or None."""
        def complete():
            return self._parse_reply() is not None or self.rst or self.fin
        self.wait(complete, timeout)
        with self.cond:
            r = self._parse_reply()
            if r is None:
                return None
            text, end = r
            self.rpos = end
            return text

    def _parse_reply(self):
        pos = self.rpos
        lines = []
        while True:
            nl = self.stream.find(b"\n", pos)
            if nl < 0:
                return None
            line = bytes(self.stream[pos:nl]).rstrip(b"\r").decode("latin-1")
            lines.append(line)
            pos = nl + 1
            if len(line) < 4 or line[3] != "-":
                return "\n".join(lines), pos

    def replies(self, timeout=1.0):
        """Every reply that arrives within `timeout`, as a list."""
        out = []
        end = time.monotonic() + timeout
        while True:
            r = self.reply(max(0.0, end - time.monotonic()))
            if r is None:
                return out
            out.append(r)

    def chat(self, line, timeout=3.0):
        """Sends one command line and returns the reply's first three characters (or None)."""
        if not self.send(line if isinstance(line, bytes) else line.encode()):
            return None
        r = self.reply(timeout)
        return r[:3] if r else None

    def probe(self, timeout=3.0):
        """Is the session alive? NOOP must get a 250 (replies still pending are skipped)."""
        before = len(self.stream)
        if not self.send(b"NOOP\r\n"):
            return False
        ok = self.wait(lambda: b"\n250" in b"\n" + bytes(self.stream[before:]) or self.rst, timeout)
        return ok and not self.rst

    def close(self):
        """An RST at exactly the server's expected sequence number: the server forgets the
        connection at once (the suite waits for the server's side to end before the next case)."""
        self.send_raw(self.segment("RA"))
        if self.srv_ack is not None and self.srv_ack != self.snd_nxt:
            self.send_raw(self.segment("RA", seq=self.srv_ack))
        with self.link.lock:
            self.link.conns.pop(self.sport, None)
