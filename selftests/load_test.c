// SPDX-License-Identifier: GPL-2.0
/*
 * phc= lists with one bad entry after a good one: every load must fail
 * promptly, and no /dev/ionclockN may appear meanwhile, not even for the
 * good entry (a device that exists can be opened, and a failing load
 * would then free it under its reader).  Nothing that is not a PHC may be
 * opened: a FIFO would block insmod for as long as it has no writer.
 *
 * Environment: IONCLOCK_MODULE, the .ko; IONCLOCK_GOOD_PHC, a phc= entry
 * that attaches (an interface with a PHC).  The module must not be loaded.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define LOAD_LIMIT_S	10
#define FIFO		"/dev/ionclock-test-fifo"
#define TMP_FIFO	"/tmp/ionclock-test-fifo"

/* The major of the PTP class's character devices, from a registered one. */
static int ptp_major(void)
{
	unsigned int major = 0, minor;
	FILE *f = fopen("/sys/class/ptp/ptp0/dev", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%u:%u", &major, &minor) != 2)
		major = 0;
	fclose(f);
	return major ? (int)major : -1;
}

enum kind { NONE, MK_FIFO, MK_TMP_FIFO, MK_FILE, MK_LINK, MK_PTP_MINOR,
	    MK_BLOCK };

FIXTURE(load) {
	char entry[PATH_MAX];
};

FIXTURE_VARIANT(load) {
	const char *entry;	/* "%s" is the good entry */
	enum kind make;
};

FIXTURE_VARIANT_ADD(load, fifo) {
	.entry = FIFO, .make = MK_FIFO,
};
FIXTURE_VARIANT_ADD(load, symlink_to_fifo) {
	.entry = "/dev/ionclock-test-link", .make = MK_LINK,
};
FIXTURE_VARIANT_ADD(load, fifo_outside_dev) {
	.entry = "/dev/../tmp/ionclock-test-fifo", .make = MK_TMP_FIFO,
};
FIXTURE_VARIANT_ADD(load, regular_file) {
	.entry = "/dev/ionclock-test-file", .make = MK_FILE,
};
FIXTURE_VARIANT_ADD(load, directory) {
	.entry = "/dev/", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, dev_null) {
	.entry = "/dev/null", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, kmsg) {
	.entry = "/dev/kmsg", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, ptp_major_no_ptp_minor) {
	.entry = "/dev/ionclock-test-ptp", .make = MK_PTP_MINOR,
};
FIXTURE_VARIANT_ADD(load, block_device) {
	.entry = "/dev/ionclock-test-blk", .make = MK_BLOCK,
};
FIXTURE_VARIANT_ADD(load, missing_path) {
	.entry = "/dev/ionclock-test-missing", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, path_too_long) {
	.entry = "/dev/a-path-longer-than-any-ptp-device-node", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, missing_index) {
	.entry = "31", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, index_past_minors) {
	.entry = "1048576", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, index_overflows_int) {
	.entry = "99999999999", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, negative_index) {
	.entry = "-1", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, unknown_interface) {
	.entry = "nosuchif0", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, interface_without_phc) {
	.entry = "lo", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, empty_entry) {
	.entry = "", .make = NONE,
};
FIXTURE_VARIANT_ADD(load, duplicate) {
	.entry = "%s", .make = NONE,
};

static void cleanup(void)
{
	unlink(FIFO);
	unlink(TMP_FIFO);
	unlink("/dev/ionclock-test-link");
	unlink("/dev/ionclock-test-file");
	unlink("/dev/ionclock-test-ptp");
	unlink("/dev/ionclock-test-blk");
}

FIXTURE_SETUP(load)
{
	const char *good = getenv("IONCLOCK_GOOD_PHC");
	int fd, major;

	if (!good || !getenv("IONCLOCK_MODULE"))
		SKIP(return, "IONCLOCK_MODULE and IONCLOCK_GOOD_PHC not set");
	ASSERT_NE(0, access("/sys/module/ionclock", F_OK)) {
		TH_LOG("ionclock is loaded: every insmod would fail anyway");
	}
	cleanup();
	switch (variant->make) {
	case MK_FIFO:
		ASSERT_EQ(0, mkfifo(FIFO, 0600));
		break;
	case MK_TMP_FIFO:
		ASSERT_EQ(0, mkfifo(TMP_FIFO, 0600));
		break;
	case MK_LINK:
		ASSERT_EQ(0, mkfifo(FIFO, 0600));
		ASSERT_EQ(0, symlink(FIFO, "/dev/ionclock-test-link"));
		break;
	case MK_FILE:
		fd = open("/dev/ionclock-test-file", O_CREAT | O_WRONLY, 0600);
		ASSERT_LE(0, fd);
		close(fd);
		break;
	case MK_PTP_MINOR:
		major = ptp_major();
		ASSERT_LT(0, major);
		ASSERT_EQ(0, mknod("/dev/ionclock-test-ptp", S_IFCHR | 0600,
				   makedev(major, 250)));
		break;
	case MK_BLOCK:
		ASSERT_EQ(0, mknod("/dev/ionclock-test-blk", S_IFBLK | 0600,
				   makedev(7, 200)));
		break;
	case NONE:
		break;
	}
	snprintf(self->entry, sizeof(self->entry), variant->entry, good);
}

FIXTURE_TEARDOWN(load)
{
	cleanup();
}

/* Did inotify on /dev see an ionclock device node created? */
static bool saw_ionclock(int in)
{
	char buf[4096] __attribute__((aligned(8)));
	bool saw = false;
	ssize_t n;
	char *p;

	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->len && !strncmp(ev->name, "ionclock", 8) &&
			    strncmp(ev->name, "ionclock-test", 13))
				saw = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	return saw;
}

TEST_F(load, bad_entry_fails_promptly_with_no_device)
{
	static const char *const fifos[] = { FIFO, TMP_FIFO, NULL };
	char arg[PATH_MAX + 16];
	int64_t start;
	int in, status;
	bool done;

	snprintf(arg, sizeof(arg), "phc=%s,%s", getenv("IONCLOCK_GOOD_PHC"),
		 self->entry);
	in = inotify_init1(IN_NONBLOCK);
	ASSERT_LE(0, in);
	ASSERT_LE(0, inotify_add_watch(in, "/dev", IN_CREATE));
	start = test_mono_ns();
	done = test_insmod(getenv("IONCLOCK_MODULE"), arg, LOAD_LIMIT_S, fifos,
			   &status);
	TH_LOG("insmod %s: %s after %.2f s", arg,
	       done ? "returned" : "still blocked",
	       (test_mono_ns() - start) / 1e9);
	EXPECT_TRUE(done);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	EXPECT_FALSE(saw_ionclock(in));
	close(in);
	/* A load that succeeded after all must not stay for the next one. */
	if (!access("/sys/module/ionclock", F_OK))
		system("rmmod ionclock");
}

TEST_HARNESS_MAIN
