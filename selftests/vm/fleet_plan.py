#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# The fleet test's plan (fleet.sh boots the VMs): a ptp4l grandmaster and
# two slaves on one link, ionclock and its feed on each, then
#   (a) cross-host causality, 1000 exchanges per pair;
#   (b) a transaction at a 5-minute window edge, system clocks skewed;
#   (c) the grandmaster killed, then back;
#   (d) one feeder killed: its upstream term ages as the ABI says;
#   (e) a leap second announced by the grandmaster, across all three.
# TAP on stdout, then "fleet: N passed, N failed".
#
#   fleet_plan.py DIR ROLE...   (DIR/ROLE/agent.sock: each guest's agent)
#
# The chain.  QEMU's igb carries the PTP traffic but gives no receive
# timestamps, so ptp4l timestamps in software and disciplines
# CLOCK_REALTIME, and phc2sys carries CLOCK_REALTIME into a PHC that
# ionclock reads.  That PHC is fakephc (selftests/fakephc), not the igb's:
# QEMU 10.0's igb moves SYSTIM by powers of two (2^27, 2^28 ns measured
# here) when a servo adjusts it, so phc2sys cannot hold it, where fakephc
# runs on the guest's own oscillator and takes adjfine and adjtime as a
# NIC's PHC does.  It stands for the NIC a real host's ptp4l would
# discipline with hardware timestamps.  ptp4l -S slaves take the domain's
# time for TAI and subtract currentUtcOffset to get CLOCK_REALTIME; the
# ptp4l -S grandmaster sends its CLOCK_REALTIME as it is: so the
# grandmaster's system clock runs TAI, as a PTP-timescale grandmaster's
# clock does, and its UTC is that less 37 s.  The feed measures the
# phc2sys hop each poll (PORT_PROPERTIES_NP says software) and adds it.
#
# The fleet's time is set at the start to 23:53:30 UTC of today's date, so
# that a window edge (23:55:00) and the day's end, where the announced leap
# goes, both fall inside the run.
import calendar
import os
import re
import select
import socket
import sys
import time

NS = 10**9
WINDOW_S = 300
ADDR = {"gm": "10.11.0.1", "s1": "10.11.0.2", "s2": "10.11.0.3"}
BCAST = "10.11.0.255"
SERVE_PORT, MARK_PORT = 7000, 7001
EXCHANGES = 1000
SMEAR_S = 20
START_HMS = (23, 53, 20)
# (b): each system clock skewed by tens of ms before the transaction,
# which leaves 20 ms after the edge.
SKEW_MS = {"gm": -50, "s1": 10, "s2": 50}
GM_SETTINGS = ("SET GRANDMASTER_SETTINGS_NP clockClass 6 clockAccuracy 0x22 "
               "offsetScaledLogVariance 0xffff currentUtcOffset {utc} leap61 {leap} "
               "leap59 0 currentUtcOffsetValid 1 ptpTimescale 1 timeTraceable 1 "
               "frequencyTraceable 1 timeSource 0x20")
GM_CFG = ("[global]\\npriority1 1\\nlogSyncInterval -2\\nlogAnnounceInterval 0\\n"
          "announceReceiptTimeout 3\\n")
SL_CFG = ("[global]\\nslaveOnly 1\\nlogSyncInterval -2\\nlogAnnounceInterval 0\\n"
          "announceReceiptTimeout 3\\n")

out_dir, roles = sys.argv[1], sys.argv[2:]
slaves = [r for r in roles if r != "gm"]
results = []


class Agent:
    """One guest's command port: a line out, its output and status back."""

    def __init__(self, role, path):
        self.role = role
        self.buf = b""
        self.n = 0
        deadline = time.time() + 120
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.5)

    def line(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError(self.role)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.role)
            self.buf += chunk
        text, self.buf = self.buf.split(b"\n", 1)
        return text.decode(errors="replace").rstrip("\r")

    def ready(self, timeout):
        deadline = time.time() + timeout
        while self.line(deadline) != "ready " + self.role:
            pass

    def run(self, cmd, timeout=60):
        self.n += 1
        tag = "%s-%d" % (self.role, self.n)
        self.sock.sendall(("%s %s\n" % (tag, cmd)).encode())
        deadline = time.time() + timeout
        lines = []
        while True:
            text = self.line(deadline)
            if text.startswith(tag + "| "):
                lines.append(text[len(tag) + 2:])
            elif text.startswith(tag + " rc="):
                return int(text.split("=", 1)[1]), "\n".join(lines)


