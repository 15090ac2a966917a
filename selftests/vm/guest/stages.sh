#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# Stages more than one plan runs: the drop-in (preload), the fault matrix
# on fakephc (fault) and the PTP feed (upstream).

# ---- The LD_PRELOAD drop-in on real programs (preload_test: date, python3,
# redis-server, date under jemalloc, tcmalloc and mimalloc in both orders),
# then the system clock and the PHC stepped under a stamping program
# (preload_steps_test).  The PHC is set 10^6 s ahead of the system clock
# before the module loads, so that ionclock's UTC cannot pass for the
# system's; then it is put back.  Then a page with no time, on fakephc.
preload_stage() {
	check "set the igb PHC 10^6 s ahead of the system clock" \
		phc_ctl -q "$igb_ptp" set $(($(date +%s) + 1000000))
	check "load on the far PHC" load phc="$igb"
	suite preload preload_test
	suite preload_steps preload_steps_test
	check "unload" unload
	check "the igb PHC back on the system clock" \
		phc_ctl -q "$igb_ptp" -- freq 0 set
	# A page with no time: fakephc fails every read, so the module never
	# publishes.  Then it gets time while a program runs, 37 s behind the
	# system clock (the fake PHC starts at CLOCK_TAI, which is the
	# system's UTC here, less the offset 37): that program's clock must
	# stand still, not go back.
	check "load fakephc, failing every read" \
		insmod /modules/fakephc.ko fail_all=1
	fake_ptp=$(find_fake)
	check "load on it: the page has no time" \
		sh -c "insmod /modules/ionclock.ko phc=$fake_ptp && ! ionclockctl read"
	check "no time on the page: date under the drop-in is the system's" \
		preload_reads_system
	check "time arrives mid-run, 37 s behind: the clock holds, never back" \
		preload_switch_holds
	check "unload" unload
	check "unload fakephc" rmmod fakephc
}

preload_env="LD_PRELOAD=/tests/libionclock-preload.so IONCLOCK_PRELOAD_TAI_OFFSET=37"

preload_reads_system() {
	b=$(date +%s)
	got=$(env $preload_env timeout 30 /usr/bin/date +%s) || return 1
	a=$(date +%s)
	echo "system $b <= date under the drop-in $got <= system $a"
	[ "$b" -le "$got" ] && [ "$got" -le "$a" ]
}

preload_switch_holds() {
	s0=$(date +%s)
	env $preload_env timeout 60 /tests/preload_stamp_prog 8 >/tmp/stamp &
	p=$!
	sleep 3
	echo 0 >/sys/module/fakephc/parameters/fail_all
	wait $p || return 1
	s1=$(date +%s)
	cat /tmp/stamp
	ionclockctl read || return 1
	last=$(sed -n 's/^last_realtime_ns //p' /tmp/stamp)
	echo "system $s0 .. $s1, last stamp $((last / 1000000000))"
	grep -qx 'back_clock_gettime 0' /tmp/stamp &&
	grep -qx 'back_gettimeofday 0' /tmp/stamp &&
	grep -qx 'back_time 0' /tmp/stamp &&
	[ $((last / 1000000000)) -ge "$s0" ] &&
	[ $((last / 1000000000)) -le $((s1 - 3)) ]
}

# ---- Faults on demand: fakephc.ko (selftests/fakephc) is a PHC that
# fails, drifts, steps, slows down and disappears when the test says so;
# fault_test also starves the sampler with RT hogs, and reload_test
# reloads the module under readers that reopen.
# fakephc's clock 0, the one its faults and "present" act on; with
# clocks=2 a twin of the same clock name sits beside it (twin_phc_test).
find_fake() {
	for c in /sys/devices/platform/fakephc.0/ptp/ptp*; do
		[ -e "$c" ] && echo "/dev/${c##*/}"
	done
}

