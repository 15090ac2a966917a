// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl feed [options]: hand ptp4l's view of the PHC to the device
 * (IONCLOCK_IOC_SET_UPSTREAM) every interval, until a signal; and
 * ionclockctl upstream [clear]: what was fed.
 *
 * The feed asks ptp4l, over its management socket, for its datasets and
 * turns them into the kernel's upstream state; the error model is the
 * uapi header's (ionclock_upstream_error_ns()), this file only supplies
 * the parts.  What it adds of its own is said where it is done: the
 * envelope of the last syncs' offsets, the asymmetry allowance, the
 * decoding of clockAccuracy, the age of the offset (how long ptp4l's last
 * sync has stood still), and the hop to the PHC when ptp4l timestamps in
 * software.  Anything ptp4l did not say, or said out of range, is not
 * fed: the poll is dropped with one message and retried at the next
 * interval.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "ionclockctl.h"
#include "phc_hop.h"
#include "ptpmgmt.h"

/* linuxptp 3.1 (Debian 12) first, then linuxptp 4's default. */
static const char *const default_sockets[] = {
	"/var/run/ptp4l",
	"/var/run/ptp/ptp4l",
};

#define FEED_MIN_MS		100
#define FEED_MAX_MS		3600000
#define FEED_MAX_TTL_MS		86400000
#define FEED_DEFAULT_TTL_INTERVALS 5
#define FEED_REPLY_MS		500
#define FEED_MAX_NS		1000000000000ULL	/* as the kernel's limit */

struct feed_opts {
	const char *socket;
	uint64_t interval_ms;
	uint64_t ttl_ms;
	bool fixed_asymmetry;
	uint64_t asymmetry_ns;
	uint64_t asymmetry_pct;
	uint64_t domain;
	bool once;
	bool dry_run;
};

/* What one poll of ptp4l said. */
struct feed_view {
	struct ptpmgmt_default_ds dds;
	struct ptpmgmt_current_ds cds;
	struct ptpmgmt_parent_ds pds;
	struct ptpmgmt_time_properties tp;
	struct ptpmgmt_time_status ts;
	struct ptpmgmt_port_ds port;	/* the port that matters most */
	unsigned int nports;
	/* Its timestamping, where ptp4l says (PORT_PROPERTIES_NP). */
	bool ts_known;
	uint8_t timestamping;
};

/*
 * ptp4l's offset is one measurement, as noisy as its timestamps: with
 * software timestamps under load one sync can be off by more than the
 * last one reported.  The feed hands on the envelope of the last
 * FEED_ENVELOPE syncs (the largest offset, and the largest path delay for
 * the asymmetry allowance), not the last alone.
 */
#define FEED_ENVELOPE		16

/*
 * What the feed remembers between polls: when ptp4l's last sync was first
 * seen, the envelope of the offsets measured while a port was
 * synchronising, and what that envelope gave.
 */
struct feed_memory {
	bool have_ingress;
	int64_t ingress_ns;
	struct timespec ingress_seen;
	int64_t env_offset_ns[FEED_ENVELOPE];
	uint64_t env_path_ns[FEED_ENVELOPE];
	unsigned int env_len, env_next;
	bool have_measure;
	bool had_master;	/* a measurement against another clock */
	int64_t offset_ns;
	uint64_t asymmetry_ns;
	uint64_t path_delay_ns;
	/* Last values printed, to print only changes. */
	bool printed;
	struct ionclock_upstream shown;
	char last_error[320];
};

static volatile sig_atomic_t feed_stop;

static void on_signal(int sig)
{
	(void)sig;
	feed_stop = 1;
}

static int feed_args(const char *name, int argc, char **argv,
		     struct feed_opts *o)
{
	bool ttl_given = false;
	int i, err = 0;