def check(desc, ok, detail=""):
    results.append(bool(ok))
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), desc))
    for text in detail.splitlines() if detail else []:
        print("# " + text)
    sys.stdout.flush()


def note(text):
    for t in text.splitlines():
        print("# " + t)
    sys.stdout.flush()


def kv(text):
    return dict(re.findall(r"(\w+)=(-?\w+)", text))


def all_run(cmd, timeout=60, who=None):
    return {r: A[r].run(cmd, timeout) for r in (who or roles)}


def fleet_utc():
    """UTC by the grandmaster's ionclock (the domain's time), s."""
    rc, text = A["gm"].run("ionclockctl read")
    return int(text.split()[-1]) / NS - 37


def wait_fleet_until(utc_s):
    left = utc_s - fleet_utc()
    if left > 0:
        time.sleep(left)


def bounds(who):
    got = {}
    for r in who:
        rc, text = A[r].run("ionclockctl status")
        m = re.search(r"^error_bound_ns (\d+)", text, re.M)
        got[r] = int(m.group(1)) if m else None
    return got


def start_gm_ptp4l(leap):
    A["gm"].run("ptp4l -S -i $(cat /tmp/nic) -f /tmp/ptp4l.cfg -m "
                ">>/tmp/ptp4l.log 2>&1 & echo $! >/tmp/ptp4l.pid")
    for _ in range(50):
        rc, _ = A["gm"].run("pmc -u -b 0 '%s' >/tmp/pmc.out 2>&1 && "
                            "grep -q 'leap61 *%d' /tmp/pmc.out"
                            % (GM_SETTINGS.format(utc=37, leap=leap), leap))
        if rc == 0:
            return True
        time.sleep(0.2)
    return False