fault_stage() {
	fake=/sys/module/fakephc/parameters
	# Off-rate from its first read on, for startup_test's first case.
	check "load fakephc with two clocks of one name, 80 ppm fast" \
		insmod /modules/fakephc.ko clocks=2 rate_ppb=80000
	fake_ptp=$(find_fake)
	check "fakephc registers a PHC" [ -n "$fake_ptp" ]
	check "phc_ctl steers the fake PHC" \
		phc_ctl "$fake_ptp" -- freq 0 adj 0.001 get
	# The bound from the first read, the fake off-rate from the start;
	# the test loads and unloads the module itself.
	IONCLOCK_FAKE=$fake IONCLOCK_MODULE=/modules/ionclock.ko \
		IONCLOCK_MODULE_ARGS="phc=$fake_ptp" suite startup startup_test
	check "load on the fake PHC" load phc="$fake_ptp"
	IONCLOCK_PHC=$fake_ptp IONCLOCK_FAKE=$fake suite fault fault_test
	# Removed beside a twin of the same name: not followed to the twin.
	IONCLOCK_FAKE=$fake suite twin twin_phc_test
	# The removal scenarios re-registered it, maybe under another index.
	fake_ptp=$(find_fake)
	IONCLOCK_FAKE=$fake IONCLOCK_MODULE=/modules/ionclock.ko \
		IONCLOCK_MODULE_ARGS="phc=$fake_ptp" suite reload reload_test
	check "unload" unload
	check "unload fakephc" rmmod fakephc
}

# The upstream state from a PTP feed: the ioctls, then ionclockctl feed
# against the real ptp4l (alone on the igb: it becomes grandmaster).
upstream_stage() {
	check "load for upstream" load phc="$igb"
	suite upstream upstream_test
	ip link set "$igb" up
	printf '[global]\npriority1 1\nuds_address /tmp/ptp4l\n' >/tmp/ptp4l.cfg
	feed_waits() {
		ionclockctl feed --interval 0.2 --ttl 1 --socket /tmp/ptp4l \
			>/tmp/feed.out 2>/tmp/feed.err &
		echo $! >/tmp/feed.pid
		sleep 2
		cat /tmp/feed.err
		grep -q 'feed: /tmp/ptp4l: no such socket (is ptp4l running?): retrying' /tmp/feed.err &&
		[ "$(grep -c retrying /tmp/feed.err)" = 1 ]
	}
	feed_resumes() {
		# ptp4l -S serves CLOCK_REALTIME, and the feed measures the PHC's
		# hop from it: put the PHC on it (earlier stages moved it far).
		phc_ctl -q "$igb_ptp" -- freq 0 set || return 1
		ptp4l -2 -S -i "$igb" -f /tmp/ptp4l.cfg >/tmp/ptp4l.log 2>&1 &
		echo $! >/tmp/ptp4l.pid
		i=0
		while [ $i -lt 60 ] && ! grep -q 'port_state master' /tmp/feed.out; do
			sleep 1
			i=$((i + 1))
		done
		cat /tmp/feed.out /tmp/feed.err
		grep -q '^feed resumed' /tmp/feed.out &&
		grep -q '^feed port_state master' /tmp/feed.out
	}
	upstream_fed() {
		ionclockctl upstream | tee /tmp/up
		grep -qx 'upstream_fed yes' /tmp/up && grep -qx 'port_state master' /tmp/up &&
		grep -qx 'master_offset_ns 0' /tmp/up && grep -qx 'upstream_stale no' /tmp/up
	}
	feed_once() {
		ionclockctl feed --once --ttl 1 --socket /tmp/ptp4l | tee /tmp/once
		grep -qx 'fed yes' /tmp/once && grep -qx 'port_state master' /tmp/once
	}
	feed_stale() {
		kill "$(cat /tmp/feed.pid)"
		wait "$(cat /tmp/feed.pid)"
		sleep 2
		ionclockctl upstream | tee /tmp/up
		grep -qx 'upstream_fed yes' /tmp/up && grep -qx 'upstream_stale yes' /tmp/up
	}
	skip_ptp4l() { skip_check "$1" "no AF_PACKET in this kernel for ptp4l -2"; }
	check "ionclockctl feed without ptp4l says so once and retries" feed_waits
	# ptp4l -2 speaks raw Ethernet: without AF_PACKET (CONFIG_PACKET, off
	# in our debug kernel) its port stays FAULTY and nothing can be fed.
	if [ -e /proc/net/packet ]; then
		ptp4l_check=check
	else
		ptp4l_check=skip_ptp4l
	fi
	$ptp4l_check "ptp4l starts: the feed resumes and feeds it as grandmaster" feed_resumes
	$ptp4l_check "ionclockctl upstream shows the fed state" upstream_fed
	$ptp4l_check "ionclockctl feed --once against ptp4l" feed_once
	$ptp4l_check "the feed killed: the state goes stale after its ttl" feed_stale
	check "ionclockctl upstream clear forgets it" \
		sh -c 'ionclockctl upstream clear | grep -qx "upstream_fed no"'
	# Whatever ran or was skipped: no feed may hold the device open.
	kill "$(cat /tmp/feed.pid)" 2>/dev/null &&
		wait "$(cat /tmp/feed.pid)" 2>/dev/null
	[ ! -e /tmp/ptp4l.pid ] || kill "$(cat /tmp/ptp4l.pid)" 2>/dev/null
	check "unload" unload
}

