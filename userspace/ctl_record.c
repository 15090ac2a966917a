// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl record FILE [interval [count]]: what watch shows, as CSV, for
 * a plot or a spreadsheet.  One header line, then a row per tick:
 *
 *   mono_ns           CLOCK_MONOTONIC when the row was taken: the steady
 *                     axis to plot the clocks against
 *   tai_ns            ionclock's TAI
 *   state             starting, tracking, holdover or unreliable
 *   bound_ns          the error bound at tai_ns
 *   phc_offset_ns     ionclock minus the PHC (on TAI)
 *   system_clock_offset_ns              CLOCK_REALTIME minus ionclock's UTC
 *   system_clock_offset_uncertainty_ns  half the sandwich around it
 *   generation        the page's disruption marker
 *
 * A value that cannot be had (no bound, /dev/ptpN not readable, no TAI -
 * UTC offset) is an empty field.  Each row is flushed when written, so a
 * recording stopped by a signal ends with a whole row.  FILE "-" is stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ionclockctl.h"

#define RECORD_HEADER	"mono_ns,tai_ns,state,bound_ns,phc_offset_ns," \
			"system_clock_offset_ns," \
			"system_clock_offset_uncertainty_ns,generation"

struct recording {
	FILE *f;
	const char *name;
};

static int check_record(const char *name, int argc, char **argv)
{
	uint64_t ms, count;

	if (!argc) {
		fail(name, "needs a file name (- for stdout)");
		return 2;
	}
	if (!argv[0][0]) {
		fail(name, "empty file name");
		return 2;
	}
	return interval_args(name, argc - 1, argv + 1, &ms, &count);
}

static void field(FILE *f, int ok, int64_t v)
{
	if (ok)
		fprintf(f, ",%" PRId64, v);
	else
		fputc(',', f);
}

static int record_row(struct ctl *ctl, void *arg)
{
	struct recording *rec = arg;
	int64_t t, earliest, latest, off, half;
	struct ionclock_info info;
	struct ionclock_page pg;
	struct timespec mono;
	int err, ok;

	if (device_snapshot(ctl, &info, &pg))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	err = ionclock_now_bounded(ctl->c, &t, &earliest, &latest);
	fprintf(rec->f, "%" PRId64,
		(int64_t)(mono.tv_sec * NSEC_PER_SEC + mono.tv_nsec));
	field(rec->f, err != -EAGAIN && (!err || err == -ENODATA), t);
	fprintf(rec->f, ",%s", ionclock_state_name(pg.state));
	field(rec->f, !err, latest - t);
	/* One call per statement: argument order is unspecified in C. */
	ok = !phc_offset(ctl->c, &info, &pg, &off);
	field(rec->f, ok, off);
	ok = !system_clock_offset(ctl->c, &off, &half);
	field(rec->f, ok, off);
	field(rec->f, ok, half);
	fprintf(rec->f, ",%u\n", pg.generation);
	if (fflush(rec->f) || ferror(rec->f)) {
		fail(rec->name, strerror(errno));
		return 1;
	}
	return 0;
}

static int cmd_record(struct ctl *ctl, int argc, char **argv)
{
	struct recording rec = { .name = argv[0] };
	uint64_t ms, count;
	int ret;

	interval_args("record", argc - 1, argv + 1, &ms, &count);
	rec.f = strcmp(rec.name, "-") ? fopen(rec.name, "we") : stdout;
	if (!rec.f) {
		fail(rec.name, strerror(errno));
		return 1;
	}
	fprintf(rec.f, "%s\n", RECORD_HEADER);
	ret = every_interval(ctl, ms, count, record_row, &rec);
	if (rec.f != stdout && fclose(rec.f)) {
		fail(rec.name, strerror(errno));
		ret = 1;
	}
	return ret;
}

const struct command record_command = {
	.name = "record", .args = " file [interval [count]]",
	.help = "watch's values as CSV rows into file (- for stdout)",
	.check = check_record, .run = cmd_record,
};