	memset(o, 0, sizeof(*o));
	o->interval_ms = 1000;
	o->asymmetry_pct = 100;
	for (i = 0; i < argc && !err; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "--once")) {
			o->once = true;
			continue;
		}
		if (!strcmp(opt, "--dry-run")) {
			o->dry_run = true;
			continue;
		}
		if (strcmp(opt, "--socket") && strcmp(opt, "--interval") &&
		    strcmp(opt, "--ttl") && strcmp(opt, "--asymmetry-ns") &&
		    strcmp(opt, "--asymmetry-pct") && strcmp(opt, "--domain")) {
			fail(name, "options are --socket, --interval, --ttl, --asymmetry-ns, --asymmetry-pct, --domain, --once, --dry-run");
			return 2;
		}
		if (!val) {
			char msg[64];

			snprintf(msg, sizeof(msg), "%s needs a value", opt);
			fail(name, msg);
			return 2;
		}
		i++;
		if (!strcmp(opt, "--socket")) {
			if (!val[0] || strlen(val) >= 108) {
				fail(name, "--socket needs a path shorter than 108 bytes");
				return 2;
			}
			o->socket = val;
		} else if (!strcmp(opt, "--interval")) {
			err = parse_seconds(name, "interval", val, FEED_MIN_MS,
					    FEED_MAX_MS, &o->interval_ms);
		} else if (!strcmp(opt, "--ttl")) {
			err = parse_seconds(name, "ttl", val, FEED_MIN_MS,
					    FEED_MAX_TTL_MS, &o->ttl_ms);
			ttl_given = true;
		} else if (!strcmp(opt, "--asymmetry-ns")) {
			err = parse_u64(name, "asymmetry_ns", val, 0,
					FEED_MAX_NS, &o->asymmetry_ns);
			o->fixed_asymmetry = true;
		} else if (!strcmp(opt, "--asymmetry-pct")) {
			err = parse_u64(name, "asymmetry_pct", val, 0, 100,
					&o->asymmetry_pct);
		} else {
			err = parse_u64(name, "domain", val, 0, 255, &o->domain);
		}
	}
	if (err)
		return err;
	if (!ttl_given) {
		o->ttl_ms = o->interval_ms * FEED_DEFAULT_TTL_INTERVALS;
		if (o->ttl_ms > FEED_MAX_TTL_MS)
			o->ttl_ms = FEED_MAX_TTL_MS;
	}
	if (o->ttl_ms < o->interval_ms) {
		fail(name, "--ttl shorter than --interval: every update would go stale before the next");
		return 2;
	}
	return 0;
}

static int check_feed(const char *name, int argc, char **argv)
{
	struct feed_opts o;

	return feed_args(name, argc, argv, &o);
}

/* feed --dry-run talks to ptp4l only: no device. */
static bool feed_needs_device(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--dry-run"))
			return false;
	return true;
}

static const char *pick_socket(const struct feed_opts *o)
{
	struct stat st;
	size_t i;

	if (o->socket)
		return o->socket;
	for (i = 0; i < ARRAY_SIZE(default_sockets); i++)
		if (!stat(default_sockets[i], &st))
			return default_sockets[i];
	return default_sockets[0];
}

/*
 * clockAccuracy (IEEE 1588-2019 Table 5) as an upper bound in ns: 0x17
 * (1 ps) .. 0x31 (more than 10 s, taken as the largest the kernel takes).
 * 0xFE is "unknown"; reserved values are treated the same: -1.
 */
static int64_t accuracy_ns(uint8_t a)
{
	static const uint64_t table[] = {
		1, 1, 1, 1, 1, 1, 1, 3, 10,		/* 0x17 .. 0x1f */
		25, 100, 250, 1000, 2500, 10000,	/* 0x20 .. 0x25 */
		25000, 100000, 250000, 1000000,		/* 0x26 .. 0x29 */
		2500000, 10000000, 25000000,		/* 0x2a .. 0x2c */
		100000000, 250000000, 1000000000,	/* 0x2d .. 0x2f */
		10000000000ULL, FEED_MAX_NS,		/* 0x30, 0x31 */
	};

	if (a < 0x17 || a > 0x31)
		return -1;
	return (int64_t)table[a - 0x17];
}

/* Which port speaks for the clock: the one closest to a grandmaster. */
static int port_rank(uint8_t state)
{
	static const int rank[] = {
		[IONCLOCK_PORT_SLAVE] = 9, [IONCLOCK_PORT_UNCALIBRATED] = 8,
		[IONCLOCK_PORT_MASTER] = 7, [IONCLOCK_PORT_PASSIVE] = 6,
		[IONCLOCK_PORT_PRE_MASTER] = 5, [IONCLOCK_PORT_LISTENING] = 4,
		[IONCLOCK_PORT_DISABLED] = 3, [IONCLOCK_PORT_FAULTY] = 2,
		[IONCLOCK_PORT_INITIALIZING] = 1,
	};

	return state < ARRAY_SIZE(rank) ? rank[state] : 0;
}