# ---- Each way of reading a PHC (read_method_test), on fakephc's method=:
# the most precise one the driver offers is used, reported and bounded.
# IONCLOCK_READ_*: gettime64 1, gettimex64 2 (stamps on CLOCK_REALTIME:
# 6.1 lets no caller choose) or 3 (CLOCK_MONOTONIC_RAW), crosststamp 4; a
# refused cross-timestamp falls back to gettimex64.
read_method_stage() {
	x64=3
	case "$series" in 6.1 | debug) x64=2 ;; esac
	for m in crosststamp:4 gettime64:1 gettimex64:$x64 \
		 crosststamp_refused:$x64; do
		name=${m%:*} want=${m#*:}
		case "$want" in
		1) word=gettime64 ;; 2) word=gettimex64 ;;
		3) word=gettimex64_raw ;; *) word=crosststamp ;;
		esac
		check "load fakephc method=$name" \
			insmod /modules/fakephc.ko method="$name"
		fake_ptp=$(find_fake)
		check "load on the fake PHC read with $name" load phc="$fake_ptp"
		IONCLOCK_EXPECT_METHOD=$want suite "read_method_$name" read_method_test
		check "status says read_method ${word}" \
			sh -c "ionclockctl status | grep -qx 'read_method $word'"
		check "unload" unload
		check "unload fakephc" rmmod fakephc
	done
}

# Notification: poll() wakes on a forced holdover and on a replaced PHC
# (fakephc's fail_all and present), and never while nothing changes.
notify_stage() {
	check "load fakephc for notify" insmod /modules/fakephc.ko
	fake_ptp=$(find_fake)
	check "load on the fake PHC for notify" load phc="$fake_ptp"
	IONCLOCK_FAKE=/sys/module/fakephc/parameters suite notify notify_test
	check "dmesg reports the replaced PHC as a disruption" \
		sh -c 'dmesg | grep -q "disruption (phc_changed)"'
	check "unload" unload
	check "unload fakephc" rmmod fakephc
}

# The hypervisor's vmclock (run.sh adds QEMU's -device vmclock where the
# kernel has the driver's ABI and writes /vmclock): found at load, followed
# (vmclock_test plays the hypervisor through /dev/mem), and off when told.
# Elsewhere the page must say there is none to follow.
vmclock_stage() {
	if [ ! -e /vmclock ]; then
		check "load for vmclock" load phc="$igb"
		check "ionclockctl status: no vmclock here (unsupported or absent)" \
			sh -c 'ionclockctl status | grep -Ex "vmclock (unsupported|absent)"'
		check "unload" unload
		return
	fi
	check "load for vmclock" load phc="$igb"
	check "dmesg: the module follows the vmclock device" \
		sh -c 'dmesg | grep -E "vmclock: following (AMZNC10C|VMCLOCK)"'
	check "ionclockctl status: vmclock followed" \
		sh -c 'ionclockctl status | grep "^vmclock" >&2; ionclockctl status | grep -qx "vmclock followed"'
	check "sysfs: vmclock followed" \
		sh -c '[ "$(cat /sys/class/misc/ionclock0/vmclock)" = followed ]'
	suite vmclock vmclock_test
	check "dmesg reports the vmclock's disruption" \
		sh -c 'dmesg | grep "disruption (" | grep -q vmclock'
	check "unload" unload
	check "load with vmclock=off" load phc="$igb" vmclock=off
	check "ionclockctl status: vmclock off" \
		sh -c 'ionclockctl status | grep -qx "vmclock off"'
	check "unload" unload
	check "load with vmclock=<its platform device> follows it" \
		load phc="$igb" vmclock=AMZNC10C:00
	check "ionclockctl status: vmclock followed, named" \
		sh -c 'ionclockctl status | grep -qx "vmclock followed"'
	check "unload" unload
	check "load with vmclock=<a platform device that is not there> fails" \
		load_fails phc="$igb" vmclock=nosuchdevice
	check "load with vmclock=/dev/vmclock0 fails, naming the way that works" \
		sh -c '! insmod /modules/ionclock.ko phc='"$igb"' vmclock=/dev/vmclock0 && dmesg | tail -n 5 | grep -q "name the platform device"'
	check "no kernel warnings" sh -c '! dmesg | grep -E "WARNING|BUG:|Oops"'
}
