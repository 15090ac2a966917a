// SPDX-License-Identifier: GPL-2.0
/*
 * One host's part in the fleet test (selftests/vm/fleet.sh): stamps with
 * ionclock, exchanged over UDP on the fleet's private link.
 *
 *   fleet_peer serve PORT
 *	answer every datagram with the moment it arrived: TAI and bound
 *   fleet_peer ping ADDR PORT COUNT
 *	COUNT exchanges with a server: t1 (send), the server's tB, t2 (the
 *	reply's arrival), each with its bound; causality says
 *	t1 - (b1 + bB) <= tB <= t2 + (b2 + bB)
 *   fleet_peer mark PORT TIMEOUT_S [SYSTEM_TAI_S]
 *	wait for one transaction datagram, stamp it with ionclock and with
 *	the system clock, and say which 5-minute window each puts it in; a
 *	system clock that runs TAI (a software-timestamping grandmaster's)
 *	is read as UTC less SYSTEM_TAI_S
 *   fleet_peer send ADDR PORT UTC_NS
 *	send one transaction datagram once ionclock's UTC reaches UTC_NS
 *   fleet_peer step NS
 *	step CLOCK_REALTIME by NS (a system clock deliberately skewed)
 *   fleet_peer watch SECONDS INTERVAL_MS
 *	read TAI, smeared and strict UTC and the bound every INTERVAL_MS and
 *	summarise: backward steps on each, where the leap came, the bound
 *   fleet_peer upstream
 *	the page's upstream term and what it is computed from, in one
 *	consistent copy, for fleet_plan.py to check against the ABI's formula
 *
 * Each prints key=value lines on stdout for fleet.sh, and exits 0 when its
 * own checks held, 1 when they did not, 2 on a usage or set-up error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ionclock.h>

#define NS		((int64_t)1000000000)
#define WINDOW_NS	(300 * NS)	/* a 5-minute report window */

struct stamp {
	int64_t t;
	int64_t bound;		/* -1: none published */
};

/* On the wire, host order: both ends are x86-64 guests. */
struct msg {
	uint32_t seq;
	uint32_t pad;
	struct stamp at;
};

static struct ionclock *clk;

static int bad_usage(void)
{
	fprintf(stderr, "usage: fleet_peer serve PORT | ping ADDR PORT COUNT | mark PORT TIMEOUT_S [SYSTEM_TAI_S] |\n"
		"       send ADDR PORT UTC_NS | step NS | watch SECONDS INTERVAL_MS | upstream\n");
	return 2;
}

static int64_t arg_i64(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end) {
		fprintf(stderr, "fleet_peer: '%s' is not an integer\n", s);
		exit(2);
	}
	return v;
}

static void open_clock(void)
{
	int err = ionclock_open(NULL, &clk);

	if (err) {
		fprintf(stderr, "fleet_peer: /dev/ionclock0: %s\n",
			ionclock_strerror(err));
		exit(2);
	}
}

static struct stamp now_stamp(void)
{
	int64_t t, lo, hi;
	struct stamp s = { 0, -1 };
	int err = ionclock_now_bounded(clk, &t, &lo, &hi);

	if (!err) {
		s.t = t;
		s.bound = hi - t;
	} else if (err == -ENODATA) {
		s.t = t;
	}
	return s;
}

static int udp_socket(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;

	if (fd < 0) {
		perror("fleet_peer: socket");
		exit(2);
	}
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (port >= 0) {
		a.sin_port = htons((uint16_t)port);
		a.sin_addr.s_addr = htonl(INADDR_ANY);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
			perror("fleet_peer: bind");
			exit(2);
		}
	}
	return fd;
}

static struct sockaddr_in peer_addr(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "fleet_peer: '%s' is not an IPv4 address\n", addr);
		exit(2);
	}
	return a;
}