static const char *port_state_name(uint32_t s)
{
	static const char *const names[] = {
		[IONCLOCK_PORT_INITIALIZING] = "initializing",
		[IONCLOCK_PORT_FAULTY] = "faulty",
		[IONCLOCK_PORT_DISABLED] = "disabled",
		[IONCLOCK_PORT_LISTENING] = "listening",
		[IONCLOCK_PORT_PRE_MASTER] = "pre_master",
		[IONCLOCK_PORT_MASTER] = "master",
		[IONCLOCK_PORT_PASSIVE] = "passive",
		[IONCLOCK_PORT_UNCALIBRATED] = "uncalibrated",
		[IONCLOCK_PORT_SLAVE] = "slave",
	};

	return s < ARRAY_SIZE(names) && names[s] ? names[s] : "unknown";
}

/* One GET that must give exactly one reply from @clock (if known). */
static int get_one(struct ptpmgmt *m, uint16_t id, const uint8_t *clock,
		   ptpmgmt_buf *buf, struct ptpmgmt_reply *r,
		   char *why, size_t len)
{
	int n = ptpmgmt_get(m, id, 1, FEED_REPLY_MS, buf, r, why, len);

	if (n < 0)
		return n;
	if (clock && memcmp(r->source_identity, clock, 8)) {
		snprintf(why, len, "%s answered by another clock (ptp4l restarted?)",
			 ptpmgmt_id_name(id));
		return -EBADMSG;
	}
	return 0;
}

static int short_reply(uint16_t id, const struct ptpmgmt_reply *r, char *why,
		       size_t len)
{
	snprintf(why, len, "%s reply of %zu bytes is too short",
		 ptpmgmt_id_name(id), r->len);
	return -EBADMSG;
}

/*
 * Whether the port timestamps in software, in which case ptp4l disciplines
 * CLOCK_REALTIME and not the PHC.  linuxptp's own PORT_PROPERTIES_NP says;
 * a ptp4l that does not answer it is taken to discipline the PHC itself,
 * as with hardware timestamping, and the README says so.
 */
static void port_timestamping(struct ptpmgmt *m, struct feed_view *v,
			      ptpmgmt_buf *bufs,
			      struct ptpmgmt_reply *r)
{
	char why[256];
	int i, n;

	v->ts_known = false;
	n = ptpmgmt_get(m, PTPMGMT_PORT_PROPERTIES_NP, v->nports, FEED_REPLY_MS,
			bufs, r, why, sizeof(why));
	for (i = 0; i < n; i++) {
		struct ptpmgmt_port_properties pp;

		if (ptpmgmt_port_properties(&r[i], &pp) ||
		    pp.port_number != v->port.port_number ||
		    memcmp(pp.clock_identity, v->dds.clock_identity, 8))
			continue;
		v->ts_known = true;
		v->timestamping = pp.timestamping;
	}
}

