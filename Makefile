# SPDX-License-Identifier: GPL-2.0
#
# The front door: make, make check, make demo, make clean.  KERNELDIR picks
# the kernel build tree (default: the running kernel's).

KERNELDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(shell pwd)

all: module userspace

module:
	$(MAKE) -C $(KERNELDIR) M=$(PWD) modules

userspace:
	$(MAKE) -C userspace

clean:
	-$(MAKE) -C $(KERNELDIR) M=$(PWD) clean 2>/dev/null
	$(MAKE) -C userspace clean
	rm -rf build

.PHONY: all module userspace clean
