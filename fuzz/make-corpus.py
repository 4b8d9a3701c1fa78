#!/usr/bin/python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/TARGET/ (run from anywhere; needs Debian's python3-scapy).

Seeds are small real inputs: the packet fixtures of tests/fixtures (packets.json, wire.json, decap.json), packets built
here with scapy (IPv6, fragments, ICMP errors quoting a flow, GUE), real config files, the keepalived.conf samples of
tests/fixtures/keepalived, ipvsadm restore lines and API bodies. Packet targets take records: a control byte, a 16-bit
big-endian length, the bytes (see fuzz/TunLB.Fuzz/Records.cs). Files in fuzz/corpus/*/ not written here (crash
regressions) are left alone; the files written here are overwritten."""
import json, os, re, struct, sys
from scapy.all import IP, IPv6, TCP, UDP, ICMP, ICMPv6PacketTooBig, ICMPv6DestUnreach, ICMPv6EchoRequest, \
    IPv6ExtHdrFragment, Raw, fragment, fragment6, raw

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
corpus = os.path.join(root, "fuzz", "corpus")
fixtures = os.path.join(root, "tests", "fixtures")

DIRECTOR, DIRECTOR6 = "203.0.113.2", "2001:db8:d::2"
VIP, VIP2, VIP6 = "203.0.113.10", "203.0.113.11", "2001:db8:100::10"
CLIENT, CLIENT6, ROUTER, ROUTER6 = "198.51.100.10", "2001:db8:c::10", "198.18.0.1", "2001:db8:ff::1"


def rec(ctl, data):
    return bytes([ctl]) + struct.pack(">H", len(data)) + bytes(data)


def write(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def director():
    for c in json.load(open(os.path.join(fixtures, "packets.json"))):
        write("director", "packets-" + c["name"], rec(0, bytes.fromhex(c["input_hex"])))
    for c in json.load(open(os.path.join(fixtures, "wire.json")))["engine"]:
        setup = eval(c["setup_hex"]) if isinstance(c["setup_hex"], str) else c["setup_hex"]
        data = b"".join(rec(0, bytes.fromhex(h)) for h in setup) + rec(2, bytes.fromhex(c["input_hex"]))
        write("director", "wire-" + c["name"], data)
    syn = IP(src=CLIENT, dst=VIP, ttl=63, flags="DF") / TCP(sport=40000, dport=80, flags="S", seq=1)
    ack = IP(src=CLIENT, dst=VIP, ttl=63, flags="DF") / TCP(sport=40000, dport=80, flags="A", seq=2, ack=1) / Raw(b"x" * 1400)
    fin = IP(src=CLIENT, dst=VIP, ttl=63) / TCP(sport=40000, dport=80, flags="FA", seq=2, ack=1)
    write("director", "tcp-handshake-data-fin", rec(0, raw(syn)) + rec(2, raw(ack)) + rec(2, raw(fin)) + rec(0x1E, raw(syn)))
    # The reply VIP:80 -> client as a router quotes it in frag-needed, on the other worker (peer lookup).
    reply = IP(src=VIP, dst=CLIENT, flags="DF") / TCP(sport=80, dport=40000, flags="A") / Raw(b"y" * 1400)
    fragneeded = IP(src=ROUTER, dst=VIP) / ICMP(type=3, code=4, nexthopmtu=1400) / raw(reply)[:28]
    write("director", "icmp-frag-needed-peer", rec(0, raw(syn)) + rec(3, raw(fragneeded)))
    write("director", "icmp-echo", rec(0, raw(IP(src=CLIENT, dst=VIP) / ICMP(type=8, id=7, seq=1) / Raw(b"abcdefgh"))))
    big = IP(src=CLIENT, dst=VIP, id=4242) / UDP(sport=5353, dport=53) / Raw(bytes(range(256)) * 12)
    frags = fragment(big, fragsize=1000)
    write("director", "udp-fragments-in-order", b"".join(rec(0, raw(f)) for f in frags))
    write("director", "udp-fragments-reversed-two-workers", b"".join(rec(i & 1, raw(f)) for i, f in enumerate(reversed(frags))))
    write("director", "udp-fragment-overlap", rec(0, raw(frags[0])) + rec(0, raw(frags[0])))
    write("director", "udp-big-no-df-outer-fragments", rec(0, raw(IP(src=CLIENT, dst=VIP) / UDP(sport=5000, dport=53) / Raw(b"z" * 3000))))
    write("director", "tcp-persistent-443", rec(0, raw(IP(src=CLIENT, dst=VIP) / TCP(sport=41000, dport=443, flags="S")))
          + rec(2, raw(IP(src="198.51.100.11", dst=VIP) / TCP(sport=41001, dport=443, flags="S"))))
    write("director", "tcp-all-ports-persistent", rec(0, raw(IP(src=CLIENT, dst=VIP2) / TCP(sport=41000, dport=8080, flags="S"))))
    write("director", "pinned-health-check", rec(0, raw(IP(src=DIRECTOR, dst=VIP) / TCP(sport=61000, dport=80, flags="S")))
          + rec(0, raw(IP(src=DIRECTOR, dst=VIP) / UDP(sport=61001, dport=53) / Raw(b"q"))))
    syn6 = IPv6(src=CLIENT6, dst=VIP6, hlim=63) / TCP(sport=40000, dport=80, flags="S")
    data6 = IPv6(src=CLIENT6, dst=VIP6, hlim=63) / TCP(sport=40000, dport=80, flags="A") / Raw(b"d" * 1400)
    write("director", "tcp6-handshake-too-big", rec(0, raw(syn6)) + rec(2, raw(data6)))
    reply6 = IPv6(src=VIP6, dst=CLIENT6) / TCP(sport=80, dport=40000, flags="A") / Raw(b"r" * 1200)
    ptb = IPv6(src=ROUTER6, dst=VIP6) / ICMPv6PacketTooBig(mtu=1280) / raw(reply6)[:1232]
    write("director", "icmp6-packet-too-big", rec(0, raw(syn6)) + rec(1, raw(ptb)))
    unreach6 = IPv6(src=ROUTER6, dst=VIP6) / ICMPv6DestUnreach(code=4) / raw(reply6)[:48]
    write("director", "icmp6-port-unreachable", rec(0, raw(syn6)) + rec(0, raw(unreach6)))
    write("director", "icmp6-echo", rec(0, raw(IPv6(src=CLIENT6, dst=VIP6) / ICMPv6EchoRequest(id=1, seq=1, data=b"ping"))))
    big6 = IPv6(src=CLIENT6, dst=VIP6) / IPv6ExtHdrFragment(id=0x1234) / UDP(sport=5353, dport=53) / Raw(b"f" * 3000)
    frags6 = fragment6(big6, 1280)
    write("director", "udp6-fragments", b"".join(rec(0, raw(f)) for f in frags6))
    write("director", "udp6-fragments-reversed", b"".join(rec(1, raw(f)) for f in reversed(frags6)))
    write("director", "tcp6-persistent-443", rec(0, raw(IPv6(src=CLIENT6, dst=VIP6) / TCP(sport=40001, dport=443, flags="S"))))


def decap():
    d = json.load(open(os.path.join(fixtures, "decap.json")))
    for c in d["cases"]:
        write("decap", "decap-" + c["name"], rec(0, bytes.fromhex(c["input_hex"])))
    sources = {DIRECTOR: 0, DIRECTOR6: 1}
    for c in json.load(open(os.path.join(fixtures, "wire.json")))["decap"]:
        kind = {"ipv4": 0, "payload": 1, "gue": 2}[c["how"]]
        ctl = kind | (sources.get(c.get("source"), 2) << 2) | (0x10 if c.get("protocol") == 41 else 0)
        write("decap", "wire-" + c["name"], rec(ctl, bytes.fromhex(c["input_hex"])))
    inner = raw(IP(src=CLIENT, dst=VIP, ttl=63) / TCP(sport=40000, dport=80, flags="S"))
    inner6 = raw(IPv6(src=CLIENT6, dst=VIP6, hlim=63) / TCP(sport=40000, dport=80, flags="S"))
    batch = (rec(0, raw(IP(src=DIRECTOR, dst="192.0.2.11", proto=4) / inner))
             + rec(2, b"\x00\x04\x00\x00" + inner) + rec(2 | 4, b"\x00\x29\x00\x00" + inner6)
             + rec(1 | 4 | 0x10, inner6) + rec(1 | 4, inner))
    write("decap", "mixed-batch", batch)


def fragments():
    def op(ctl, src, dst, proto, ident, offset, length, dest):
        return rec(ctl, bytes([src | (dst << 3), proto]) + struct.pack(">IHHB", ident, offset, length, dest))
    write("fragments", "in-order", op(1, 0, 2, 17, 7, 0, 1480, 3) + op(0, 0, 2, 17, 7, 1480, 1480, 0) + op(0, 0, 2, 17, 7, 2960, 100, 0))
    write("fragments", "out-of-order-overlap", op(1, 3, 4, 17, 9, 2960, 100, 5) + op(0, 3, 4, 17, 9, 0, 1480, 0)
          + op(0, 3, 4, 17, 9, 1472, 16, 0) + op(0, 3, 4, 17, 9, 1480, 1480, 0))
    write("fragments", "many-ranges-then-expiry", b"".join(op(0 if i else 1, 1, 2, 6, 1, i * 800, 8, 1) for i in range(7))
          + op(4 << 2, 1, 2, 6, 1, 0, 8, 0))
    write("fragments", "evictions", b"".join(op(1, i & 7, (i >> 3) & 7, 17, i, 0, 1000, i) for i in range(24)) + op(3, 0, 0, 0, 0, 0, 0, 0))


def texts():
    for f in sorted(os.listdir(os.path.join(fixtures, "keepalived"))):
        p = os.path.join(fixtures, "keepalived", f)
        if os.path.isfile(p) and f.endswith(".conf"):
            write("keepalived", f, open(p, "rb").read())
    inc = os.path.join(fixtures, "keepalived", "include")
    for dirpath, _, files in os.walk(inc):
        for f in files:
            write("keepalived", "include-" + os.path.relpath(os.path.join(dirpath, f), inc).replace("/", "-"), open(os.path.join(dirpath, f), "rb").read())
    n = 0
    for doc in ("configuration.md", "health-checks.md"):
        for block in re.findall(r"```toml\n(.*?)```", open(os.path.join(root, "docs", doc)).read(), re.S):
            n += 1
            write("config", f"docs-{doc[:-3]}-{n}.toml", block.encode())
    write("config", "director-minimal.toml", b'[director]\napi = "127.0.0.1:9400"\n\n[[service]]\nvip = "203.0.113.10"\nport = 80\n'
          b'protocol = "tcp"\nscheduler = "rr"\n\n[[service.real]]\naddress = "192.0.2.11"\n')
    write("config", "realserver.toml", b'[realserver]\ndirectors = ["203.0.113.2", "2001:db8:d::2"]\nvips = ["203.0.113.10"]\n')
    write("adm", "restore.txt", b"-A -t 203.0.113.10:80 -s wlc\n-a -t 203.0.113.10:80 -r 192.0.2.11:80 -i -w 2\n"
          b"-a -t 203.0.113.10:80 -r 192.0.2.12 -i -w 1 -x 100 -y 10\n-A -u 203.0.113.10:53 -s mh -b mh-port\n"
          b"-A -t [2001:db8:100::10]:443 -s sh -p 300 -M ffff:ffff::\n-a -t [2001:db8:100::10]:443 -r [2001:db8:d::11] -i --tun-type gue --tun-port 6080\n"
          b"# comment\n\nipvsadm -e -t 203.0.113.10:80 -r 192.0.2.11 -i -w 0\n-d -t 203.0.113.10:80 -r 192.0.2.12\n-D -u 203.0.113.10:53\n")
    write("adm", "list-and-set.txt", b"-L -n --stats\n-Ln --rate --exact\n-l -c -n\n--set 900 120 300\n-Z -t 203.0.113.10:80\n-C\n-S -n\n-h\n")
    write("adm", "argv-nul.bin", b"\x00-a\x00-t\x00203.0.113.10:80\x00-r\x00192.0.2.11\x00--tun-type\x00gue\x00--tun-port\x006080\x00--tun-nocsum")
    write("api", "add-service-and-real", rec(0, b'{"protocol":"tcp","vip":"203.0.113.20","port":443,"scheduler":"mh","flags":["mh-port"],"mh_table_size":251}')
          + rec(0x82, b'tcp/203.0.113.20/443\n{"address":"192.0.2.31","port":443,"weight":3,"tun_type":"gue","tun_port":6080}'))
    write("api", "edit-drain-delete", rec(0x03, b'{"weight":0,"upper_threshold":10,"lower_threshold":5}') + rec(0x04, b'{"remove_when_idle":true}')
          + rec(0x05, b"") + rec(0x01, b'{"persistence":60,"persistence_netmask":"255.255.255.0"}') + rec(0x08, b"") + rec(0x19, b""))
    write("api", "v6-and-timeouts", rec(0, b'{"protocol":"udp","vip":"2001:db8:100::20","port":0,"persistence":30,"persistence_netmask":"64"}')
          + rec(0x07, b'{"tcp":900,"tcp_fin":120,"udp":300}') + rec(0x06, b'{"protocol":"tcp","vip":"203.0.113.10","port":80}') + rec(0x0B, b""))


director(); decap(); fragments(); texts()
print("corpus written to", corpus)