/* Ask ptp4l everything one update needs; 0, or -errno with @why. */
static int poll_ptp4l(struct ptpmgmt *m, struct feed_view *v, char *why,
		      size_t len)
{
	static uint8_t bufs[PTPMGMT_MAX_PORTS][PTPMGMT_MAX_MSG];
	struct ptpmgmt_reply r[PTPMGMT_MAX_PORTS];
	const uint8_t *clock;
	int i, n, err, best = -1;

	memset(v, 0, sizeof(*v));
	err = get_one(m, PTPMGMT_DEFAULT_DATA_SET, NULL, bufs, r, why, len);
	if (err)
		return err;
	if (ptpmgmt_default_ds(&r[0], &v->dds))
		return short_reply(PTPMGMT_DEFAULT_DATA_SET, &r[0], why, len);
	if (!v->dds.number_ports || v->dds.number_ports > PTPMGMT_MAX_PORTS) {
		snprintf(why, len, "DEFAULT_DATA_SET says %u ports (1..%d)",
			 v->dds.number_ports, PTPMGMT_MAX_PORTS);
		return -ERANGE;
	}
	clock = v->dds.clock_identity;
	err = get_one(m, PTPMGMT_TIME_STATUS_NP, clock, bufs, r, why, len);
	if (err)
		return err;
	if (ptpmgmt_time_status(&r[0], &v->ts))
		return short_reply(PTPMGMT_TIME_STATUS_NP, &r[0], why, len);
	err = get_one(m, PTPMGMT_CURRENT_DATA_SET, clock, bufs, r, why, len);
	if (err)
		return err;
	if (ptpmgmt_current_ds(&r[0], &v->cds))
		return short_reply(PTPMGMT_CURRENT_DATA_SET, &r[0], why, len);
	err = get_one(m, PTPMGMT_PARENT_DATA_SET, clock, bufs, r, why, len);
	if (err)
		return err;
	if (ptpmgmt_parent_ds(&r[0], &v->pds))
		return short_reply(PTPMGMT_PARENT_DATA_SET, &r[0], why, len);
	err = get_one(m, PTPMGMT_TIME_PROPERTIES_DATA_SET, clock, bufs, r, why,
		      len);
	if (err)
		return err;
	if (ptpmgmt_time_properties(&r[0], &v->tp))
		return short_reply(PTPMGMT_TIME_PROPERTIES_DATA_SET, &r[0], why,
				   len);

	/* One reply per port; the best-placed port speaks for the clock. */
	n = ptpmgmt_get(m, PTPMGMT_PORT_DATA_SET, v->dds.number_ports,
			FEED_REPLY_MS, bufs, r, why, len);
	if (n < 0)
		return n;
	if ((unsigned int)n != v->dds.number_ports) {
		snprintf(why, len, "PORT_DATA_SET: %d of %u ports answered", n,
			 v->dds.number_ports);
		return -EBADMSG;
	}
	for (i = 0; i < n; i++) {
		struct ptpmgmt_port_ds p;

		if (ptpmgmt_port_ds(&r[i], &p))
			return short_reply(PTPMGMT_PORT_DATA_SET, &r[i], why, len);
		/* linuxptp's own "grand master" state is MASTER on the wire. */
		if (p.port_state == 10)
			p.port_state = IONCLOCK_PORT_MASTER;
		if (port_rank(p.port_state) == 0) {
			snprintf(why, len, "port %u reports state %u, not an IEEE 1588 portState",
				 p.port_number, p.port_state);
			return -ERANGE;
		}
		if (best < 0 || port_rank(p.port_state) > port_rank(v->port.port_state)) {
			v->port = p;
			best = i;
		}
	}
	v->nports = (unsigned int)n;
	port_timestamping(m, v, bufs, r);
	return 0;
}

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

static int64_t ns_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * NSEC_PER_SEC + (b->tv_nsec - a->tv_nsec);
}

/* The largest offset and path delay of the syncs remembered. */
static void envelope(const struct feed_memory *mem, int64_t *offset,
		     uint64_t *path)
{
	unsigned int i;

	*offset = mem->env_offset_ns[0];
	*path = mem->env_path_ns[0];
	for (i = 1; i < mem->env_len; i++) {
		if (magnitude(mem->env_offset_ns[i]) > magnitude(*offset))
			*offset = mem->env_offset_ns[i];
		if (mem->env_path_ns[i] > *path)
			*path = mem->env_path_ns[i];
	}
}

/*
 * The upstream state for the kernel from one poll and what came before.
 * Returns 0, or -ERANGE / -EAGAIN with @why when there is nothing true to
 * feed.
 */
