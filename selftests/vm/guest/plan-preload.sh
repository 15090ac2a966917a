#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# run.sh <series> preload: the drop-in's stage alone.

preload_stage