def slaves_locked(timeout):
    """Each slave's ptp4l port in SLAVE state: its servo locked."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        locked = all(A[r].run("pmc -u -b 0 'GET PORT_DATA_SET' | "
                              "grep -Eq 'portState +SLAVE'")[0] == 0
                     for r in slaves)
        if locked:
            return True
        time.sleep(1)
    for r in slaves:
        note("%s: ptp4l says\n%s" % (r, A[r].run("tail -n 8 /tmp/ptp4l.log")[1]))
    return False


def pairs():
    return [(a, b) for i, a in enumerate(roles) for b in roles[i + 1:]]


def causality(tag, figures=None, tally=None):
    """EXCHANGES per pair: one check each, or counted into @tally."""
    for a, b in pairs():
        rc, text = A[a].run("fleet_peer ping %s %d %d" % (ADDR[b], SERVE_PORT, EXCHANGES),
                            timeout=300)
        v = kv(text)
        good = (rc == 0 and v.get("exchanges") == str(EXCHANGES) and
                v.get("violations") == "0")
        if tally is not None:
            t = tally.setdefault((a, b), [0, 0, ""])
            t[0] += 1
            if not good:
                t[1] += 1
                t[2] += text + "\n"
            continue
        check("(%s) %s -> %s: %s exchanges, each t1 - (bA + bB) <= tB <= t2 + (bA + bB)"
              % (tag, a, b, v.get("exchanges", "?")), good, text)
        if figures is not None and rc == 0:
            figures.append((a, b, v))


A = {}
try:
    for r in roles:
        A[r] = Agent(r, os.path.join(out_dir, r, "agent.sock"))
    for r in roles:
        A[r].ready(600)
except (OSError, TimeoutError, EOFError) as e:
    check("the fleet's guests answer", False, "no agent: %r" % (e,))
    print("fleet: 0 passed, 1 failed")
    sys.exit(1)
check("three guests up on one link", True)

try:
    # ---- The chain, from the grandmaster's system clock to ionclock.
    day = time.gmtime()
    start = calendar.timegm((day.tm_year, day.tm_mon, day.tm_mday) + START_HMS)
    day_end = (start // 86400 + 1) * 86400
    edge = (start // WINDOW_S + 1) * WINDOW_S
    for r in roles:
        when = start + (37 if r == "gm" else 0)
        A[r].run("date -u -s '%s' >/dev/null && insmod /modules/fakephc.ko && "
                 "ls /sys/devices/platform/fakephc.0/ptp >/tmp/fake && "
                 "echo /dev/$(cat /tmp/fake) >/tmp/phc"
                 % time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when)))
    A["gm"].run("printf '%s' >/tmp/ptp4l.cfg" % GM_CFG)
    for r in slaves:
        A[r].run("printf '%s' >/tmp/ptp4l.cfg" % SL_CFG)
    check("grandmaster ptp4l up, settings: currentUtcOffset 37 valid, ptpTimescale",
          start_gm_ptp4l(0))
    for r in slaves:
        A[r].run("ptp4l -S -s -i $(cat /tmp/nic) -f /tmp/ptp4l.cfg -m "
                 ">/tmp/ptp4l.log 2>&1 & echo $! >/tmp/ptp4l.pid")
    check("slaves' ptp4l lock on the grandmaster", slaves_locked(120))
    # The grandmaster's CLOCK_REALTIME is TAI: no offset, no leap.  A
    # slave's is UTC: phc2sys -w takes TAI - UTC, and its leaps, from ptp4l.
    A["gm"].run("phc2sys -s CLOCK_REALTIME -c $(cat /tmp/phc) -O 0 -R 8 -m "
                ">/tmp/phc2sys.log 2>&1 & echo $! >/tmp/phc2sys.pid")
    for r in slaves:
        A[r].run("phc2sys -s CLOCK_REALTIME -c $(cat /tmp/phc) -w -R 8 -m "
                 ">/tmp/phc2sys.log 2>&1 & echo $! >/tmp/phc2sys.pid")
    time.sleep(3)
    ok = True
    for r in roles:
        rc, text = A[r].run(
            "insmod /modules/ionclock.ko phc=$(cat /tmp/phc) && "
            "ionclockctl config smear_window_s %d && "
            "{ ionclockctl feed --interval 0.5 --ttl 5 >/tmp/feed.log 2>&1 & "
            "echo $! >/tmp/feed.pid; } && "
            "{ fleet_peer serve %d >/tmp/serve.log 2>&1 & }" % (SMEAR_S, SERVE_PORT))
        ok = ok and rc == 0
        if rc:
            note("%s: %s" % (r, text))
    check("ionclock, its feed and a stamp server on every host", ok)
    ok = True
    for r in roles:
        rc, text = A[r].run("ionclockctl waitsync --max-bound 10000000 --timeout 90",
                            timeout=120)
        ok = ok and rc == 0
        if rc:
            note("%s: %s" % (r, text))
    check("every host tracking with a bound under 10 ms", ok)
    for r in roles:
        rc, text = A[r].run("ionclockctl upstream; ionclockctl status | "
                            "grep -E '^(state|error_bound_ns|error_upstream_ns|utc_source|tai_utc)'")
        note("%s:\n%s" % (r, text))
        check("%s: the feed reports software timestamping, hop measured" % r,
              re.search(r"^hop_ns [1-9]", text, re.M), text)

    # ---- (a) cross-host causality: before the edge if there is time.
    def part_a():
        figures = []
        causality("a", figures)
        for a, b, v in figures:
            note("(a) %s -> %s: offset min/median/max %s/%s/%s ns, bound sum max %s ns, "
                 "tightest margin %s ns" % (a, b, v["offset_min_ns"], v["offset_median_ns"],
                                            v["offset_max_ns"], v["bound_sum_max_ns"],
                                            v["margin_min_ns"]))
    a_done = fleet_utc() < edge - 45
    if a_done:
        part_a()

    # ---- (b) a transaction at the window edge, system clocks skewed.
    if fleet_utc() > edge - 10:
        check("(b) the fleet reached the window edge in time", False,
              "set-up took until %.1f s before the edge" % (edge - fleet_utc()))
    else:
        # Within the feed's time-to-live of the stop: UTC still known.
        wait_fleet_until(edge - 2.5)
        for r in roles:
            A[r].run("kill -STOP $(cat /tmp/ptp4l.pid) $(cat /tmp/phc2sys.pid); "
                     "fleet_peer step %d000000 && "
                     "{ fleet_peer mark %d 30 %d >/tmp/mark.out 2>&1 & }"
                     % (SKEW_MS[r], MARK_PORT, 37 if r == "gm" else 0))
        rc, sent = A["gm"].run("fleet_peer send %s %d %d"
                               % (BCAST, MARK_PORT, edge * NS + 20 * 1000000), timeout=30)
        time.sleep(1)
        marks = {}
        for r in roles:
            rc, text = A[r].run("cat /tmp/mark.out; fleet_peer step %d000000; "
                                "kill -CONT $(cat /tmp/ptp4l.pid) $(cat /tmp/phc2sys.pid)"
                                % (-SKEW_MS[r]))
            marks[r] = kv(text)
            note("(b) %s, system clock %+d ms: %s" % (r, SKEW_MS[r], text.replace("\n", " ")))
        truth = edge // WINDOW_S
        sure = {r: m.get("ionclock_window") for r, m in marks.items()
                if m.get("ionclock_window") not in (None, "unsure")}
        check("(b) every host stamped the transaction", all("mark_utc_ns" in m for m in marks.values()),
              sent)
        check("(b) ionclock: every host that can tell puts it in the same window, the true one",
              len(sure) > 0 and all(w == str(truth) for w in sure.values()),
              "windows %s, true %d" % (sure, truth))
        system = {m.get("system_window") for m in marks.values()}
        check("(b) the skewed system clocks split it across windows", len(system) > 1,
              "system windows %s" % (system,))
        check("slaves lock again after the skew is undone", slaves_locked(60))

    if not a_done:
        part_a()

    # ---- (c) the grandmaster lost, then back.
    A["gm"].run("kill $(cat /tmp/ptp4l.pid)")
    began = time.time()
    for r in slaves:
        A[r].run("{ fleet_peer watch 20 1000 >/tmp/watch-c.out 2>&1 & }")
    causality("c, grandmaster gone")
    time.sleep(max(0, began + 22 - time.time()))
    lost_bounds = {}
    for r in slaves:
        rc, text = A[r].run("cat /tmp/watch-c.out")
        v = kv(text)
        lost_bounds[r] = int(v.get("bound_last_ns", 0))
        check("(c) %s: with the grandmaster gone its bound only grows (%s -> %s ns)"
              % (r, v.get("bound_first_ns"), v.get("bound_last_ns")),
              v.get("bound_decreases") == "0" and v.get("errors") == "0" and
              int(v.get("bound_last_ns", 0)) > int(v.get("bound_first_ns", 0)) and
              v.get("back_tai") == "0", text)
    check("(c) grandmaster restarted", start_gm_ptp4l(0))
    check("(c) slaves lock on it again", slaves_locked(90))
    shrunk = False
    for _ in range(60):
        now = bounds(slaves)
        if all(now[r] is not None and now[r] * 2 < lost_bounds[r] for r in slaves):
            shrunk = True
            break
        time.sleep(1)
    check("(c) the grandmaster back: the slaves' bounds shrink again",
          shrunk, "during the loss %s, now %s" % (lost_bounds, now))
    causality("c, grandmaster back")

    # ---- (d) a feeder lost: its upstream term ages, as the ABI says.
    r = slaves[0]
    rc, cfg = A[r].run("ionclockctl config")
    drift = int(re.search(r"^drift_ppb (\d+)", cfg, re.M).group(1))
    floor = int(re.search(r"^upstream_error_ns (\d+)", cfg, re.M).group(1))
    A[r].run("kill $(cat /tmp/feed.pid)")
    reads = []
    for _ in range(3):
        time.sleep(2.5)
        rc, text = A[r].run("fleet_peer upstream")
        reads.append(kv(text))
    ok, detail = True, []
    for v in reads:
        want = max(floor, int(v["upstream_reported_ns"]) +
                   drift * (int(v["time_base_ns"]) - int(v["upstream_measured_tai_ns"])) // NS)
        got = int(v["error_upstream_ns"])
        detail.append("term %d, formula %d, stale %s" % (got, want, v["stale"]))
        ok = ok and abs(got - want) <= 1
    check("(d) %s's feeder killed: the upstream term is reported + drift_ppb x age, "
          "read by read" % r, ok, "\n".join(detail))
    check("(d) it grows between reads", int(reads[0]["error_upstream_ns"]) <
          int(reads[1]["error_upstream_ns"]) < int(reads[2]["error_upstream_ns"]),
          "\n".join(detail))
    check("(d) past its time-to-live (5 s) the page says upstream stale",
          reads[0]["fed"] == "1" and reads[2]["stale"] == "1", "\n".join(detail))
    A[r].run("{ ionclockctl feed --interval 0.5 --ttl 5 >/tmp/feed.log 2>&1 & "
             "echo $! >/tmp/feed.pid; }")
    time.sleep(2)
    rc, text = A[r].run("fleet_peer upstream")
    check("(d) the feeder back: fresh again", kv(text).get("stale") == "0", text)

    # ---- (e) a leap second, announced by the grandmaster.
    rc, text = A["gm"].run("pmc -u -b 0 '%s'" % GM_SETTINGS.format(utc=37, leap=1))
    check("(e) the grandmaster announces leap61",
          rc == 0 and re.search(r"leap61\s+1", text), text)
    # More exchanges while the day runs out: (a) keeps holding.
    tally = {}
    while fleet_utc() < day_end - 60:
        causality("a, waiting for the leap", tally=tally)
    for (a, b), (rounds, bad, text) in sorted(tally.items()):
        check("(a, while the day runs out) %s -> %s: %d rounds of %d exchanges, "
              "every one causal" % (a, b, rounds, EXCHANGES), bad == 0, text)
    wait_fleet_until(day_end - 25)
    began = time.time()
    for r in roles:
        A[r].run("{ fleet_peer watch 45 20 >/tmp/watch-e.out 2>&1 & }")
    # TAI - UTC is 38 s from now on, the grandmaster says: 0.2 s into
    # 23:59:60 (fleet_utc() counts TAI - 37), sooner than it should.  The
    # leap must still come at its own second, and nothing go back.
    wait_fleet_until(day_end + 0.2)
    rc, text = A["gm"].run("pmc -u -b 0 '%s'" % GM_SETTINGS.format(utc=38, leap=0))
    check("(e) the grandmaster says currentUtcOffset 38 after the leap",
          rc == 0 and re.search(r"currentUtcOffset\s+38", text), text)
    time.sleep(max(0, began + 47 - time.time()))
    seen = {}
    for r in roles:
        rc, text = A[r].run("cat /tmp/watch-e.out; ionclockctl status | grep -E '^(tai_utc|utc)'")
        seen[r] = kv(text)
        note("(e) %s: %s" % (r, text.replace("\n", " ")))
        v = seen[r]
        check("(e) %s: across the leap, 0 backward steps on TAI, smeared and strict UTC" % r,
              v.get("samples", "0") != "0" and v.get("errors") == "0" and
              v.get("back_tai") == "0" and v.get("back_utc") == "0" and
              v.get("back_strict") == "0", text)
        check("(e) %s: smeared UTC went from TAI - 37 s to TAI - 38 s" % r,
              v.get("smear_offset_first_ms") == "37000" and
              v.get("smear_offset_last_ms") == "38000", text)
    want = day_end + 37
    check("(e) strict UTC's 23:59:60 is the same TAI second on every host (%d)" % want,
          all(seen[r].get("strict_leap_tai_s") == str(want) and
              seen[r].get("strict_leap_last_tai_s") == str(want) for r in roles),
          str({r: (seen[r].get("strict_leap_tai_s"), seen[r].get("strict_leap_last_tai_s"))
               for r in roles}))
    check("(e) every host scheduled the leap and its %d s smear at the same TAI second"
          % SMEAR_S,
          all(seen[r].get("next_leap_tai_s") == str(day_end + 38) and
              seen[r].get("smear_window_s") == str(SMEAR_S) for r in roles),
          str({r: (seen[r].get("next_leap_tai_s"), seen[r].get("smear_window_s"))
               for r in roles}))
    causality("a, after the leap")
except (OSError, TimeoutError, EOFError, ValueError, KeyError, AttributeError) as e:
    check("the plan ran to its end", False, "stopped: %r" % (e,))

passed = sum(results)
failed = len(results) - passed
for r in roles:
    try:
        if failed == 0:
            A[r].run("verdict success", timeout=10)
        A[r].run("poweroff", timeout=10)
    except (OSError, TimeoutError, EOFError):
        pass
print("fleet: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