static int build_upstream(const struct feed_opts *o, const struct feed_view *v,
			  struct feed_memory *mem, struct ionclock_upstream *u,
			  char *why, size_t len)
{
	/*
	 * This clock is the grandmaster only once its port says MASTER: a
	 * clock that has heard no announce yet is its own parent too.  One
	 * that took over after losing its master is no closer to the old
	 * domain than before: its last measurement keeps ageing.
	 */
	bool is_gm = v->port.port_state == IONCLOCK_PORT_MASTER &&
		     !memcmp(v->pds.gm_identity, v->dds.clock_identity, 8) &&
		     !mem->had_master;
	bool syncing = v->port.port_state == IONCLOCK_PORT_SLAVE ||
		       v->port.port_state == IONCLOCK_PORT_UNCALIBRATED;
	uint64_t path = magnitude(v->cds.mean_path_delay_ns);
	int64_t acc = accuracy_ns(v->pds.gm_clock_accuracy);
	struct timespec now;
	int64_t age = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	memset(u, 0, sizeof(*u));
	if (magnitude(v->port.peer_mean_path_delay_ns) > path)
		path = magnitude(v->port.peer_mean_path_delay_ns);

	if (is_gm) {
		/* This clock is the domain's time: no servo, no path. */
		mem->have_measure = true;
		mem->offset_ns = 0;
		mem->asymmetry_ns = 0;
		mem->path_delay_ns = 0;
		mem->ingress_seen = now;
	} else if (syncing) {
		if (magnitude(v->ts.master_offset_ns) > FEED_MAX_NS || path > FEED_MAX_NS) {
			snprintf(why, len, "master offset %" PRId64 " ns or path delay %" PRIu64 " ns beyond 1000 s: not fed",
				 v->ts.master_offset_ns, path);
			return -ERANGE;
		}
		/* The offset is as old as the last sync ptp4l took in. */
		if (!mem->have_ingress || v->ts.ingress_time_ns != mem->ingress_ns) {
			mem->have_ingress = true;
			mem->ingress_ns = v->ts.ingress_time_ns;
			mem->ingress_seen = now;
			mem->env_offset_ns[mem->env_next] = v->ts.master_offset_ns;
			mem->env_path_ns[mem->env_next] = path;
			mem->env_next = (mem->env_next + 1) % FEED_ENVELOPE;
			if (mem->env_len < FEED_ENVELOPE)
				mem->env_len++;
		}
		mem->have_measure = true;
		mem->had_master = true;
		envelope(mem, &mem->offset_ns, &path);
		mem->path_delay_ns = path;
		mem->asymmetry_ns = o->fixed_asymmetry ? o->asymmetry_ns :
				    path * o->asymmetry_pct / 100;
	} else if (!mem->have_measure) {
		snprintf(why, len, "ptp4l's port is %s: no offset to a grandmaster measured yet",
			 port_state_name(v->port.port_state));
		return -EAGAIN;
	}
	/* Not synchronising any more: the last offset, growing older. */
	age = ns_between(&mem->ingress_seen, &now);
	if (is_gm || age < 0)
		age = 0;

	u->port_state = v->port.port_state;
	u->master_offset_ns = mem->offset_ns;
	u->asymmetry_ns = mem->asymmetry_ns;
	u->path_delay_ns = mem->path_delay_ns;
	u->age_ns = (uint64_t)age;
	u->ttl_ns = o->ttl_ms * 1000000ULL;
	if (u->age_ns > FEED_MAX_TTL_MS * 1000000ULL)
		u->age_ns = FEED_MAX_TTL_MS * 1000000ULL;
	if (acc < 0)
		u->flags |= IONCLOCK_UPSTREAM_ACCURACY_UNKNOWN;
	else
		u->gm_accuracy_ns = (uint64_t)acc;
	if (v->tp.utc_offset_s < 0 || v->tp.utc_offset_s > 1000) {
		snprintf(why, len, "currentUtcOffset %d s out of range 0..1000: not fed",
			 v->tp.utc_offset_s);
		return -ERANGE;
	}
	if ((v->tp.flags & PTPMGMT_LEAP61) && (v->tp.flags & PTPMGMT_LEAP59)) {
		snprintf(why, len, "leap61 and leap59 both set: not fed");
		return -ERANGE;
	}
	u->utc_offset_s = v->tp.utc_offset_s;
	if (v->tp.flags & PTPMGMT_UTC_OFFSET_VALID)
		u->flags |= IONCLOCK_UPSTREAM_UTC_OFFSET_VALID;
	if (v->tp.flags & PTPMGMT_LEAP61)
		u->flags |= IONCLOCK_UPSTREAM_LEAP61;
	if (v->tp.flags & PTPMGMT_LEAP59)
		u->flags |= IONCLOCK_UPSTREAM_LEAP59;
	if (v->tp.flags & PTPMGMT_PTP_TIMESCALE)
		u->flags |= IONCLOCK_UPSTREAM_PTP_TIMESCALE;
	if (v->tp.flags & PTPMGMT_TIME_TRACEABLE)
		u->flags |= IONCLOCK_UPSTREAM_TIME_TRACEABLE;
	if (v->tp.flags & PTPMGMT_FREQ_TRACEABLE)
		u->flags |= IONCLOCK_UPSTREAM_FREQ_TRACEABLE;
	if (v->ts.gm_present || is_gm)
		u->flags |= IONCLOCK_UPSTREAM_GM_PRESENT;
	memcpy(u->gm_identity, v->pds.gm_identity, sizeof(u->gm_identity));
	u->gm_clock_class = v->pds.gm_clock_class;
	u->gm_clock_accuracy = v->pds.gm_clock_accuracy;
	u->time_source = v->tp.time_source;
	return 0;
}

