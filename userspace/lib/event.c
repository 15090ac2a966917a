// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Waiting for the device to change: poll() for EPOLLPRI on its descriptor,
 * then IONCLOCK_IOC_GET_EVENT for what changed (see NOTIFICATION in
 * <linux/ionclock.h>).  Each handle's descriptor is its own open file, so
 * each handle sees each change once.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

int ionclock_event(struct ionclock *c, struct ionclock_event *ev,
		   int timeout_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLPRI };
	int n;

	n = poll(&pfd, 1, timeout_ms < 0 ? -1 : timeout_ms);
	if (n < 0)
		return -errno;
	if (!n)
		return 0;
	if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
		return -EIO;
	/* The kernel refuses non-zero flags and reserved fields. */
	memset(ev, 0, sizeof(*ev));
	if (ioctl(c->fd, IONCLOCK_IOC_GET_EVENT, ev) < 0)
		return -errno;
	return 1;
}
