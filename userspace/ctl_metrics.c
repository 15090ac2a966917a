// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl prometheus [file]: the device's state as Prometheus text
 * exposition, for node_exporter's textfile collector.
 *
 * Values are in base units (seconds, ratios) as Prometheus asks, every
 * series carries the device's path, and a value that is not known is left
 * out rather than written as a guess.  With a file, the text goes to a
 * temporary file beside it that is synced and renamed over it, so that a
 * scrape sees the old file or the new one, never half of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ionclockctl.h"

static int check_prometheus(const char *name, int argc, char **argv)
{
	if (argc > 1) {
		fail(name, "takes at most a file name");
		return 2;
	}
	if (argc && !argv[0][0]) {
		fail(name, "empty file name");
		return 2;
	}
	return 0;
}

/* Label values are quoted: a backslash, quote or newline is escaped. */
static void put_label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample: name{device="...",extra} value */
static void sample(FILE *f, const char *dev, const char *name,
		   const char *extra, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%s{device=\"", name);
	put_label_value(f, dev);
	fprintf(f, "\"%s} ", extra ? extra : "");
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

static void counter(FILE *f, const char *dev, const char *name,
		    const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	sample(f, dev, name, NULL, "%" PRIu64, v);
}

void disruption_causes(uint32_t cause, char *buf, size_t size)
{
	size_t len = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < IONCLOCK_DISRUPTION_CAUSES; i++)
		if ((cause & (1u << i)) && len < size)
			len += snprintf(buf + len, size - len, "%s%s",
					len ? "," : "",
					ionclock_disruption_name(i));
	if (!buf[0])
		snprintf(buf, size, "-");
}

static double seconds(int64_t ns)
{
	return (double)ns / 1e9;
}

/*
 * The hypervisor's vmclock as the module last read it: whether it is
 * followed, its clock_status, the maintenance it announces (0 none, 1
 * within about a day, 2 within about an hour) and its own error figures
 * where it fills them.  Every family is there on every host, so that the
 * rules and the dashboard see one set of names: without a vmclock the
 * announcement and the marker are 0 and the error is NaN (not known).
 */
static void vmclock_metrics(FILE *f, const char *dev,
			    const struct ionclock_page *pg)
{
	bool followed = pg->vmclock_state == IONCLOCK_VMCLOCK_FOLLOWED;
	char extra[96];

	family(f, "ionclock_vmclock_info", "gauge",
	       "The hypervisor's vmclock device: followed, absent, off or unsupported, and its clock_status (value always 1).");
	snprintf(extra, sizeof(extra), ",state=\"%s\",status=\"%s\"",
		 ionclock_vmclock_state_name(pg->vmclock_state),
		 followed ? ionclock_vmclock_status_name(pg->vmclock_status) :
		 "none");
	sample(f, dev, "ionclock_vmclock_info", extra, "1");
	family(f, "ionclock_vmclock_disruption_announced", "gauge",
	       "A disruption (migration) the hypervisor announces: 0 none, 1 within about a day, 2 within about an hour.");
	sample(f, dev, "ionclock_vmclock_disruption_announced", NULL, "%d",
	       pg->vmclock_flags & IONCLOCK_VMCLOCK_F_DISRUPTION_IMMINENT ? 2 :
	       pg->vmclock_flags & IONCLOCK_VMCLOCK_F_DISRUPTION_SOON ? 1 : 0);
	family(f, "ionclock_vmclock_disruption_marker", "gauge",
	       "The vmclock's disruption marker: changes on every migration or restore.");
	sample(f, dev, "ionclock_vmclock_disruption_marker", NULL, "%" PRIu64,
	       (uint64_t)pg->vmclock_disruption_marker);
	family(f, "ionclock_vmclock_max_error_seconds", "gauge",
	       "The hypervisor's own maximum error of its clock, as the vmclock says; NaN where it says none.");
	if (followed && (pg->vmclock_flags & IONCLOCK_VMCLOCK_F_MAXERROR_VALID))
		sample(f, dev, "ionclock_vmclock_max_error_seconds", NULL,
		       "%.9f", seconds((int64_t)pg->vmclock_maxerror_ns));
	else
		sample(f, dev, "ionclock_vmclock_max_error_seconds", NULL,
		       "NaN");
}