static void __attribute__((noreturn)) cmd_serve(int port)
{
	int fd = udp_socket(port);

	for (;;) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		struct msg m;
		ssize_t n = recvfrom(fd, &m, sizeof(m), 0,
				     (struct sockaddr *)&from, &len);
		struct stamp at = now_stamp();

		if (n != sizeof(m))
			continue;
		m.at = at;
		sendto(fd, &m, sizeof(m), 0, (struct sockaddr *)&from, len);
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmd_ping(const char *addr, int port, int count)
{
	struct sockaddr_in to = peer_addr(addr, port);
	int64_t *offset = calloc((size_t)count, sizeof(*offset));
	int fd = udp_socket(-1), done = 0, bad = 0, lost = 0, unbounded = 0;
	int64_t worst_bound = 0, worst_margin = INT64_MAX;
	uint32_t seq = 0;

	if (!offset)
		return 2;
	while (done < count && lost < count) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct msg m = { .seq = ++seq }, r;
		struct stamp t1, t2;
		int64_t lo, hi, margin;

		bool got = false;

		t1 = now_stamp();
		sendto(fd, &m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to));
		/* A late reply to an earlier, lost exchange is skipped. */
		while (!got && poll(&p, 1, 1000) > 0)
			got = recv(fd, &r, sizeof(r), 0) == sizeof(r) &&
			      r.seq == m.seq;
		t2 = now_stamp();
		if (!got) {
			lost++;
			continue;
		}
		if (t1.bound < 0 || t2.bound < 0 || r.at.bound < 0) {
			unbounded++;
			bad++;
			done++;
			continue;
		}
		lo = t1.t - (t1.bound + r.at.bound);
		hi = t2.t + (t2.bound + r.at.bound);
		if (r.at.t < lo || r.at.t > hi) {
			bad++;
			printf("violation seq=%u t1=%" PRId64 " b1=%" PRId64 " tB=%" PRId64 " bB=%" PRId64 " t2=%" PRId64 " b2=%" PRId64 "\n",
			       m.seq, t1.t, t1.bound, r.at.t, r.at.bound, t2.t,
			       t2.bound);
		}
		margin = r.at.t - lo < hi - r.at.t ? r.at.t - lo : hi - r.at.t;
		if (margin < worst_margin)
			worst_margin = margin;
		if (t1.bound + r.at.bound > worst_bound)
			worst_bound = t1.bound + r.at.bound;
		/* B's clock less the midpoint of A's send and receive. */
		offset[done++] = r.at.t - (t1.t + (t2.t - t1.t) / 2);
	}
	qsort(offset, (size_t)done, sizeof(*offset), cmp_i64);
	printf("exchanges=%d violations=%d unbounded=%d lost=%d\n", done, bad,
	       unbounded, lost);
	if (done) {
		printf("offset_min_ns=%" PRId64 " offset_median_ns=%" PRId64 " offset_max_ns=%" PRId64 "\n",
		       offset[0], offset[done / 2], offset[done - 1]);
		printf("bound_sum_max_ns=%" PRId64 " margin_min_ns=%" PRId64 "\n",
		       worst_bound, worst_margin);
	}
	free(offset);
	return done == count && bad == 0 ? 0 : 1;
}

static int64_t window_of(int64_t utc_ns)
{
	return utc_ns / WINDOW_NS;
}

static int cmd_mark(int port, int timeout_s, int64_t system_tai_s)
{
	int fd = udp_socket(port), leap;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct timespec rt, utc;
	struct stamp at;
	struct msg m;
	int64_t off, utc_ns, sys_ns;

	if (poll(&p, 1, timeout_s * 1000) <= 0 ||
	    recv(fd, &m, sizeof(m), 0) != sizeof(m)) {
		printf("mark=none\n");
		return 1;
	}
	at = now_stamp();
	clock_gettime(CLOCK_REALTIME, &rt);
	if (ionclock_gettime(clk, IONCLOCK_UTC_STRICT, &utc, &leap)) {
		printf("mark=no-utc\n");
		return 1;
	}
	/* TAI - UTC now, in whole seconds as the page has it. */
	off = (at.t - ((int64_t)utc.tv_sec * NS + utc.tv_nsec) + NS / 2) / NS * NS;
	utc_ns = at.t - off;
	sys_ns = (int64_t)rt.tv_sec * NS + rt.tv_nsec - system_tai_s * NS;
	printf("mark_utc_ns=%" PRId64 " bound_ns=%" PRId64 " system_ns=%" PRId64 "\n",
	       utc_ns, at.bound, sys_ns);
	if (at.bound < 0 || window_of(utc_ns - at.bound) != window_of(utc_ns + at.bound))
		printf("ionclock_window=unsure\n");
	else
		printf("ionclock_window=%" PRId64 "\n", window_of(utc_ns));
	printf("system_window=%" PRId64 "\n", window_of(sys_ns));
	return 0;
}

