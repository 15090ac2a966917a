#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# What every test VM's PID 1 does first (init.sh, fleet-guest.sh): busybox
# as the tools, and the kernel's filesystems.

/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/tests
mount -t proc none /proc
mount -t sysfs none /sys
mount -t devtmpfs none /dev
mount -t tmpfs none /tmp
