// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl: look at an ionclock device from the shell.
 *
 *   ionclockctl [-h] [-v] [device] command [args]...
 *
 * Commands run in the order given.  Output is one "key value" pair per line
 * so that awk can pick fields; errors go to stderr as
 * "ionclockctl: <context>: <reason>".  Exit status: 0 ok, 1 runtime
 * failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ionclock.h"
#include "ionclockctl.h"

#ifndef IONCLOCKCTL_VERSION
#define IONCLOCKCTL_VERSION	"1"
#endif

#define MAX_COMMANDS		64

struct invocation {
	const struct command *cmd;
	int argc;
	char **argv;
};

/* In the order the help lists them; each is defined in its own file. */
static const struct command *const commands[] = {
	&status_command, &read_command, &unique_command, &id_command,
	&waitsync_command, &leap_command, &config_command, &watch_command,
	&prometheus_command, &record_command, &feed_command,
	&upstream_command, &bench_command,
};

#define NCOMMANDS	ARRAY_SIZE(commands)

static void print_usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: " PROG " [-h] [-v] [device] command [args]...\n"
		"\n"
		"  device   an ionclock device, starting with '/' (default "
		IONCLOCK_DEFAULT_DEVICE ")\n"
		"  -h       print this help and exit\n"
		"  -v       print the version and exit\n"
		"\n"
		"commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s%s\n        %s\n", commands[i]->name,
			commands[i]->args ?: "", commands[i]->help);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

/* The whole command line is checked before anything runs. */
static int parse_commands(int argc, char **argv, struct invocation *inv,
			  int *ninv)
{
	const struct command *cmd;
	int i = 0, n = 0, err;

	while (i < argc) {
		cmd = find_command(argv[i]);
		if (!cmd) {
			fail(argv[i], "unknown command");
			return 2;
		}
		if (n == MAX_COMMANDS) {
			fail(argv[i], "too many commands");
			return 2;
		}
		inv[n].cmd = cmd;
		inv[n].argv = &argv[++i];
		while (i < argc && !find_command(argv[i]))
			i++;
		inv[n].argc = &argv[i] - inv[n].argv;
		err = cmd->check(cmd->name, inv[n].argc, inv[n].argv);
		if (err)
			return err;
		n++;
	}
	*ninv = n;
	return 0;
}

/* A command without needs_device() always needs the device. */
static bool needs_device(const struct invocation *inv)
{
	return !inv->cmd->needs_device ||
	       inv->cmd->needs_device(inv->argc, inv->argv);
}

int main(int argc, char **argv)
{
	struct invocation inv[MAX_COMMANDS];
	struct ctl ctl = { .dev = IONCLOCK_DEFAULT_DEVICE };
	int opt, ninv, i, err, ret = 0;
	char bad[3];

	opterr = 0;
	while ((opt = getopt(argc, argv, "+hv")) != -1) {
		switch (opt) {
		case 'h':
			print_usage(stdout);
			return 0;
		case 'v':
			printf(PROG " " IONCLOCKCTL_VERSION "\n");
			return 0;
		default:
			snprintf(bad, sizeof(bad), "-%c", optopt);
			fail(bad, "unknown option");
			print_usage(stderr);
			return 2;
		}
	}
	if (optind < argc && argv[optind][0] == '/')
		ctl.dev = argv[optind++];
	if (optind == argc) {
		fail("command", "none given");
		print_usage(stderr);
		return 2;
	}
	err = parse_commands(argc - optind, argv + optind, inv, &ninv);
	if (err) {
		print_usage(stderr);
		return err;
	}

	for (i = 0; i < ninv && !ret; i++) {
		if (needs_device(&inv[i]) && !ctl.c) {
			err = ionclock_open(ctl.dev, &ctl.c);
			if (err) {
				fail(ctl.dev, ionclock_strerror(err));
				return 1;
			}
		}
		ret = inv[i].cmd->run(&ctl, inv[i].argc, inv[i].argv);
	}
	ionclock_close(ctl.c);

	if (fflush(stdout) || ferror(stdout)) {
		fail("stdout", strerror(errno));
		ret = 1;
	}
	return ret;
}
