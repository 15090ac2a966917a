// SPDX-License-Identifier: GPL-2.0
/*
 * With software timestamping, ptp4l disciplines CLOCK_REALTIME, not the
 * PHC: something else (phc2sys) carries that time into the PHC, and the
 * PHC's error against the grandmaster is ptp4l's error plus how far the
 * PHC is from CLOCK_REALTIME.  That second part is measured here, the
 * way phc2sys measures it: PTP_SYS_OFFSET_EXTENDED's system stamps
 * around each PHC read (PTP_SYS_OFFSET's where the driver has no
 * gettimex64), the narrowest of a few, and the PHC compared with the
 * midpoint.  The hop is |PHC - (midpoint + expected)| plus half the
 * bracket: by the triangle inequality, the PHC is within ptp4l's error
 * plus this of the grandmaster.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/ptp_clock.h>

#include "phc_hop.h"

#define HOP_SAMPLES	9

static int64_t ptp_ns(const struct ptp_clock_time *t)
{
	return t->sec * 1000000000LL + t->nsec;
}

/* Offset and bracket of the best of @n (pre, phc, post) triples. */
static void best_triple(const struct ptp_clock_time (*ts)[3], unsigned int n,
			int64_t *offset, int64_t *bracket)
{
	unsigned int i;

	*bracket = INT64_MAX;
	for (i = 0; i < n; i++) {
		int64_t pre = ptp_ns(&ts[i][0]), phc = ptp_ns(&ts[i][1]);
		int64_t post = ptp_ns(&ts[i][2]);

		if (post < pre || post - pre >= *bracket)
			continue;
		*bracket = post - pre;
		*offset = phc - (pre + (post - pre) / 2);
	}
}

static int measure(int fd, int64_t *offset, int64_t *bracket)
{
	struct ptp_sys_offset_extended ext;
	struct ptp_sys_offset basic;
	struct ptp_clock_time t[HOP_SAMPLES][3];
	unsigned int i;

	memset(&ext, 0, sizeof(ext));
	ext.n_samples = HOP_SAMPLES;
	if (!ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &ext)) {
		best_triple((const struct ptp_clock_time (*)[3])ext.ts,
			    HOP_SAMPLES, offset, bracket);
		return 0;
	}
	if (errno != EOPNOTSUPP && errno != ENOTTY)
		return -errno;
	/* ts[] is system, PHC, system, PHC, ..., system. */
	memset(&basic, 0, sizeof(basic));
	basic.n_samples = HOP_SAMPLES;
	if (ioctl(fd, PTP_SYS_OFFSET, &basic))
		return -errno;
	for (i = 0; i < HOP_SAMPLES; i++) {
		t[i][0] = basic.ts[2 * i];
		t[i][1] = basic.ts[2 * i + 1];
		t[i][2] = basic.ts[2 * i + 2];
	}
	best_triple((const struct ptp_clock_time (*)[3])t, HOP_SAMPLES,
		    offset, bracket);
	return 0;
}

/*
 * The hop of /dev/ptp@phc_index from CLOCK_REALTIME + @expected_ns (the
 * PHC's timescale less UTC): 0, or -errno with @why.
 */
int phc_hop_ns(int phc_index, int64_t expected_ns, uint64_t *hop_ns,
	       char *why, size_t len)
{
	int64_t offset = 0, bracket = INT64_MAX, miss;
	char path[32];
	int fd, err;

	if (phc_index < 0) {
		snprintf(why, len, "the device has no PHC to measure the hop to");
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/dev/ptp%d", phc_index);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, len, "%s: %s (the hop from CLOCK_REALTIME is measured on it)",
			 path, strerror(errno));
		return err;
	}
	err = measure(fd, &offset, &bracket);
	close(fd);
	if (err) {
		snprintf(why, len, "%s: reading it against CLOCK_REALTIME: %s",
			 path, strerror(-err));
		return err;
	}
	if (bracket == INT64_MAX) {
		snprintf(why, len, "%s: no read bracketed by CLOCK_REALTIME in order",
			 path);
		return -EIO;
	}
	miss = offset - expected_ns;
	*hop_ns = (uint64_t)(miss < 0 ? -miss : miss) + (uint64_t)bracket / 2 +
		  (uint64_t)bracket % 2;
	return 0;
}
