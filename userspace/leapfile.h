/* SPDX-License-Identifier: GPL-2.0 */
/* Reading and checking tzdata's / the IERS's leap-seconds.list. */
#ifndef IONCLOCK_LEAPFILE_H
#define IONCLOCK_LEAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/ionclock.h>

#define LEAPFILE_DEFAULT	"/usr/share/zoneinfo/leap-seconds.list"
/* NTP counts seconds from 1900, Unix from 1970. */
#define LEAPFILE_NTP_TO_UNIX	2208988800ULL

/*
 * 0 with @t filled, *@expired saying whether it expired before @now_utc_s
 * (still usable: its leaps are right up to its expiry); or -errno with
 * @why.
 */
int leapfile_read(const char *path, uint64_t now_utc_s,
		  struct ionclock_leap_table *t, bool *expired, char *why,
		  size_t whylen);

#endif /* IONCLOCK_LEAPFILE_H */
