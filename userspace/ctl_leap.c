// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl leap show | load [file] | check [file]: the device's leap
 * table.  A file is loaded only after its hash and expiry check out; the
 * kernel validates the table again.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "ionclockctl.h"
#include "leapfile.h"

static int check_leap(const char *name, int argc, char **argv)
{
	if (!argc) {
		fail(name, "needs show, load [file] or check [file]");
		return 2;
	}
	if (!strcmp(argv[0], "show")) {
		if (argc == 1)
			return 0;
		fail("leap show", "takes no arguments");
		return 2;
	}
	if (!strcmp(argv[0], "load") || !strcmp(argv[0], "check")) {
		if (argc <= 2)
			return 0;
		fail(argv[0], "takes at most one file");
		return 2;
	}
	fail(name, "needs show, load [file] or check [file]");
	return 2;
}

static void date_of(uint64_t utc_s, char *buf, size_t len)
{
	time_t t = (time_t)utc_s;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d", &tm))
		snprintf(buf, len, "-");
}

static int leap_show(struct ctl *ctl)
{
	struct ionclock_leap_table *t = calloc(1, sizeof(*t));
	struct ionclock_page pg;
	char date[32];
	uint32_t i;

	if (!t) {
		fail("leap show", strerror(ENOMEM));
		return 1;
	}
	if (page_snapshot(ctl, &pg)) {
		free(t);
		return 1;
	}
	printf("leap_valid %s\n",
	       pg.flags & IONCLOCK_FLAG_LEAP_VALID ? "yes" : "no");
	if (pg.flags & IONCLOCK_FLAG_TAI_OFFSET_VALID)
		printf("tai_utc_offset_s %d\n", pg.tai_utc_offset_s);
	else
		printf("tai_utc_offset_s -\n");
	printf("next_leap_tai_s %" PRIu64 "\n", (uint64_t)pg.next_leap_tai_s);
	printf("next_leap_delta_s %d\n", pg.next_leap_delta_s);
	printf("leap_expiry_tai_s %" PRIu64 "\n",
	       (uint64_t)pg.leap_expiry_tai_s);
	printf("smear_window_s %u\n", pg.smear_window_s);
	if (ioctl(ionclock_fd(ctl->c), IONCLOCK_IOC_GET_LEAPS, t)) {
		free(t);
		if (errno == ENODATA) {
			printf("leap_table none\n");
			return 0;
		}
		fail(ctl->dev, strerror(errno));
		return 1;
	}
	date_of(t->expiry_utc_s, date, sizeof(date));
	printf("leap_table_expiry_utc_s %" PRIu64 " %s\n",
	       (uint64_t)t->expiry_utc_s, date);
	for (i = 0; i < t->count; i++) {
		date_of(t->leaps[i].utc_s, date, sizeof(date));
		printf("leap %" PRIu64 " %d %s\n", (uint64_t)t->leaps[i].utc_s,
		       t->leaps[i].tai_utc_offset_s, date);
	}
	free(t);
	return 0;
}

static int leap_from_file(struct ctl *ctl, const char *path, bool load)
{
	struct ionclock_leap_table *t = calloc(1, sizeof(*t));
	char why[160], date[32];
	bool expired;
	int ret = 0;

	if (!t) {
		fail(path, strerror(ENOMEM));
		return 1;
	}
	if (leapfile_read(path, (uint64_t)time(NULL), t, &expired, why,
			  sizeof(why))) {
		fail(path, why);
		free(t);
		return 1;
	}
	/* Not an error: the kernel uses it last, and flags it. */
	if (expired)
		fail(path, why);
	if (load && ioctl(ionclock_fd(ctl->c), IONCLOCK_IOC_SET_LEAPS, t)) {
		fail(ctl->dev, errno == EPERM ?
		     "loading a leap table needs CAP_SYS_TIME" :
		     strerror(errno));
		ret = 1;
	} else {
		date_of(t->expiry_utc_s, date, sizeof(date));
		printf("leap_file %s\n", path);
		printf("leap_file_entries %u\n", t->count);
		printf("leap_file_tai_utc_offset_s %d\n",
		       t->leaps[t->count - 1].tai_utc_offset_s);
		printf("leap_file_expiry_utc_s %" PRIu64 " %s\n",
		       (uint64_t)t->expiry_utc_s, date);
		printf("leap_file_expired %s\n", expired ? "yes" : "no");
		printf("leap_file_%s yes\n", load ? "loaded" : "valid");
	}
	free(t);
	return ret;
}

/* leap check looks at a file only: no device. */
static bool leap_needs_device(int argc, char **argv)
{
	(void)argc;
	return strcmp(argv[0], "check");
}

static int cmd_leap(struct ctl *ctl, int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : LEAPFILE_DEFAULT;

	if (!strcmp(argv[0], "show"))
		return leap_show(ctl);
	return leap_from_file(ctl, path, !strcmp(argv[0], "load"));
}

const struct command leap_command = {
	.name = "leap", .args = " show|load [file]|check [file]",
	.help = "show the leap table, load a leap-seconds.list, or only verify one",
	.needs_device = leap_needs_device,
	.check = check_leap, .run = cmd_leap,
};
