# SPDX-License-Identifier: GPL-2.0
#
# The front door.
#   make                 module (against KERNELDIR) and userspace
#   make check           everything below, ending in one "N passed, N failed" line
#   make check-unit      host-only unit tests and the LD_PRELOAD drop-in
#                        on the host (no VM)
#   make check-ops       the alert rules and dashboard against the exporter,
#                        and the drop-in failing closed (host, no VM)
#   make check-feed-host ionclockctl feed against a fake and a real ptp4l
#                        on the host (network namespaces; no device)
#   make check-kunit     the time core's KUnit suite on UML
#   make check-vm KERNEL=6.1|6.12|trixie|trixie-backports
#                        one stock kernel's VM tests
#   make check-bound KERNEL=6.1|6.12  its strict error-bound VM (a guest
#                        whose TSC is steady: selftests/vm/run.sh)
#   make check-debug     the VM tests on a 6.1 kernel we build with KASAN,
#                        lockdep, kmemleak and UBSAN (selftests/vm/debug.config)
#   make check-fleet     three VMs in one PTP domain (a ptp4l grandmaster,
#                        two slaves): causality across hosts, a window edge,
#                        the grandmaster and a feeder lost, a leap second
#   make check-migration a VM paused (monitor stop/cont) and its QEMU
#                        stopped (SIGSTOP/SIGCONT) under a reader: never
#                        backward, the PHC inside every bound (KERNEL=6.12);
#                        KERNEL=trixie-backports: saved to a file, its PHC
#                        moved, restored with -incoming (vmclock)
#   make check-fuzz      hostile ioctls, mappings, phc= lists and rmmod on that
#                        kernel (FUZZ_IOCTLS, default 1000000)
#   make demo            boot a VM with an igb NIC, show ionclock live, and
#                        draw build/demo/ionclock-demo.png from a recording
#                        through a system clock and a PHC step
#   make bench           read cost vs the vDSO, host and VM; writes
#                        build/bench/RESULTS.md and latency.png
#   make bench-publish   copies them over the committed
#                        userspace/bench/RESULTS.md and latency.png
#   make style           checkpatch.pl over the C sources; the tunables' docs
#                        (man page, uapi prose) against their table
#   make soak            the fault scenarios (fault_test) and module reloads
#                        (reload_test) on both kernels, FAULT_SOAK_SECONDS
#                        (600) each
#   make install         module (modules_install + depmod), library, header,
#                        pkg-config file, ionclockctl, man pages, udev rule,
#                        systemd unit ionclock-feed.service
#   make uninstall       the same, removed
#   make dkms-install    register the module with DKMS and install it for KVER
#   make clean
# KERNELDIR picks the kernel build tree (default: that of KVER, the running
# kernel).  install honours DESTDIR and PREFIX (default /usr/local); the
# module goes where the kernel puts it, under lib/modules/<release>/.

KVER ?= $(shell uname -r)
KERNELDIR ?= /lib/modules/$(KVER)/build
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

check-kunit:
	selftests/check.sh kunit

check-ops:
	selftests/check.sh ops

check-vm:
	selftests/check.sh vm $(KERNEL)

check-bound:
	selftests/check.sh vm $(KERNEL) bound

check-debug:
	selftests/check.sh debug

check-fuzz:
	selftests/check.sh fuzz

check-fleet:
	selftests/check.sh fleet $(KERNEL)

check-feed-host:
	selftests/check.sh feed

check-migration:
	selftests/check.sh migration $(KERNEL)

demo: deps selftests
	selftests/vm/run.sh $(KERNEL) demo
	selftests/vm/demo-plot.sh build/vm-$(KERNEL)/console.log build/demo

bench: deps selftests
	$(MAKE) -C userspace/bench run KERNEL=$(KERNEL)

bench-publish:
	$(MAKE) -C userspace/bench publish

style:
	selftests/check.sh style

# Eleven scenarios of FAULT_SOAK_SECONDS each (at most 1700: fault_test's
# and reload_test's own time limit is 1800 s per scenario): ten PHC faults
# and reload_test's reloads; plus the 5 s CPU hog, convergence and boot.
FAULT_SOAK_SECONDS ?= 600
SOAK_KERNELS ?= 6.1 6.12
soak: deps selftests
	@bad=0; for k in $(SOAK_KERNELS); do \
		FAULT_SOAK_SECONDS=$(FAULT_SOAK_SECONDS) \
		IONCLOCK_VM_TIMEOUT=$$((11 * ($(FAULT_SOAK_SECONDS) + 60) + 300)) \
		selftests/vm/run.sh $$k soak || bad=1; \
		grep -a -E '(fault|reload)_test.c' build/vm-$$k/console.log; \
	done; exit $$bad

