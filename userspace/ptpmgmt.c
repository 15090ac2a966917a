// SPDX-License-Identifier: GPL-2.0
/*
 * PTP management messages over ptp4l's UNIX socket.
 *
 * A message is the 34-byte PTP header, the 14-byte management body
 * (targetPortIdentity, startingBoundaryHops, boundaryHops, actionField,
 * reserved) and one TLV: type, length, then for a MANAGEMENT TLV the
 * managementId and the dataset.  GETs go out with an empty dataset, which
 * ptp4l accepts for every GET.  Every field of a reply is read through
 * bounds that the datagram's length, messageLength and the TLV's length
 * all allow; a reply to another request (sequenceId, addressee) is not an
 * error but not ours, and is skipped.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ptpmgmt.h"

#define HEADER_LEN		34
#define MGMT_LEN		48	/* header + management body */
#define TLV_HEAD_LEN		4
#define MSG_MANAGEMENT		0xd
#define PTP_MAJOR_VERSION	2
#define CONTROL_MANAGEMENT	4
#define LOG_INTERVAL_NONE	0x7f
#define ACTION_GET		0
#define ACTION_RESPONSE		2
#define TLV_MANAGEMENT		0x0001
#define TLV_MANAGEMENT_ERROR	0x0002

/* Dataset sizes on the wire. */
#define DEFAULT_DS_LEN		20
#define CURRENT_DS_LEN		18
#define PARENT_DS_LEN		32
#define TIME_PROPERTIES_LEN	4
#define PORT_DS_LEN		26
#define TIME_STATUS_LEN		50
/* portIdentity, portState, timestamping, then the interface's PTPText. */
#define PORT_PROPERTIES_LEN	13

static void say(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* TimeInterval: ns << 16, signed; the fraction is dropped toward zero. */
static int64_t time_interval_ns(const uint8_t *p)
{
	int64_t v = (int64_t)be64(p);

	return v / 65536;
}

const char *ptpmgmt_id_name(uint16_t id)
{
	switch (id) {
	case PTPMGMT_DEFAULT_DATA_SET:
		return "DEFAULT_DATA_SET";
	case PTPMGMT_CURRENT_DATA_SET:
		return "CURRENT_DATA_SET";
	case PTPMGMT_PARENT_DATA_SET:
		return "PARENT_DATA_SET";
	case PTPMGMT_TIME_PROPERTIES_DATA_SET:
		return "TIME_PROPERTIES_DATA_SET";
	case PTPMGMT_PORT_DATA_SET:
		return "PORT_DATA_SET";
	case PTPMGMT_TIME_STATUS_NP:
		return "TIME_STATUS_NP";
	case PTPMGMT_PORT_PROPERTIES_NP:
		return "PORT_PROPERTIES_NP";
	default:
		return "managementId";
	}
}

static const char *error_name(uint16_t err)
{
	switch (err) {
	case 0x0001:
		return "RESPONSE_TOO_BIG";
	case 0x0002:
		return "NO_SUCH_ID";
	case 0x0003:
		return "WRONG_LENGTH";
	case 0x0004:
		return "WRONG_VALUE";
	case 0x0005:
		return "NOT_SETABLE";
	case 0x0006:
		return "NOT_SUPPORTED";
	case 0xfffe:
		return "GENERAL_ERROR";
	default:
		return "an unknown error";
	}
}

int ptpmgmt_open(struct ptpmgmt *m, const char *server, uint8_t domain,
		 char *why, size_t whylen)
{
	struct sockaddr_un local = { .sun_family = AF_UNIX };
	pid_t pid = getpid();
	socklen_t llen;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (strlen(server) >= sizeof(m->server.sun_path)) {
		say(why, whylen, "socket path too long");
		return -ENAMETOOLONG;
	}
	m->server.sun_family = AF_UNIX;
	strcpy(m->server.sun_path, server);
	m->server_len = sizeof(m->server);
	m->domain = domain;
	/*
	 * An abstract address: nothing to create or clean up on disk, and
	 * no directory an unprivileged feed would need to write to.
	 */
	snprintf(local.sun_path + 1, sizeof(local.sun_path) - 1,
		 "ionclock-feed.%d", (int)pid);
	llen = offsetof(struct sockaddr_un, sun_path) + 1 +
	       strlen(local.sun_path + 1);
	m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&local, llen)) {
		int err = -errno;

		say(why, whylen, "cannot bind a local socket: %s",
		    strerror(errno));
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
		return err;
	}
	/* Our identity: a clockIdentity no NIC has, and the pid as port. */
	m->identity[0] = 0x69;	/* 'i' */
	m->identity[1] = 0x63;	/* 'c' */
	m->identity[4] = (uint8_t)(pid >> 24);
	m->identity[5] = (uint8_t)(pid >> 16);
	m->identity[6] = (uint8_t)(pid >> 8);
	m->identity[7] = (uint8_t)pid;
	put16(&m->identity[8], (uint16_t)pid);
	return 0;
}