/* 0011.22ff.fe33.4455-style, as ptp4l prints a clockIdentity. */
static void identity_str(const uint8_t *id, char *buf, size_t len)
{
	snprintf(buf, len, "%02x%02x%02x.%02x%02x.%02x%02x%02x", id[0], id[1],
		 id[2], id[3], id[4], id[5], id[6], id[7]);
}

static const char *yes_no(bool v)
{
	return v ? "yes" : "no";
}

/* @hop_unmeasured: a dry run of a software-timestamped port, no device. */
static void print_upstream(const struct ionclock_upstream *u,
			   bool hop_unmeasured)
{
	char id[32];

	identity_str(u->gm_identity, id, sizeof(id));
	printf("port_state %s\n", port_state_name(u->port_state));
	printf("gm_identity %s\n", id);
	printf("gm_present %s\n", yes_no(u->flags & IONCLOCK_UPSTREAM_GM_PRESENT));
	printf("gm_clock_class %u\n", u->gm_clock_class);
	printf("gm_clock_accuracy 0x%02x\n", u->gm_clock_accuracy);
	if (u->flags & IONCLOCK_UPSTREAM_ACCURACY_UNKNOWN)
		printf("gm_accuracy_ns -\n");
	else
		printf("gm_accuracy_ns %" PRIu64 "\n", (uint64_t)u->gm_accuracy_ns);
	printf("master_offset_ns %" PRId64 "\n", (int64_t)u->master_offset_ns);
	printf("path_delay_ns %" PRIu64 "\n", (uint64_t)u->path_delay_ns);
	printf("asymmetry_ns %" PRIu64 "\n", (uint64_t)u->asymmetry_ns);
	if (hop_unmeasured)
		printf("hop_ns - (no device: not measured)\n");
	else
		printf("hop_ns %" PRIu64 "\n", (uint64_t)u->hop_ns);
	printf("age_ns %" PRIu64 "\n", (uint64_t)u->age_ns);
	printf("ttl_ns %" PRIu64 "\n", (uint64_t)u->ttl_ns);
	printf("utc_offset_s %d\n", u->utc_offset_s);
	printf("utc_offset_valid %s\n",
	       yes_no(u->flags & IONCLOCK_UPSTREAM_UTC_OFFSET_VALID));
	printf("ptp_timescale %s\n",
	       yes_no(u->flags & IONCLOCK_UPSTREAM_PTP_TIMESCALE));
	printf("leap61 %s\n", yes_no(u->flags & IONCLOCK_UPSTREAM_LEAP61));
	printf("leap59 %s\n", yes_no(u->flags & IONCLOCK_UPSTREAM_LEAP59));
	printf("time_source 0x%02x\n", u->time_source);
}

/* A line when the port, the grandmaster or the UTC data change. */
static void print_changes(struct feed_memory *mem,
			  const struct ionclock_upstream *u)
{
	const uint32_t utc_flags = IONCLOCK_UPSTREAM_UTC_OFFSET_VALID |
		IONCLOCK_UPSTREAM_LEAP61 | IONCLOCK_UPSTREAM_LEAP59 |
		IONCLOCK_UPSTREAM_PTP_TIMESCALE | IONCLOCK_UPSTREAM_GM_PRESENT;
	const struct ionclock_upstream *s = &mem->shown;
	char id[32];

	if (mem->printed && s->port_state == u->port_state &&
	    !memcmp(s->gm_identity, u->gm_identity, sizeof(u->gm_identity)) &&
	    s->utc_offset_s == u->utc_offset_s &&
	    (s->flags & utc_flags) == (u->flags & utc_flags))
		return;
	identity_str(u->gm_identity, id, sizeof(id));
	printf("feed port_state %s gm_identity %s gm_present %s utc_offset_s %d utc_offset_valid %s ptp_timescale %s leap61 %s leap59 %s error_ns %" PRIu64 "\n",
	       port_state_name(u->port_state), id,
	       yes_no(u->flags & IONCLOCK_UPSTREAM_GM_PRESENT), u->utc_offset_s,
	       yes_no(u->flags & IONCLOCK_UPSTREAM_UTC_OFFSET_VALID),
	       yes_no(u->flags & IONCLOCK_UPSTREAM_PTP_TIMESCALE),
	       yes_no(u->flags & IONCLOCK_UPSTREAM_LEAP61),
	       yes_no(u->flags & IONCLOCK_UPSTREAM_LEAP59),
	       (uint64_t)ionclock_upstream_error_ns(u));
	fflush(stdout);
	mem->shown = *u;
	mem->printed = true;
}