# One version for the package, read from dkms.conf (which DKMS needs it in).
IONCLOCK_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(TOP)/dkms.conf)
PREFIX ?= /usr/local
DESTDIR ?=
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/ionclock
BINDIR ?= $(PREFIX)/bin
# The alert rules and the dashboard, for Prometheus's rule_files and
# Grafana's import.
DATADIR ?= $(PREFIX)/share/ionclock
# Where udev reads rules and systemd units: not under PREFIX, which they
# would never look in.
UDEVDIR ?= /lib/udev
SYSTEMDUNITDIR ?= /lib/systemd/system
# updates/ takes precedence over the kernel's own modules in depmod's search.
INSTALL_MOD_DIR ?= updates
# The release KERNELDIR was built for, which modules_install installs under.
KREL = $(shell cat $(KERNELDIR)/include/config/kernel.release 2>/dev/null)
DKMS_SRC := /usr/src/ionclock-$(IONCLOCK_VERSION)
DKMS_FILES := dkms.conf Makefile Kbuild kmod/Kbuild \
	$(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h) \
	$(wildcard uapi/linux/*.h)

install: install-module install-userspace

# The kernel's modules_install signs and compresses as its .config says;
# with DESTDIR, depmod is left to the package's postinst.
install-module: module
	$(MAKE) -C $(KERNELDIR) M=$(TOP) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) modules_install
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KREL); fi

install-userspace: userspace
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) \
		IONCLOCK_VERSION=$(IONCLOCK_VERSION)
	install -d $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UDEVDIR)/rules.d $(DESTDIR)$(DOCDIR)/modprobe.d \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 644 man/libionclock.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 man/ionclockctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 packaging/udev/99-ionclock.rules \
		$(DESTDIR)$(UDEVDIR)/rules.d/
	install -m 644 packaging/modprobe.d/ionclock.conf \
		$(DESTDIR)$(DOCDIR)/modprobe.d/
	install -d $(DESTDIR)$(DATADIR)/prometheus $(DESTDIR)$(DATADIR)/grafana
	install -m 644 packaging/prometheus/ionclock.rules.yml \
		$(DESTDIR)$(DATADIR)/prometheus/
	install -m 644 packaging/grafana/ionclock-dashboard.json \
		$(DESTDIR)$(DATADIR)/grafana/
	sed 's|/usr/local/bin/ionclockctl|$(BINDIR)/ionclockctl|g' \
		packaging/systemd/ionclock-feed.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/ionclock-feed.service
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/ionclock-feed.service

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KREL)/$(INSTALL_MOD_DIR)/kmod/ionclock.ko*
	rmdir $(DESTDIR)/lib/modules/$(KREL)/$(INSTALL_MOD_DIR)/kmod 2>/dev/null || true
	if [ -z "$(DESTDIR)" ] && [ -n "$(KREL)" ]; then depmod -a $(KREL); fi
	$(MAKE) -C userspace uninstall PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	rm -f $(DESTDIR)$(MANDIR)/man3/libionclock.3 \
		$(DESTDIR)$(MANDIR)/man8/ionclockctl.8 \
		$(DESTDIR)$(UDEVDIR)/rules.d/99-ionclock.rules \
		$(DESTDIR)$(SYSTEMDUNITDIR)/ionclock-feed.service
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)

# The tree DKMS builds from: just what the module needs.
dkms-src:
	install -d $(DESTDIR)$(DKMS_SRC)/kmod $(DESTDIR)$(DKMS_SRC)/uapi/linux
	for f in $(DKMS_FILES); do \
		install -m 644 $$f $(DESTDIR)$(DKMS_SRC)/$$f || exit 1; \
	done

dkms-install: dkms-src
	dkms status -m ionclock -v $(IONCLOCK_VERSION) | grep -q . || \
		dkms add -m ionclock -v $(IONCLOCK_VERSION)
	dkms install -m ionclock -v $(IONCLOCK_VERSION) -k $(KVER)

dkms-uninstall:
	-dkms remove -m ionclock -v $(IONCLOCK_VERSION) --all
	rm -rf $(DKMS_SRC)

clean:
	-$(MAKE) -C $(KERNELDIR) M=$(TOP) clean 2>/dev/null
	$(MAKE) -C userspace clean
	rm -rf build/selftests build/vm-* build/results build/install build/bench \
		build/demo build/migration-*

.PHONY: check-fleet check-migration all module userspace deps selftests check check-unit check-kunit check-ops check-vm \
	check-bound check-debug check-feed-host check-fuzz demo \
	bench bench-publish soak \
	style clean install install-module install-userspace uninstall \
	dkms-src dkms-install dkms-uninstall