static int cmd_send(const char *addr, int port, int64_t when_utc_ns)
{
	struct sockaddr_in to = peer_addr(addr, port);
	int fd = udp_socket(-1), leap;
	struct msg m = { .seq = 1 };
	struct timespec utc;

	for (;;) {
		int64_t left;

		if (ionclock_gettime(clk, IONCLOCK_UTC_STRICT, &utc, &leap))
			return 2;
		left = when_utc_ns - ((int64_t)utc.tv_sec * NS + utc.tv_nsec);
		if (left <= 0)
			break;
		/* The last 2 ms spun, so the datagram leaves on time. */
		if (left > 2000000) {
			struct timespec d = { .tv_sec = (left - 2000000) / NS,
					      .tv_nsec = (left - 2000000) % NS };
			nanosleep(&d, NULL);
		}
	}
	m.at = now_stamp();
	if (sendto(fd, &m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to)) !=
	    sizeof(m)) {
		perror("fleet_peer: sendto");
		return 1;
	}
	printf("sent_utc_ns=%" PRId64 "\n",
	       (int64_t)utc.tv_sec * NS + utc.tv_nsec);
	return 0;
}

static int cmd_step(int64_t ns)
{
	struct timespec t;
	int64_t v;

	clock_gettime(CLOCK_REALTIME, &t);
	v = (int64_t)t.tv_sec * NS + t.tv_nsec + ns;
	t.tv_sec = v / NS;
	t.tv_nsec = v % NS;
	if (clock_settime(CLOCK_REALTIME, &t)) {
		perror("fleet_peer: clock_settime");
		return 1;
	}
	printf("stepped_ns=%" PRId64 "\n", ns);
	return 0;
}

/* (sec, leap flag, nsec): 23:59:60 sorts after 23:59:59, before 00:00:00. */
static bool strict_before(const struct timespec *a, int af,
			  const struct timespec *b, int bf)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec;
	if (af != bf)
		return af < bf;
	return a->tv_nsec < b->tv_nsec;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * NS + t->tv_nsec;
}