/* Say a problem once, not at every retry; say when it is over. */
static void report(struct feed_memory *mem, const char *ctx, const char *why,
		   bool retrying)
{
	char msg[320];

	snprintf(msg, sizeof(msg), "%s%s", why, retrying ? ": retrying" : "");
	if (!strcmp(msg, mem->last_error))
		return;
	snprintf(mem->last_error, sizeof(mem->last_error), "%s", msg);
	fail(ctx, msg);
}

/*
 * ptp4l timestamps in software: its offset is CLOCK_REALTIME's, and the
 * PHC is a hop further (phc2sys).  The hop, measured now, joins the
 * error.  Where CLOCK_REALTIME should be: a ptp4l slave keeps it on UTC
 * (the domain's time less currentUtcOffset), so a PHC on TAI is expected
 * at CLOCK_REALTIME + currentUtcOffset, which the domain must then have
 * said; a ptp4l grandmaster sends its CLOCK_REALTIME as the domain's time
 * itself, TAI, so a PHC on TAI is expected right on it.
 */
static int add_hop(struct ctl *ctl, struct ionclock_upstream *u, bool is_gm,
		   char *why, size_t len)
{
	struct ionclock_info info;
	int64_t expected = 0;
	uint64_t hop;
	int err;

	err = ionclock_info(ctl->c, &info);
	if (err) {
		snprintf(why, len, "%s: %s", ctl->dev, ionclock_strerror(err));
		return err;
	}
	if ((info.phc_timescale == IONCLOCK_TIMESCALE_TAI) != is_gm) {
		if (!(u->flags & IONCLOCK_UPSTREAM_UTC_OFFSET_VALID)) {
			snprintf(why, len, "ptp4l timestamps in software and the PHC runs %s, CLOCK_REALTIME %s, but the domain's currentUtcOffset is not valid: the hop cannot be measured: not fed",
				 is_gm ? "UTC" : "TAI", is_gm ? "TAI" : "UTC");
			return -EAGAIN;
		}
		expected = (int64_t)u->utc_offset_s * NSEC_PER_SEC;
		if (is_gm)
			expected = -expected;
	}
	err = phc_hop_ns(info.phc_index, expected, &hop, why, len);
	if (err)
		return err;
	if (hop > FEED_MAX_NS) {
		snprintf(why, len, "the PHC is %" PRIu64 " ns from CLOCK_REALTIME, beyond 1000 s: not fed",
			 hop);
		return -ERANGE;
	}
	u->hop_ns = hop;
	return 0;
}

/* One update: 0 fed, 1 not (said why), -1 fatal (said why). */
static int feed_once(struct ctl *ctl, const struct feed_opts *o,
		     const char *sock, struct ptpmgmt *m,
		     struct feed_memory *mem)
{
	struct ionclock_upstream u;
	struct feed_view v;
	char why[256], ctx[160];
	bool software;
	int err;

	snprintf(ctx, sizeof(ctx), "feed: %s", sock);
	err = poll_ptp4l(m, &v, why, sizeof(why));
	if (!err)
		err = build_upstream(o, &v, mem, &u, why, sizeof(why));
	/* A dry run without a device can only say the hop is there. */
	software = v.ts_known && v.timestamping == PTPMGMT_TS_SOFTWARE;
	if (!err && software && ctl->c)
		err = add_hop(ctl, &u, v.port.port_state == IONCLOCK_PORT_MASTER &&
			      !memcmp(v.pds.gm_identity, v.dds.clock_identity, 8),
			      why, sizeof(why));
	if (err) {
		report(mem, ctx, why, !o->once);
		return 1;
	}
	if (!o->dry_run &&
	    ioctl(ionclock_fd(ctl->c), IONCLOCK_IOC_SET_UPSTREAM, &u)) {
		err = errno;
		snprintf(ctx, sizeof(ctx), "feed: %s", ctl->dev);
		if (err == EPERM) {
			fail(ctx, "feeding the upstream state needs CAP_SYS_TIME");
			return -1;
		}
		report(mem, ctx, err == EAGAIN ? "the device has no time yet" :
		       err == ENOTTY ? "the module has no upstream ioctl (too old)" :
		       strerror(err), !o->once && err != ENOTTY);
		return err == ENOTTY ? -1 : 1;
	}
	if (mem->last_error[0]) {
		printf("feed resumed\n");
		mem->last_error[0] = '\0';
	}
	if (o->once) {
		printf("socket %s\n", sock);
		print_upstream(&u, software && !ctl->c);
		printf("timestamping %s\n", !v.ts_known ? "unknown (taken as hardware)" :
		       software ? "software (the PHC is a hop from CLOCK_REALTIME)" :
		       "hardware");
		printf("fed %s\n", o->dry_run ? "no (dry run)" : "yes");
	} else {
		print_changes(mem, &u);
	}
	return 0;
}

