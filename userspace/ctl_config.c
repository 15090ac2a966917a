// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl config [key value]...: print the engine's run-time settings,
 * or change some; ionclockctl config --ranges: each key's range, unit and
 * default after load, from the table alone (no device).  The ranges are the table's the module checks against,
 * <linux/ionclock_tunables.h>; the kernel checks them again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/ionclock_tunables.h>

#include "ionclockctl.h"

struct config_key {
	const char *name;
	uint32_t bit;
	size_t offset;
	size_t size;
	uint64_t lo, hi, def;
	const char *unit;
};

#define KEY(_name)							\
	{ #_name, IONCLOCK_TUNABLE_BIT(_name),				\
	  offsetof(struct ionclock_config, _name),			\
	  sizeof(((struct ionclock_config *)0)->_name),		\
	  IONCLOCK_TUNABLE_MIN(_name), IONCLOCK_TUNABLE_MAX(_name),	\
	  IONCLOCK_TUNABLE_DEFAULT(_name), IONCLOCK_TUNABLE_UNIT(_name) }

/* The rows of <linux/ionclock_tunables.h>, in their order. */
static const struct config_key keys[] = {
	KEY(poll_ms),
	KEY(max_slew_ppb),
	KEY(step_threshold_ns),
	KEY(step_forward),
	KEY(max_freq_ppb),
	KEY(drift_ppb),
	KEY(upstream_error_ns),
	KEY(smear_window_s),
	KEY(machine_id),
};

/* The one key with no value until it is set: "unset" and "-" stand for it. */
static bool is_unset(const struct config_key *k, uint64_t v)
{
	return k->bit == IONCLOCK_CONFIG_MACHINE_ID &&
	       v == IONCLOCK_MACHINE_ID_UNSET;
}

#define NKEYS	ARRAY_SIZE(keys)

static const struct config_key *find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static uint64_t get_field(const struct ionclock_config *cfg,
			  const struct config_key *k)
{
	const char *p = (const char *)cfg + k->offset;
	uint32_t v32;
	uint64_t v64;

	if (k->size == sizeof(v32)) {
		memcpy(&v32, p, sizeof(v32));
		return v32;
	}
	memcpy(&v64, p, sizeof(v64));
	return v64;
}

static void set_field(struct ionclock_config *cfg, const struct config_key *k,
		      uint64_t v)
{
	char *p = (char *)cfg + k->offset;
	uint32_t v32 = (uint32_t)v;

	if (k->size == sizeof(v32))
		memcpy(p, &v32, sizeof(v32));
	else
		memcpy(p, &v, sizeof(v));
}

/* Fills @cfg from key/value pairs; 0, or 2 after saying what is wrong. */
static int parse_pairs(int argc, char **argv, struct ionclock_config *cfg)
{
	const struct config_key *k;
	uint64_t v;
	int i, err;

	if (argc % 2) {
		fail("config", "expects key value pairs");
		return 2;
	}
	for (i = 0; i < argc; i += 2) {
		k = find_key(argv[i]);
		if (!k) {
			fail(argv[i], "unknown config key");
			return 2;
		}
		if (is_unset(k, IONCLOCK_MACHINE_ID_UNSET) &&
		    !strcmp(argv[i + 1], "unset")) {
			v = IONCLOCK_MACHINE_ID_UNSET;
		} else {
			err = parse_u64("config", k->name, argv[i + 1], k->lo,
					k->hi, &v);
			if (err)
				return err;
		}
		set_field(cfg, k, v);
		cfg->set |= k->bit;
	}
	return 0;
}

/* "config --ranges": the table itself, which needs no device. */
static bool is_ranges(int argc, char **argv)
{
	return argc == 1 && !strcmp(argv[0], "--ranges");
}

static bool config_needs_device(int argc, char **argv)
{
	return !is_ranges(argc, argv);
}

static int check_config(const char *name, int argc, char **argv)
{
	struct ionclock_config cfg;

	(void)name;
	if (is_ranges(argc, argv))
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	return parse_pairs(argc, argv, &cfg);
}

/* One line per key: name, least and greatest value, unit, default. */
static int print_ranges(void)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		const struct config_key *k = &keys[i];

		printf("%s %" PRIu64 " %" PRIu64 " %s ", k->name, k->lo, k->hi,
		       *k->unit ? k->unit : "-");
		if (is_unset(k, k->def))
			printf("unset\n");
		else
			printf("%" PRIu64 "\n", k->def);
	}
	return 0;
}

static int cmd_config(struct ctl *ctl, int argc, char **argv)
{
	struct ionclock_config cfg;
	size_t i;
	int fd;

	if (is_ranges(argc, argv))
		return print_ranges();
	fd = ionclock_fd(ctl->c);
	if (argc) {
		memset(&cfg, 0, sizeof(cfg));
		parse_pairs(argc, argv, &cfg);
		if (ioctl(fd, IONCLOCK_IOC_SET_CONFIG, &cfg)) {
			fail(ctl->dev, errno == EPERM ?
			     "changing the configuration needs CAP_SYS_TIME" :
			     strerror(errno));
			return 1;
		}
	}
	memset(&cfg, 0, sizeof(cfg));
	if (ioctl(fd, IONCLOCK_IOC_GET_CONFIG, &cfg)) {
		fail(ctl->dev, strerror(errno));
		return 1;
	}
	for (i = 0; i < NKEYS; i++) {
		uint64_t v = get_field(&cfg, &keys[i]);

		if (is_unset(&keys[i], v))
			printf("%s -\n", keys[i].name);
		else
			printf("%s %" PRIu64 "\n", keys[i].name, v);
	}
	return 0;
}

const struct command config_command = {
	.name = "config", .args = " [key value]... | --ranges",
	.help = "print the run-time settings, or set some (CAP_SYS_TIME); --ranges: their ranges",
	.needs_device = config_needs_device,
	.check = check_config, .run = cmd_config,
};