void ptpmgmt_close(struct ptpmgmt *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

size_t ptpmgmt_build_get(const struct ptpmgmt *m, uint16_t id, uint16_t seq,
			 uint8_t *buf, size_t len)
{
	size_t n = MGMT_LEN + TLV_HEAD_LEN + 2;

	if (len < n)
		return 0;
	memset(buf, 0, n);
	buf[0] = MSG_MANAGEMENT;
	buf[1] = PTP_MAJOR_VERSION;
	put16(&buf[2], (uint16_t)n);
	buf[4] = m->domain;
	memcpy(&buf[20], m->identity, sizeof(m->identity));
	put16(&buf[30], seq);
	buf[32] = CONTROL_MANAGEMENT;
	buf[33] = LOG_INTERVAL_NONE;
	memset(&buf[34], 0xff, 10);	/* every clock, every port */
	buf[44] = 0;			/* boundary hops: this clock only */
	buf[45] = 0;
	buf[46] = ACTION_GET;
	put16(&buf[48], TLV_MANAGEMENT);
	put16(&buf[50], 2);		/* just the managementId */
	put16(&buf[52], id);
	return n;
}

/*
 * 0: a good reply to request @seq for @id in @r; -ENOMSG: not a reply to
 * that request (skip it); -EREMOTEIO: ptp4l answered with a management
 * error; -EBADMSG: malformed.  @why says what for the last two.
 */
int ptpmgmt_parse(const struct ptpmgmt *m, const uint8_t *buf, size_t len,
		  uint16_t seq, uint16_t id, struct ptpmgmt_reply *r,
		  char *why, size_t whylen)
{
	size_t msglen, tlvlen;
	uint16_t type;

	if (len < HEADER_LEN) {
		say(why, whylen, "truncated reply (%zu bytes, no PTP header)", len);
		return -EBADMSG;
	}
	if ((buf[0] & 0x0f) != MSG_MANAGEMENT ||
	    (buf[1] & 0x0f) != PTP_MAJOR_VERSION) {
		say(why, whylen, "not a PTPv2 management message (type %u, version %u)",
		    buf[0] & 0x0f, buf[1] & 0x0f);
		return -EBADMSG;
	}
	msglen = be16(&buf[2]);
	if (msglen > len) {
		say(why, whylen, "truncated reply: messageLength %zu, %zu bytes received",
		    msglen, len);
		return -EBADMSG;
	}
	if (msglen < MGMT_LEN + TLV_HEAD_LEN) {
		say(why, whylen, "messageLength %zu is too short for a management TLV",
		    msglen);
		return -EBADMSG;
	}
	if (be16(&buf[30]) != seq || memcmp(&buf[34], m->identity,
					   sizeof(m->identity)))
		return -ENOMSG;
	if ((buf[46] & 0x0f) != ACTION_RESPONSE) {
		say(why, whylen, "action %u, not a RESPONSE", buf[46] & 0x0f);
		return -EBADMSG;
	}
	type = be16(&buf[48]);
	tlvlen = be16(&buf[50]);
	if (MGMT_LEN + TLV_HEAD_LEN + tlvlen > msglen) {
		say(why, whylen, "TLV length %zu runs past messageLength %zu",
		    tlvlen, msglen);
		return -EBADMSG;
	}
	if (type == TLV_MANAGEMENT_ERROR) {
		if (tlvlen < 8) {
			say(why, whylen, "management error TLV of length %zu", tlvlen);
			return -EBADMSG;
		}
		say(why, whylen, "ptp4l answers %s with %s (0x%04x)",
		    ptpmgmt_id_name(be16(&buf[54])),
		    error_name(be16(&buf[52])), be16(&buf[52]));
		return -EREMOTEIO;
	}
	if (type != TLV_MANAGEMENT || tlvlen < 2) {
		say(why, whylen, "TLV type 0x%04x length %zu, not a management TLV",
		    type, tlvlen);
		return -EBADMSG;
	}
	if (be16(&buf[52]) != id) {
		say(why, whylen, "asked for %s, answered 0x%04x",
		    ptpmgmt_id_name(id), be16(&buf[52]));
		return -EBADMSG;
	}
	memcpy(r->source_identity, &buf[20], sizeof(r->source_identity));
	r->source_port = be16(&buf[28]);
	r->data = &buf[MGMT_LEN + TLV_HEAD_LEN + 2];
	r->len = tlvlen - 2;
	return 0;
}

static int64_t ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Send one GET for @id and gather @want replies into @bufs / @replies,
 * waiting at most @timeout_ms.  Returns the number gathered (>= 1), or a
 * negative errno with @why: ptp4l not there (-ENOENT, -ECONNREFUSED),
 * no reply (-ETIMEDOUT), a management error or a malformed reply.
 */
int ptpmgmt_get(struct ptpmgmt *m, uint16_t id, unsigned int want,
		int timeout_ms, ptpmgmt_buf *bufs,
		struct ptpmgmt_reply *replies, char *why, size_t whylen)
{
	uint16_t seq = m->sequence++;
	struct pollfd pfd = { .fd = m->fd, .events = POLLIN };
	unsigned int got = 0;
	struct timespec t0;
	uint8_t req[64];
	size_t n;
	int err;

	n = ptpmgmt_build_get(m, id, seq, req, sizeof(req));
	if (sendto(m->fd, req, n, 0, (struct sockaddr *)&m->server,
		   m->server_len) != (ssize_t)n) {
		err = -errno;
		say(why, whylen, "%s", err == -ENOENT ?
		    "no such socket (is ptp4l running?)" :
		    err == -ECONNREFUSED ? "nobody listens (ptp4l restarting?)" :
		    err == -EACCES ? "permission denied (ptp4l's socket is mode 0660: run as root or in its group)" :
		    strerror(errno));
		return err;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < want) {
		int64_t left = timeout_ms - ms_since(&t0);
		ssize_t len;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			if (got)
				break;
			say(why, whylen, "no reply to GET %s within %d ms",
			    ptpmgmt_id_name(id), timeout_ms);
			return -ETIMEDOUT;
		}
		len = recv(m->fd, bufs[got], PTPMGMT_MAX_MSG, MSG_DONTWAIT);
		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			err = -errno;
			say(why, whylen, "%s", strerror(errno));
			return err;
		}
		err = ptpmgmt_parse(m, bufs[got], (size_t)len, seq, id,
				    &replies[got], why, whylen);
		if (err == -ENOMSG)
			continue;	/* a late answer to an earlier request */
		if (err)
			return err;
		got++;
	}
	return (int)got;
}