/* holdover_s from the device's sysfs directory; -1 if unreadable. */
static long holdover_seconds(const char *dev)
{
	const char *base = strrchr(dev, '/');
	char path[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/holdover_s",
		 base ? base + 1 : dev);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static void write_metrics(FILE *f, struct ctl *ctl,
			  const struct ionclock_info *info,
			  const struct ionclock_page *pg)
{
	const struct {
		const char *label;
		uint64_t ns;
	} components[] = {
		{ ",component=\"bracket\"", pg->error_bracket_ns },
		{ ",component=\"residual\"", pg->error_residual_ns },
		{ ",component=\"slew\"", pg->error_slew_ns },
		{ ",component=\"upstream\"", pg->error_upstream_ns },
	};
	int64_t t, earliest, latest, off, half;
	const char *dev = ctl->dev;
	char extra[160];
	unsigned int i;
	long holdover;
	int err;

	family(f, "ionclock_info", "gauge",
	       "The PHC an ionclock device follows, and how it is read (value always 1).");
	fprintf(f, "ionclock_info{device=\"");
	put_label_value(f, dev);
	fprintf(f, "\",phc=\"");
	put_label_value(f, info->phc_name);
	fprintf(f, "\",ifname=\"");
	put_label_value(f, info->ifname);
	fprintf(f, "\",phc_index=\"%d\",timescale=\"%s\",read_method=\"%s\"} 1\n",
		info->phc_index,
		ionclock_timescale_name(info->phc_timescale),
		ionclock_read_method_name(info->read_method));

	family(f, "ionclock_state", "gauge",
	       "1 for the device's current state, 0 for the others.");
	for (i = 0; i < IONCLOCK_STATES; i++) {
		snprintf(extra, sizeof(extra), ",state=\"%s\"",
			 ionclock_state_name(i));
		sample(f, dev, "ionclock_state", extra, "%d",
		       pg->state == i);
	}

	err = ionclock_now_bounded(ctl->c, &t, &earliest, &latest);
	if (!err) {
		family(f, "ionclock_error_bound_seconds", "gauge",
		       "Maximum error of the published time, under the assumptions stated in the uapi header.");
		sample(f, dev, "ionclock_error_bound_seconds", NULL, "%.9f",
		       seconds(latest - t));
		family(f, "ionclock_error_component_seconds", "gauge",
		       "The error bound's components at the last publication.");
		for (i = 0; i < ARRAY_SIZE(components); i++)
			sample(f, dev, "ionclock_error_component_seconds",
			       components[i].label, "%.9f",
			       seconds((int64_t)components[i].ns));
	}

	if (!phc_offset(ctl->c, info, pg, &off)) {
		family(f, "ionclock_phc_offset_seconds", "gauge",
		       "ionclock's time minus the PHC's, measured now.");
		sample(f, dev, "ionclock_phc_offset_seconds", NULL, "%.9f",
		       seconds(off));
	}
	if (!system_clock_offset(ctl->c, &off, &half)) {
		family(f, "ionclock_system_clock_offset_seconds", "gauge",
		       "CLOCK_REALTIME minus ionclock's UTC, measured now.");
		sample(f, dev, "ionclock_system_clock_offset_seconds", NULL,
		       "%.9f", seconds(off));
		family(f, "ionclock_system_clock_offset_uncertainty_seconds",
		       "gauge",
		       "Half the width of the reads around that measurement: the offset is within this of the value (add the error bound for true UTC).");
		sample(f, dev, "ionclock_system_clock_offset_uncertainty_seconds",
		       NULL, "%.9f", seconds(half));
	}
	family(f, "ionclock_phc_frequency_offset_ratio", "gauge",
	       "The PHC's rate against the counter's nominal rate, minus 1.");
	sample(f, dev, "ionclock_phc_frequency_offset_ratio", NULL, "%.12f",
	       (double)pg->phc_freq_ppb / 1e9);

	counter(f, dev, "ionclock_samples_total",
		"PHC samples taken since the device was created.",
		pg->samples_taken);
	counter(f, dev, "ionclock_samples_rejected_total",
		"PHC samples rejected as slow or out of order.",
		pg->samples_rejected);
	counter(f, dev, "ionclock_steps_total", "PHC steps detected.",
		pg->steps_detected);
	family(f, "ionclock_generation", "gauge",
	       "Changes on every discontinuity of the PHC followed.");
	sample(f, dev, "ionclock_generation", NULL, "%u", pg->generation);
	counter(f, dev, "ionclock_disruptions_total",
		"Disruptions seen: a suspend, a stopped or moved VM, a counter jump, a replaced PHC.",
		pg->disruptions);
	family(f, "ionclock_disrupted", "gauge",
	       "1 from a disruption until the PHC's rate is re-fitted.");
	sample(f, dev, "ionclock_disrupted", NULL, "%d",
	       !!(pg->flags & IONCLOCK_FLAG_DISRUPTED));
	vmclock_metrics(f, dev, pg);

	holdover = holdover_seconds(dev);
	if (holdover >= 0) {
		family(f, "ionclock_holdover_seconds", "gauge",
		       "Time since the last trusted PHC sample while not following the PHC; 0 while tracking.");
		sample(f, dev, "ionclock_holdover_seconds", NULL, "%ld",
		       holdover);
	}
	if (pg->flags & IONCLOCK_FLAG_TAI_OFFSET_VALID) {
		family(f, "ionclock_tai_utc_offset_seconds", "gauge",
		       "TAI minus UTC.");
		sample(f, dev, "ionclock_tai_utc_offset_seconds", NULL, "%d",
		       pg->tai_utc_offset_s);
	}
	family(f, "ionclock_utc_source", "gauge",
	       "1 for where TAI - UTC comes from now, 0 for the others.");
	for (i = 0; i < IONCLOCK_UTC_SOURCES; i++) {
		snprintf(extra, sizeof(extra), ",source=\"%s\"",
			 ionclock_utc_source_name(i));
		sample(f, dev, "ionclock_utc_source", extra, "%d",
		       pg->utc_source == i);
	}
	if (pg->utc_sources)
		family(f, "ionclock_utc_source_disagrees", "gauge",
		       "1 for each UTC source available whose TAI - UTC or leap differs from the one in use.");
	for (i = IONCLOCK_UTC_SOURCE_PTP; i < IONCLOCK_UTC_SOURCES; i++) {
		if (!(pg->utc_sources & (1u << i)))
			continue;
		snprintf(extra, sizeof(extra), ",source=\"%s\"",
			 ionclock_utc_source_name(i));
		sample(f, dev, "ionclock_utc_source_disagrees", extra, "%d",
		       !!(pg->utc_disagree & (1u << i)));
	}
	family(f, "ionclock_upstream_fed", "gauge",
	       "1 while a PTP feed's state is in the bound, 0 for the static upstream_error_ns.");
	sample(f, dev, "ionclock_upstream_fed", NULL, "%d",
	       !!(pg->flags & IONCLOCK_FLAG_UPSTREAM_FED));
	/*
	 * Always emitted, so that a dashboard and its alerts see the series
	 * before the first feed: 0 while nothing is fed (ionclock_upstream_fed
	 * says whether they mean anything).
	 */
	family(f, "ionclock_upstream_stale", "gauge",
	       "1 once the feed's time-to-live has passed with no update.");
	sample(f, dev, "ionclock_upstream_stale", NULL, "%d",
	       !!(pg->flags & IONCLOCK_FLAG_UPSTREAM_STALE));
	family(f, "ionclock_upstream_port_state", "gauge",
	       "ptp4l's IEEE 1588 portState as last fed (9 slave, 6 master; 0 none fed).");
	sample(f, dev, "ionclock_upstream_port_state", NULL, "%u",
	       pg->upstream_port_state);
	family(f, "ionclock_upstream_master_offset_seconds", "gauge",
	       "ptp4l's offset from its master as last fed (0 none fed).");
	sample(f, dev, "ionclock_upstream_master_offset_seconds", NULL,
	       "%.9f", seconds(pg->upstream_master_offset_ns));
	counter(f, dev, "ionclock_upstream_updates_total",
		"Upstream states a feed handed in.", pg->upstream_updates);
	counter(f, dev, "ionclock_upstream_gm_changes_total",
		"Changes of grandmaster between fed states.",
		pg->upstream_gm_changes);
	if (pg->flags & IONCLOCK_FLAG_LEAP_VALID) {
		/* Prometheus timestamps are Unix time: UTC seconds. */
		family(f, "ionclock_leap_table_expiry_timestamp_seconds",
		       "gauge", "When the device's leap table expires, Unix time.");
		sample(f, dev, "ionclock_leap_table_expiry_timestamp_seconds",
		       NULL, "%" PRId64,
		       (int64_t)pg->leap_expiry_tai_s - pg->tai_utc_offset_s);
	}
}

/* Write to a temporary file beside @path, sync it, rename it over @path. */
static int write_file(const char *path, struct ctl *ctl,
		      const struct ionclock_info *info,
		      const struct ionclock_page *pg)
{
	char tmp[4096];
	FILE *f;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		fail(path, "name too long");
		return 1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		fail(path, strerror(errno));
		return 1;
	}
	/* node_exporter and everyone else may read it, as the device. */
	if (fchmod(fd, 0644))
		goto err_fd;
	f = fdopen(fd, "w");
	if (!f)
		goto err_fd;
	write_metrics(f, ctl, info, pg);
	if (fflush(f) || ferror(f) || fsync(fileno(f))) {
		fail(tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return 1;
	}
	if (fclose(f)) {
		fail(tmp, strerror(errno));
		unlink(tmp);
		return 1;
	}
	if (rename(tmp, path)) {
		fail(path, strerror(errno));
		unlink(tmp);
		return 1;
	}
	return 0;
err_fd:
	fail(tmp, strerror(errno));
	close(fd);
	unlink(tmp);
	return 1;
}

static int cmd_prometheus(struct ctl *ctl, int argc, char **argv)
{
	struct ionclock_info info;
	struct ionclock_page pg;

	if (device_snapshot(ctl, &info, &pg))
		return 1;
	if (argc)
		return write_file(argv[0], ctl, &info, &pg);
	write_metrics(stdout, ctl, &info, &pg);
	return 0;
}

const struct command prometheus_command = {
	.name = "prometheus", .args = " [file]",
	.help = "metrics in Prometheus text format, to stdout or atomically to file",
	.check = check_prometheus, .run = cmd_prometheus,
};
