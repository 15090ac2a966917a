#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# run.sh's "vmclock" VM: only the vmclock stage (the check plan has it too).
vmclock_stage
