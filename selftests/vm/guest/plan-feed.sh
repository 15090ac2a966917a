#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# run.sh's "feed" VM: only what the PTP feed changed (control, upstream).

check "load for control" load phc="$igb"
suite control control_test
check "unload" unload
upstream_stage
