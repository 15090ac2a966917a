# SPDX-License-Identifier: GPL-2.0
#
# The front door.
#   make                 module (against KERNELDIR) and userspace
#   make check           everything below, ending in one "N passed, N failed" line
#   make check-unit      host-only unit tests (no VM)
#   make check-vm KERNEL=6.1|6.12   one stock kernel's VM tests
#   make demo            boot a VM with an igb NIC and show ionclock live
#   make style           checkpatch.pl over the C sources
#   make clean
# KERNELDIR picks the kernel build tree (default: the running kernel's).

KERNELDIR ?= /lib/modules/$(shell uname -r)/build
KERNEL ?= 6.12
TOP := $(CURDIR)

all: module userspace

module:
	$(MAKE) -C $(KERNELDIR) M=$(TOP) modules

userspace:
	$(MAKE) -C userspace

deps:
	selftests/vm/install-deps.sh

selftests: userspace
	$(MAKE) -C selftests

check:
	selftests/check.sh all

check-unit:
	selftests/check.sh unit

check-vm:
	selftests/check.sh vm $(KERNEL)

demo: deps selftests
	selftests/vm/run.sh $(KERNEL) demo

style:
	selftests/check.sh style

clean:
	-$(MAKE) -C $(KERNELDIR) M=$(TOP) clean 2>/dev/null
	$(MAKE) -C userspace clean
	rm -rf build/selftests build/vm-* build/results

.PHONY: all module userspace deps selftests check check-unit check-vm demo \
	style clean
