#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of one fleet VM (fleet.sh): brings up its igb on the fleet's link
# at the address in /addr, then serves the host's plan (fleet_plan.py) on
# the third serial port.  Each request is one line, "<id> <command>"; the
# command runs under sh with its output in a file, and the answer is that
# output, each line prefixed "<id>| ", then "<id> rc=<status>".  Nothing
# here decides a verdict: the plan does, and says "success" through the
# second serial port with "verdict success" (run.sh's convention).

. /guest/pid1.sh
mkdir -p /var/run
say() { echo "fleet-$(cat /role): $*"; }

for m in $(cat /modules/order); do
	insmod "/modules/$m" || say "insmod $m failed"
done
for i in $(seq 100); do
	[ -n "$(ls /sys/class/net | grep -v '^lo$')" ] && break
	sleep 0.2
done
nic=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
ip link set lo up
ip link set "$nic" up
ip addr add "$(cat /addr)/24" dev "$nic"
echo "$nic" >/tmp/nic
echo "/dev/$(ls "/sys/class/net/$nic/device/ptp")" >/tmp/phc
say "$nic $(cat /tmp/phc) at $(cat /addr)"

agent=/dev/ttyS2
stty -F "$agent" raw -echo 115200 2>/dev/null
exec 3<>"$agent"
echo "ready $(cat /role)" >&3
while read -r id cmd <&3; do
	[ -n "$id" ] || continue
	case "$cmd" in
	"verdict success")
		echo success >/dev/ttyS1
		echo "$id rc=0" >&3
		continue
		;;
	poweroff)
		echo "$id rc=0" >&3
		sync
		poweroff -f
		;;
	esac
	sh -c "$cmd" >/tmp/agent.out 2>&1 </dev/null 3>&-
	rc=$?
	sed "s/^/$id| /" /tmp/agent.out >&3
	echo "$id rc=$rc" >&3
done
say "agent port closed"
poweroff -f
