#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# make soak: the fault scenarios and the reloads only, each for
# FAULT_SOAK_SECONDS.

FAULT_SOAK_SECONDS=$(cat /soak_seconds)
export FAULT_SOAK_SECONDS
fault_stage