static int cmd_watch(int seconds, int interval_ms)
{
	struct timespec utc = { 0 }, strict = { 0 }, p_utc = { 0 }, p_strict = { 0 };
	int64_t p_tai = 0, leap_tai_s = -1, leap_last_s = -1;
	int64_t bound_first = -1, bound_last = -1, bound_min = INT64_MAX;
	int64_t bound_max = 0, p_bound = -1, first_off = 0, last_off = 0;
	long samples = 0, back_tai = 0, back_utc = 0, back_strict = 0;
	long bound_down = 0, errors = 0;
	struct timespec end, now, d = { interval_ms / 1000,
					(interval_ms % 1000) * 1000000L };
	struct ionclock_status st;
	int sf = 0, p_sf = 0, uf;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	if (!ionclock_status(clk, &st))
		printf("next_leap_tai_s=%" PRIu64 " next_leap_delta_s=%d smear_window_s=%u tai_utc_offset_s=%d\n",
		       st.next_leap_tai_s, st.next_leap_delta_s,
		       st.smear_window_s, st.tai_utc_offset_s);
	do {
		struct stamp s = now_stamp();

		if (ionclock_gettime(clk, IONCLOCK_UTC, &utc, &uf) ||
		    ionclock_gettime(clk, IONCLOCK_UTC_STRICT, &strict, &sf) ||
		    s.bound < 0) {
			errors++;
			goto next;
		}
		if (samples) {
			back_tai += s.t < p_tai;
			back_utc += ts_ns(&utc) < ts_ns(&p_utc);
			back_strict += strict_before(&strict, sf, &p_strict, p_sf);
			bound_down += s.bound < p_bound;
		} else {
			bound_first = s.bound;
			first_off = s.t - ts_ns(&utc);
		}
		if (sf && leap_tai_s < 0)
			leap_tai_s = s.t / NS;
		if (sf)
			leap_last_s = s.t / NS;
		last_off = s.t - ts_ns(&utc);
		bound_last = s.bound;
		if (s.bound < bound_min)
			bound_min = s.bound;
		if (s.bound > bound_max)
			bound_max = s.bound;
		p_tai = s.t;
		p_utc = utc;
		p_strict = strict;
		p_sf = sf;
		p_bound = s.bound;
		samples++;
next:
		nanosleep(&d, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec ||
		 (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	printf("samples=%ld errors=%ld back_tai=%ld back_utc=%ld back_strict=%ld\n",
	       samples, errors, back_tai, back_utc, back_strict);
	printf("strict_leap_tai_s=%" PRId64 " strict_leap_last_tai_s=%" PRId64 "\n",
	       leap_tai_s, leap_last_s);
	printf("smear_offset_first_ms=%" PRId64 " smear_offset_last_ms=%" PRId64 "\n",
	       (first_off + 500000) / 1000000, (last_off + 500000) / 1000000);
	printf("bound_first_ns=%" PRId64 " bound_last_ns=%" PRId64 " bound_min_ns=%" PRId64 " bound_max_ns=%" PRId64 " bound_decreases=%ld\n",
	       bound_first, bound_last, bound_min, bound_max, bound_down);
	return samples && !errors && !back_tai && !back_utc && !back_strict ?
	       0 : 1;
}

static int cmd_upstream(void)
{
	struct ionclock_page pg;
	int err = ionclock_page_copy(clk, &pg);

	if (err) {
		fprintf(stderr, "ionclock_page_copy: %s\n", strerror(-err));
		return 1;
	}
	printf("error_upstream_ns=%" PRIu64 " upstream_reported_ns=%" PRIu64 " upstream_measured_tai_ns=%" PRIu64 " time_base_ns=%" PRIu64 " fed=%d stale=%d\n",
	       (uint64_t)pg.error_upstream_ns, (uint64_t)pg.upstream_reported_ns,
	       (uint64_t)pg.upstream_measured_tai_ns, (uint64_t)pg.time_base_ns,
	       !!(pg.flags & IONCLOCK_FLAG_UPSTREAM_FED),
	       !!(pg.flags & IONCLOCK_FLAG_UPSTREAM_STALE));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "upstream")) {
		open_clock();
		return cmd_upstream();
	}
	if (argc < 3)
		return bad_usage();
	if (!strcmp(argv[1], "step") && argc == 3)
		return cmd_step(arg_i64(argv[2]));
	open_clock();
	if (!strcmp(argv[1], "serve") && argc == 3)
		cmd_serve((int)arg_i64(argv[2]));
	if (!strcmp(argv[1], "ping") && argc == 5)
		return cmd_ping(argv[2], (int)arg_i64(argv[3]),
				(int)arg_i64(argv[4]));
	if (!strcmp(argv[1], "mark") && (argc == 4 || argc == 5))
		return cmd_mark((int)arg_i64(argv[2]), (int)arg_i64(argv[3]),
				argc == 5 ? arg_i64(argv[4]) : 0);
	if (!strcmp(argv[1], "send") && argc == 5)
		return cmd_send(argv[2], (int)arg_i64(argv[3]),
				arg_i64(argv[4]));
	if (!strcmp(argv[1], "watch") && argc == 4)
		return cmd_watch((int)arg_i64(argv[2]), (int)arg_i64(argv[3]));
	return bad_usage();
}
