// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl status: the device, its PHC, the page's state and counters,
 * and ionclock's offsets to the PHC and the system's clocks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "ionclock.h"
#include "ionclockctl.h"

/* The sources named by the bits of @mask, comma-separated, or "-". */
static void print_sources(const char *key, uint32_t mask)
{
	uint32_t s;
	int n = 0;

	printf("%s ", key);
	for (s = 0; s < IONCLOCK_UTC_SOURCES; s++)
		if (mask & (1u << s))
			printf("%s%s", n++ ? "," : "", ionclock_utc_source_name(s));
	printf("%s\n", n ? "" : "-");
}

static void print_offset(const char *key, struct ionclock *c, clockid_t clk,
			 int64_t clk_to_tai_ns, const char *clk_name)
{
	int64_t off;
	int err;

	err = offset_to(c, IONCLOCK_TAI, clk, clk_to_tai_ns, &off, NULL);
	if (err) {
		if (err != -EAGAIN)
			fail(clk_name, ionclock_strerror(err));
		printf("%s -\n", key);
		return;
	}
	printf("%s %" PRId64 "\n", key, off);
}

static void print_str(const char *key, const char *v)
{
	printf("%s %s\n", key, v[0] ? v : "-");
}

/*
 * The hypervisor's vmclock: whether it is followed, and then its status,
 * its disruption marker and generation, the maintenance it announces and
 * its own error figures ("" where it fills none).
 */
static void print_vmclock(const struct ionclock_page *pg)
{
	uint32_t f = pg->vmclock_flags;

	print_str("vmclock", ionclock_vmclock_state_name(pg->vmclock_state));
	if (pg->vmclock_state != IONCLOCK_VMCLOCK_FOLLOWED)
		return;
	print_str("vmclock_status",
		  ionclock_vmclock_status_name(pg->vmclock_status));
	printf("vmclock_disruption_marker %" PRIu64 "\n",
	       (uint64_t)pg->vmclock_disruption_marker);
	if (f & IONCLOCK_VMCLOCK_F_GENERATION_PRESENT)
		printf("vmclock_generation %" PRIu64 "\n",
		       (uint64_t)pg->vmclock_generation);
	else
		print_str("vmclock_generation", "");
	print_str("vmclock_disruption_announced",
		  f & IONCLOCK_VMCLOCK_F_DISRUPTION_IMMINENT ? "imminent" :
		  f & IONCLOCK_VMCLOCK_F_DISRUPTION_SOON ? "soon" : "no");
	if (f & IONCLOCK_VMCLOCK_F_MAXERROR_VALID)
		printf("vmclock_max_error_ns %" PRIu64 "\n",
		       (uint64_t)pg->vmclock_maxerror_ns);
	else
		print_str("vmclock_max_error_ns", "");
	if (f & IONCLOCK_VMCLOCK_F_ESTERROR_VALID)
		printf("vmclock_est_error_ns %" PRIu64 "\n",
		       (uint64_t)pg->vmclock_esterror_ns);
	else
		print_str("vmclock_est_error_ns", "");
}

static int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	int64_t t, earliest, latest, off, half;
	struct ionclock_info info;
	struct ionclock_page pg;
	char phc[32], cause[64];
	int err;

	(void)argc;
	(void)argv;
	if (device_snapshot(ctl, &info, &pg))
		return 1;
	print_str("device", ctl->dev);
	printf("phc_index %d\n", info.phc_index);
	print_str("phc_name", info.phc_name);
	print_str("ifname", info.ifname);
	print_str("read_method", ionclock_read_method_name(info.read_method));
	printf("read_half_width_ns %u\n", info.read_half_width_ns);
	print_str("phc_timescale", ionclock_timescale_name(info.phc_timescale));
	print_str("state", ionclock_state_name(pg.state));
	print_str("counter", ionclock_counter_name(pg.counter_id));
	printf("generation %u\n", pg.generation);
	printf("flags 0x%x\n", pg.flags);
	disruption_causes(pg.disruption_cause, cause, sizeof(cause));
	printf("disruptions %u\ndisruption_cause %s\n", pg.disruptions, cause);
	print_str("disrupted", pg.flags & IONCLOCK_FLAG_DISRUPTED ? "yes" : "no");
	print_vmclock(&pg);
	if (pg.flags & IONCLOCK_FLAG_TAI_OFFSET_VALID)
		printf("tai_utc_offset_s %d\n", pg.tai_utc_offset_s);
	else
		print_str("tai_utc_offset_s", "");
	print_str("utc_source", ionclock_utc_source_name(pg.utc_source));
	print_sources("utc_sources", pg.utc_sources);
	print_sources("utc_disagree", pg.utc_disagree);
	print_str("leaps_expired",
		  pg.flags & IONCLOCK_FLAG_LEAPS_EXPIRED ? "yes" : "no");
	print_str("upstream", !(pg.flags & IONCLOCK_FLAG_UPSTREAM_FED) ? "static" :
		  pg.flags & IONCLOCK_FLAG_UPSTREAM_STALE ? "stale" : "fed");
	printf("error_upstream_ns %" PRIu64 "\n", (uint64_t)pg.error_upstream_ns);

	err = ionclock_now_bounded(ctl->c, &t, &earliest, &latest);
	if (err && err != -EAGAIN && err != -ENODATA) {
		fail(ctl->dev, ionclock_strerror(err));
		return 1;
	}
	if (err == -EAGAIN)
		print_str("ionclock_tai_ns", "");
	else
		printf("ionclock_tai_ns %" PRId64 "\n", t);
	if (err)
		print_str("error_bound_ns", "");
	else
		printf("error_bound_ns %" PRId64 "\n", latest - t);

	err = phc_offset(ctl->c, &info, &pg, &off);
	if (!err) {
		printf("offset_to_phc_ns %" PRId64 "\n", off);
	} else {
		/* Not fatal: /dev/ptpN is often root's alone. */
		if (err != -ENODEV && err != -EAGAIN) {
			snprintf(phc, sizeof(phc), "/dev/ptp%d", info.phc_index);
			fail(phc, ionclock_strerror(err));
		}
		print_str("offset_to_phc_ns", "");
	}
	print_offset("offset_to_tai_ns", ctl->c, CLOCK_TAI, 0, "CLOCK_TAI");
	print_offset("offset_to_realtime_ns", ctl->c, CLOCK_REALTIME, 0,
		     "CLOCK_REALTIME");
	err = system_clock_offset(ctl->c, &off, &half);
	if (err) {
		print_str("system_clock_offset_ns", "");
		print_str("system_clock_offset_uncertainty_ns", "");
	} else {
		printf("system_clock_offset_ns %" PRId64 "\n", off);
		printf("system_clock_offset_uncertainty_ns %" PRId64 "\n", half);
	}

	printf("samples_taken %" PRIu64 "\n", (uint64_t)pg.samples_taken);
	printf("samples_rejected %" PRIu64 "\n", (uint64_t)pg.samples_rejected);
	printf("steps_detected %" PRIu64 "\n", (uint64_t)pg.steps_detected);
	printf("phc_freq_ppb %" PRId64 "\n", (int64_t)pg.phc_freq_ppb);
	return 0;
}

const struct command status_command = {
	.name = "status",
	.help = "device, PHC, state, time and offsets",
	.check = check_none, .run = cmd_status,
};
