/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A PTP management client for ptp4l's UNIX socket, as pmc is: GET requests
 * and fully checked replies, decoded into host structs.  The wire format
 * is IEEE 1588's (big-endian); TIME_STATUS_NP and PORT_PROPERTIES_NP are
 * linuxptp's own.
 */
#ifndef IONCLOCK_PTPMGMT_H
#define IONCLOCK_PTPMGMT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

/* managementId values (IEEE 1588 Table 40; 0xC000 is linuxptp's). */
#define PTPMGMT_DEFAULT_DATA_SET	0x2000
#define PTPMGMT_CURRENT_DATA_SET	0x2001
#define PTPMGMT_PARENT_DATA_SET		0x2002
#define PTPMGMT_TIME_PROPERTIES_DATA_SET 0x2003
#define PTPMGMT_PORT_DATA_SET		0x2004
#define PTPMGMT_TIME_STATUS_NP		0xC000
#define PTPMGMT_PORT_PROPERTIES_NP	0xC004

/* PORT_PROPERTIES_NP's timestamping: linuxptp's enum timestamp_type. */
#define PTPMGMT_TS_SOFTWARE		0

/* timePropertiesDS flags, as in the header's flagField second octet. */
#define PTPMGMT_LEAP61			(1u << 0)
#define PTPMGMT_LEAP59			(1u << 1)
#define PTPMGMT_UTC_OFFSET_VALID	(1u << 2)
#define PTPMGMT_PTP_TIMESCALE		(1u << 3)
#define PTPMGMT_TIME_TRACEABLE		(1u << 4)
#define PTPMGMT_FREQ_TRACEABLE		(1u << 5)

#define PTPMGMT_MAX_MSG			1500
#define PTPMGMT_MAX_PORTS		32

/* One message's room; ptpmgmt_get() takes one per reply it waits for. */
typedef uint8_t ptpmgmt_buf[PTPMGMT_MAX_MSG];

struct ptpmgmt_default_ds {
	uint16_t number_ports;
	uint8_t clock_identity[8];
	uint8_t clock_class;
	uint8_t clock_accuracy;
};

struct ptpmgmt_current_ds {
	uint16_t steps_removed;
	int64_t offset_ns;		/* TimeInterval >> 16 */
	int64_t mean_path_delay_ns;
};

struct ptpmgmt_parent_ds {
	uint8_t parent_identity[8];
	uint16_t parent_port;
	uint8_t gm_priority1;
	uint8_t gm_clock_class;
	uint8_t gm_clock_accuracy;
	uint16_t gm_variance;
	uint8_t gm_priority2;
	uint8_t gm_identity[8];
};

struct ptpmgmt_time_properties {
	int16_t utc_offset_s;
	uint8_t flags;			/* PTPMGMT_LEAP61 ... */
	uint8_t time_source;
};

struct ptpmgmt_port_ds {
	uint8_t clock_identity[8];
	uint16_t port_number;
	uint8_t port_state;
	int64_t peer_mean_path_delay_ns;
	uint8_t delay_mechanism;
};

struct ptpmgmt_port_properties {
	uint8_t clock_identity[8];
	uint16_t port_number;
	uint8_t port_state;
	uint8_t timestamping;		/* PTPMGMT_TS_SOFTWARE, or hardware */
};

struct ptpmgmt_time_status {
	int64_t master_offset_ns;
	int64_t ingress_time_ns;
	int32_t gm_present;
	uint8_t gm_identity[8];
};

/**
 * struct ptpmgmt - a client socket and the server it talks to
 * @fd: our datagram socket, bound to an abstract address
 * @server: ptp4l's socket address
 * @server_len: its length
 * @identity: our sourcePortIdentity (clockIdentity + portNumber)
 * @sequence: the next request's sequenceId
 * @domain: domainNumber put in requests
 */
struct ptpmgmt {
	int fd;
	struct sockaddr_un server;
	socklen_t server_len;
	uint8_t identity[10];
	uint16_t sequence;
	uint8_t domain;
};

/**
 * struct ptpmgmt_reply - one checked reply
 * @data: the dataset, inside the caller's buffer
 * @len: its length (the TLV's, less the managementId)
 * @source_identity: the answering clock's clockIdentity
 * @source_port: the answering port's number
 */
struct ptpmgmt_reply {
	const uint8_t *data;
	size_t len;
	uint8_t source_identity[8];
	uint16_t source_port;
};

int ptpmgmt_open(struct ptpmgmt *m, const char *server, uint8_t domain,
		 char *why, size_t whylen);
void ptpmgmt_close(struct ptpmgmt *m);
size_t ptpmgmt_build_get(const struct ptpmgmt *m, uint16_t id, uint16_t seq,
			 uint8_t *buf, size_t len);
int ptpmgmt_parse(const struct ptpmgmt *m, const uint8_t *buf, size_t len,
		  uint16_t seq, uint16_t id, struct ptpmgmt_reply *r,
		  char *why, size_t whylen);
int ptpmgmt_get(struct ptpmgmt *m, uint16_t id, unsigned int want,
		int timeout_ms, ptpmgmt_buf *bufs,
		struct ptpmgmt_reply *replies, char *why, size_t whylen);
const char *ptpmgmt_id_name(uint16_t id);

int ptpmgmt_default_ds(const struct ptpmgmt_reply *r,
		       struct ptpmgmt_default_ds *d);
int ptpmgmt_current_ds(const struct ptpmgmt_reply *r,
		       struct ptpmgmt_current_ds *d);
int ptpmgmt_parent_ds(const struct ptpmgmt_reply *r,
		      struct ptpmgmt_parent_ds *d);
int ptpmgmt_time_properties(const struct ptpmgmt_reply *r,
			    struct ptpmgmt_time_properties *d);
int ptpmgmt_port_ds(const struct ptpmgmt_reply *r, struct ptpmgmt_port_ds *d);
int ptpmgmt_time_status(const struct ptpmgmt_reply *r,
			struct ptpmgmt_time_status *d);
int ptpmgmt_port_properties(const struct ptpmgmt_reply *r,
			    struct ptpmgmt_port_properties *d);

#endif /* IONCLOCK_PTPMGMT_H */
