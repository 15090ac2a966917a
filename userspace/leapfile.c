// SPDX-License-Identifier: GPL-2.0
/*
 * leap-seconds.list: data lines "<NTP seconds> <TAI-UTC>  # comment", an
 * expiry line "#@ <NTP seconds>", a last-update line "#$ <NTP seconds>" and
 * a hash line "#h <five 32-bit hex words>": the SHA-1 of the digits of the
 * "#$" and "#@" values and of every data line's two numbers, concatenated
 * without white space.  A file is used only if it parses and its hash
 * matches; an expired one is still used, said to be expired (the kernel
 * then takes it as its last source of UTC); the kernel checks it again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leapfile.h"
#include "sha1.h"

/* Parse one unsigned decimal field at *p, skipping blanks before it. */
static int field(char **p, uint64_t *v, char *digits, size_t len)
{
	char *s = *p, *end;
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	n = end - s;
	if (errno || n >= len)
		return -1;
	memcpy(digits, s, n);
	digits[n] = '\0';
	*p = end;
	return 0;
}

static int rest_is_comment(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return *p == '\0' || *p == '#';
}

static void say(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

static void utc_date(uint64_t utc_s, char *buf, size_t len)
{
	time_t t = (time_t)utc_s;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d", &tm))
		snprintf(buf, len, "%" PRIu64, utc_s);
}

int leapfile_read(const char *path, uint64_t now_utc_s,
		  struct ionclock_leap_table *t, bool *expired, char *why,
		  size_t whylen)
{
	char line[512], digits[32], data[64 * IONCLOCK_MAX_LEAPS];
	char updated[32] = "", expires[32] = "", date[32];
	uint32_t want[5], got[5];
	bool have_hash = false;
	size_t datalen = 0;
	unsigned int lineno = 0;
	uint64_t ntp, off;
	struct sha1 sha;
	FILE *f;
	char *p;
	int i;

	memset(t, 0, sizeof(*t));
	f = fopen(path, "r");
	if (!f) {
		say(why, whylen, "%s", strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		p = line;
		if (!strncmp(p, "#$", 2) || !strncmp(p, "#@", 2)) {
			char *dst = p[1] == '$' ? updated : expires;

			p += 2;
			if (field(&p, &ntp, dst, sizeof(updated)) ||
			    !rest_is_comment(p))
				goto malformed;
			if (dst == expires)
				t->expiry_utc_s = ntp - LEAPFILE_NTP_TO_UNIX;
			continue;
		}
		if (!strncmp(p, "#h", 2)) {
			if (sscanf(p + 2, "%8x %8x %8x %8x %8x", &want[0],
				   &want[1], &want[2], &want[3], &want[4]) != 5)
				goto malformed;
			have_hash = true;
			continue;
		}
		if (rest_is_comment(p))
			continue;
		if (t->count == IONCLOCK_MAX_LEAPS) {
			say(why, whylen, "line %u: more than %d entries",
			    lineno, IONCLOCK_MAX_LEAPS);
			goto fail;
		}
		if (field(&p, &ntp, digits, sizeof(digits)) ||
		    ntp < LEAPFILE_NTP_TO_UNIX)
			goto malformed;
		memcpy(data + datalen, digits, strlen(digits));
		datalen += strlen(digits);
		if (field(&p, &off, digits, sizeof(digits)) ||
		    !rest_is_comment(p) || off > 1000)
			goto malformed;
		memcpy(data + datalen, digits, strlen(digits));
		datalen += strlen(digits);
		t->leaps[t->count].utc_s = ntp - LEAPFILE_NTP_TO_UNIX;
		t->leaps[t->count].tai_utc_offset_s = (int32_t)off;
		t->count++;
	}
	if (ferror(f)) {
		say(why, whylen, "%s", strerror(errno));
		goto fail;
	}
	fclose(f);

	if (!t->count || !expires[0] || !updated[0] || !have_hash) {
		say(why, whylen, "not a leap-seconds.list: %s missing",
		    !t->count ? "data" : !expires[0] ? "the #@ expiry line" :
		    !updated[0] ? "the #$ update line" : "the #h hash line");
		return -EINVAL;
	}
	sha1_init(&sha);
	sha1_update(&sha, updated, strlen(updated));
	sha1_update(&sha, expires, strlen(expires));
	sha1_update(&sha, data, datalen);
	sha1_final(&sha, got);
	if (memcmp(want, got, sizeof(got))) {
		say(why, whylen, "hash mismatch: the data does not match its #h line (corrupt or edited)");
		return -EBADMSG;
	}
	for (i = 1; i < (int)t->count; i++) {
		int d = t->leaps[i].tai_utc_offset_s -
			t->leaps[i - 1].tai_utc_offset_s;

		if (t->leaps[i].utc_s <= t->leaps[i - 1].utc_s ||
		    (d != 1 && d != -1)) {
			say(why, whylen, "entry %d: not a one-second step after the one before",
			    i + 1);
			return -EINVAL;
		}
	}
	*expired = t->expiry_utc_s <= now_utc_s;
	if (*expired) {
		utc_date(t->expiry_utc_s, date, sizeof(date));
		say(why, whylen, "expired on %s: its leaps are known only up to then (a current tzdata or IERS file is better)",
		    date);
	}
	return 0;

malformed:
	say(why, whylen, "line %u: malformed", lineno);
fail:
	fclose(f);
	return -EINVAL;
}
