#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# A stand-in for ptp4l's management socket: answers GETs on a unix
# datagram socket with replies built here from IEEE 1588's layout, good
# ones or one kind of bad one, so that feed_test.sh can check what
# ionclockctl feed makes of each.  Written from the standard, not from
# ptp4l; feed_test.sh checks the feed against the real ptp4l too.
#   fake_ptp4l.py SOCKET MODE
import os
import socket
import struct
import sys

DEFAULT_DS, CURRENT_DS, PARENT_DS, TIME_PROPS, PORT_DS, TIME_STATUS = (
    0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0xC000)
PORT_PROPS = 0xC004             # linuxptp's PORT_PROPERTIES_NP
CLOCK = bytes.fromhex("0011 22ff fe33 4455".replace(" ", ""))
GM = bytes.fromhex("aabbccfffeddeeff")
OTHER = bytes.fromhex("0102030405060708")

path, mode = sys.argv[1], sys.argv[2]

# What the good replies say; test modes change one thing.
offset_ns = -1234
path_delay_ns = 5678
utc_offset = 37
tp_flags = 0x04 | 0x08          # currentUtcOffsetValid, ptpTimescale
gm_accuracy = 0x21              # 100 ns
port_state = 9                  # SLAVE
nports = 1
timestamping = 1                # hardware; 0 is software
if mode == "leap61":
    tp_flags |= 0x01
if mode == "bothleaps":
    tp_flags |= 0x03
if mode == "huge_offset":
    offset_ns = 2000 * 10**9
if mode == "unknown_accuracy":
    gm_accuracy = 0xFE
if mode == "listening":
    port_state = 4
if mode == "bad_port_state":
    port_state = 42
if mode == "two_ports_one_answers":
    nports = 2
if mode == "software":
    timestamping = 0
if mode == "utc_offset_negative":
    utc_offset = -3
# "takeover": a slave for two polls, then its own grandmaster (as ptp4l
# becomes when its master goes and it may be master itself).
TAKEOVER_AFTER = 12


def ti(ns):
    return struct.pack(">q", ns * 65536)


def dataset(mid):
    if mid == DEFAULT_DS:
        return (struct.pack(">BBHB", 0, 0, nports, 128) +
                struct.pack(">BBH", 248, 0xFE, 0xFFFF) + bytes([128]) +
                CLOCK + bytes([0, 0]))
    if mid == CURRENT_DS:
        return struct.pack(">H", 1) + ti(offset_ns) + ti(path_delay_ns)
    if mid == PARENT_DS:
        return (GM + struct.pack(">H", 1) + bytes([0, 0]) +
                struct.pack(">Hi", 0xFFFF, 0x7FFFFFFF) + bytes([10]) +
                struct.pack(">BBH", 6, gm_accuracy, 0x4E5D) + bytes([128]) +
                GM)
    if mid == TIME_PROPS:
        return struct.pack(">hBB", utc_offset, tp_flags, 0x20)
    if mid == PORT_DS:
        return (CLOCK + struct.pack(">H", 1) + bytes([port_state, 0]) +
                ti(0) + bytes([1, 3, 0, 1, 0, 2]))
    if mid == PORT_PROPS:
        name = b"eth0"
        return (CLOCK + struct.pack(">H", 1) +
                bytes([port_state, timestamping, len(name)]) + name)
    if mid == TIME_STATUS:
        return (struct.pack(">qq", offset_ns, 10**18 + seen[0]) +
                bytes(8) + bytes(2) + bytes(12) + struct.pack(">i", 1) + GM)
    return None


def reply(req, mid, body, source=CLOCK, tlv_type=1, action=2):
    seq = req[30:32]
    target = req[20:30]
    if tlv_type == 1:
        tlv = struct.pack(">HHH", 1, 2 + len(body), mid) + body
    else:
        tlv = struct.pack(">HH", tlv_type, len(body)) + body
    hdr = bytearray(34)
    hdr[0] = 0x0D
    hdr[1] = 0x02
    struct.pack_into(">H", hdr, 2, 48 + len(tlv))
    hdr[20:28] = source
    hdr[28:30] = b"\x00\x00"
    hdr[30:32] = seq
    hdr[32] = 4
    hdr[33] = 0x7F
    mgmt = target + bytes([0, 0, action, 0])
    return bytes(hdr) + mgmt + tlv


seen = [0]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("ready", flush=True)
while True:
    req, addr = s.recvfrom(1500)
    if len(req) < 54:
        continue
    mid = struct.unpack(">H", req[52:54])[0]
    seen[0] += 1
    if mode == "takeover" and seen[0] > TAKEOVER_AFTER:
        port_state = 6
        GM = CLOCK
    body = dataset(mid)
    if mode == "silent":
        continue
    if mode == "no_port_properties" and mid == PORT_PROPS:
        continue
    if mode == "not_supported" and mid == TIME_STATUS:
        s.sendto(reply(req, mid, struct.pack(">HH", 0x0006, mid) + bytes(4),
                       tlv_type=2), addr)
        continue
    out = reply(req, mid, body)
    if mode == "truncated" and mid == PARENT_DS:
        out = out[:60]
    if mode == "short_dataset" and mid == TIME_STATUS:
        out = reply(req, mid, body[:20])
    if mode == "tlv_overrun" and mid == TIME_PROPS:
        out = bytearray(out)
        struct.pack_into(">H", out, 50, 200)
        out = bytes(out)
    if mode == "wrong_id" and mid == CURRENT_DS:
        out = reply(req, PARENT_DS, dataset(PARENT_DS))
    if mode == "stale_first":
        # An answer to an older request first: to be skipped, not taken.
        old = bytearray(reply(req, mid, body))
        struct.pack_into(">H", old, 30, (struct.unpack(">H", req[30:32])[0] - 1) & 0xFFFF)
        s.sendto(bytes(old), addr)
    if mode == "other_clock" and mid == PARENT_DS:
        out = reply(req, mid, body, source=OTHER)
    if mode == "not_ptp" and mid == DEFAULT_DS:
        out = b"\x0B" + out[1:]
    s.sendto(out, addr)
    if mode == "two_ports_one_answers":
        pass