static int cmd_feed(struct ctl *ctl, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct feed_memory mem;
	struct feed_opts o;
	struct ptpmgmt m;
	struct timespec next;
	const char *sock;
	char why[256], ctx[160];
	int ret;

	feed_args("feed", argc, argv, &o);
	sock = pick_socket(&o);
	snprintf(ctx, sizeof(ctx), "feed: %s", sock);
	if (ptpmgmt_open(&m, sock, (uint8_t)o.domain, why, sizeof(why))) {
		fail(ctx, why);
		return 1;
	}
	memset(&mem, 0, sizeof(mem));
	if (o.once) {
		ret = feed_once(ctl, &o, sock, &m, &mem);
		ptpmgmt_close(&m);
		return ret ? 1 : 0;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &next);
	ret = 0;
	while (!feed_stop) {
		if (feed_once(ctl, &o, sock, &m, &mem) < 0) {
			ret = 1;
			break;
		}
		next.tv_nsec += (long)(o.interval_ms % 1000) * 1000000L;
		next.tv_sec += (time_t)(o.interval_ms / 1000) +
			       next.tv_nsec / 1000000000L;
		next.tv_nsec %= 1000000000L;
		/* No SA_RESTART: a signal ends the sleep, and the loop. */
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL))
			break;
	}
	ptpmgmt_close(&m);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return ret;
}

static int check_upstream(const char *name, int argc, char **argv)
{
	if (argc == 0 || (argc == 1 && !strcmp(argv[0], "clear")))
		return 0;
	fail(name, "takes nothing, or clear");
	return 2;
}

static int cmd_upstream(struct ctl *ctl, int argc, char **argv)
{
	int fd = ionclock_fd(ctl->c);
	struct ionclock_upstream u;
	struct ionclock_page pg;

	if (argc) {
		memset(&u, 0, sizeof(u));
		u.flags = IONCLOCK_UPSTREAM_CLEAR;
		(void)argv;
		if (ioctl(fd, IONCLOCK_IOC_SET_UPSTREAM, &u)) {
			fail(ctl->dev, errno == EPERM ?
			     "clearing the upstream state needs CAP_SYS_TIME" :
			     strerror(errno));
			return 1;
		}
	}
	memset(&u, 0, sizeof(u));
	if (ioctl(fd, IONCLOCK_IOC_GET_UPSTREAM, &u)) {
		if (errno != ENODATA) {
			fail(ctl->dev, strerror(errno));
			return 1;
		}
		printf("upstream_fed no\n");
		return 0;
	}
	if (page_snapshot(ctl, &pg))
		return 1;
	printf("upstream_fed yes\n");
	printf("upstream_stale %s\n",
	       yes_no(pg.flags & IONCLOCK_FLAG_UPSTREAM_STALE));
	printf("upstream_untraceable %s\n",
	       yes_no(pg.flags & IONCLOCK_FLAG_UPSTREAM_UNTRACEABLE));
	print_upstream(&u, false);
	printf("error_upstream_ns %" PRIu64 "\n", (uint64_t)pg.error_upstream_ns);
	printf("upstream_updates %" PRIu64 "\n", (uint64_t)pg.upstream_updates);
	printf("upstream_gm_changes %" PRIu64 "\n",
	       (uint64_t)pg.upstream_gm_changes);
	return 0;
}

const struct command feed_command = {
	.name = "feed",
	.args = " [--socket path] [--interval s] [--ttl s] [--asymmetry-ns n|--asymmetry-pct p] [--domain n] [--once|--dry-run]",
	.help = "feed ptp4l's state into the bound and UTC every interval (CAP_SYS_TIME)",
	.needs_device = feed_needs_device,
	.check = check_feed, .run = cmd_feed,
};

const struct command upstream_command = {
	.name = "upstream", .args = " [clear]",
	.help = "the upstream state last fed, or forget it (CAP_SYS_TIME)",
	.check = check_upstream, .run = cmd_upstream,
};
