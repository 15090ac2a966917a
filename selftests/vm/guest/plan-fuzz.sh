#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# make check-fuzz (run.sh debug fuzz): hostile input on the debug kernel.
# fuzz_test's storm of FUZZ_IOCTLS ioctls with readers, mappers and
# openers beside it, while rmmod is tried over and over (it must fail
# while the device is open, and succeed after); then phc= lists of bad
# entries, fixed and random.  debug_end's kmemleak and dmesg checks judge
# the kernel's side.  The last line is "fuzz: N passed, N failed".

# devtmpfs makes the node after insmod returns: on the debug kernel, late.
wait_dev() {
	for i in $(seq 100); do
		[ -c /dev/ionclock0 ] && return 0
		sleep 0.1
	done
	return 1
}

fuzz_rmmod_loop() {
	tries=0 unloaded=0
	# From the moment the storm holds the device open.
	while kill -0 "$1" 2>/dev/null && [ ! -e /tmp/fuzz-ready ]; do
		sleep 0.1
	done
	# Until the storm lets the device go (it removes the file first).
	while kill -0 "$1" 2>/dev/null && [ -e /tmp/fuzz-ready ]; do
		tries=$((tries + 1))
		if rmmod ionclock 2>/dev/null; then
			unloaded=$((unloaded + 1))
			load phc="$igb" && wait_dev
		fi
		sleep 0.2
	done
	echo "$tries $unloaded" >/tmp/rmmod-tries
}

fuzz_stage() {
	check "load on the igb PHC" load phc="$igb"
	check "/dev/ionclock0 appears" wait_dev
	FUZZ_ONLY=ioctl_storm FUZZ_IOCTLS=$(cat /fuzz_ioctls) \
		FUZZ_READY=/tmp/fuzz-ready fuzz_test >/tmp/fuzz.out 2>&1 &
	fpid=$!
	fuzz_rmmod_loop $fpid &
	rpid=$!
	wait $fpid
	frc=$?
	wait $rpid
	cat /tmp/fuzz.out
	totals=$(grep '^# Totals:' /tmp/fuzz.out | tail -n 1)
	check "the ioctl storm passed (exit $frc): $totals" \
		sh -c "[ $frc = 0 ] && echo '$totals' | grep -q 'pass:1 fail:0 .*skip:1 '"
	read -r tries unloaded </tmp/rmmod-tries
	say "rmmod tried $tries times during the storm, succeeded $unloaded"
	check "rmmod was tried during the storm" [ "$tries" -gt 0 ]
	check "rmmod never succeeded while the device was open" \
		[ "$unloaded" = 0 ]
	check "the device still answers after the storm" \
		sh -c 'ionclockctl status >/dev/null'
	check "unload after the storm" unload
	IONCLOCK_MODULE=/modules/ionclock.ko IONCLOCK_GOOD_PHC=$igb \
		suite load load_test
	FUZZ_ONLY=phc_lists IONCLOCK_MODULE=/modules/ionclock.ko \
		IONCLOCK_GOOD_PHC=$igb suite fuzz_phc_lists fuzz_test
}

fuzz_stage
[ "$series" != debug ] || debug_end
echo "fuzz: $pass passed, $fail failed"