static int need(const struct ptpmgmt_reply *r, size_t len)
{
	/* Longer is allowed: a newer ptp4l may append fields. */
	return r->len < len ? -EBADMSG : 0;
}

int ptpmgmt_default_ds(const struct ptpmgmt_reply *r,
		       struct ptpmgmt_default_ds *d)
{
	const uint8_t *p = r->data;

	if (need(r, DEFAULT_DS_LEN))
		return -EBADMSG;
	d->number_ports = be16(&p[2]);
	d->clock_class = p[5];
	d->clock_accuracy = p[6];
	memcpy(d->clock_identity, &p[10], 8);
	return 0;
}

int ptpmgmt_current_ds(const struct ptpmgmt_reply *r,
		       struct ptpmgmt_current_ds *d)
{
	const uint8_t *p = r->data;

	if (need(r, CURRENT_DS_LEN))
		return -EBADMSG;
	d->steps_removed = be16(&p[0]);
	d->offset_ns = time_interval_ns(&p[2]);
	d->mean_path_delay_ns = time_interval_ns(&p[10]);
	return 0;
}

int ptpmgmt_parent_ds(const struct ptpmgmt_reply *r,
		      struct ptpmgmt_parent_ds *d)
{
	const uint8_t *p = r->data;

	if (need(r, PARENT_DS_LEN))
		return -EBADMSG;
	memcpy(d->parent_identity, &p[0], 8);
	d->parent_port = be16(&p[8]);
	d->gm_priority1 = p[18];
	d->gm_clock_class = p[19];
	d->gm_clock_accuracy = p[20];
	d->gm_variance = be16(&p[21]);
	d->gm_priority2 = p[23];
	memcpy(d->gm_identity, &p[24], 8);
	return 0;
}

int ptpmgmt_time_properties(const struct ptpmgmt_reply *r,
			    struct ptpmgmt_time_properties *d)
{
	const uint8_t *p = r->data;

	if (need(r, TIME_PROPERTIES_LEN))
		return -EBADMSG;
	d->utc_offset_s = (int16_t)be16(&p[0]);
	d->flags = p[2];
	d->time_source = p[3];
	return 0;
}

int ptpmgmt_port_ds(const struct ptpmgmt_reply *r, struct ptpmgmt_port_ds *d)
{
	const uint8_t *p = r->data;

	if (need(r, PORT_DS_LEN))
		return -EBADMSG;
	memcpy(d->clock_identity, &p[0], 8);
	d->port_number = be16(&p[8]);
	d->port_state = p[10];
	d->peer_mean_path_delay_ns = time_interval_ns(&p[12]);
	d->delay_mechanism = p[23];
	return 0;
}

int ptpmgmt_time_status(const struct ptpmgmt_reply *r,
			struct ptpmgmt_time_status *d)
{
	const uint8_t *p = r->data;

	if (need(r, TIME_STATUS_LEN))
		return -EBADMSG;
	d->master_offset_ns = (int64_t)be64(&p[0]);
	d->ingress_time_ns = (int64_t)be64(&p[8]);
	/* cumulativeScaledRateOffset, scaledLastGmPhaseChange, ... skipped */
	d->gm_present = (int32_t)be32(&p[38]);
	memcpy(d->gm_identity, &p[42], 8);
	return 0;
}

int ptpmgmt_port_properties(const struct ptpmgmt_reply *r,
			    struct ptpmgmt_port_properties *d)
{
	const uint8_t *p = r->data;

	if (need(r, PORT_PROPERTIES_LEN) || need(r, PORT_PROPERTIES_LEN + p[12]))
		return -EBADMSG;
	memcpy(d->clock_identity, &p[0], 8);
	d->port_number = be16(&p[8]);
	d->port_state = p[10];
	d->timestamping = p[11];
	return 0;
}
