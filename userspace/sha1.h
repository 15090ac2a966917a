/* SPDX-License-Identifier: GPL-2.0 */
/* SHA-1, only to check leap-seconds.list's "#h" line (not for security). */
#ifndef IONCLOCK_SHA1_H
#define IONCLOCK_SHA1_H

#include <stddef.h>
#include <stdint.h>

struct sha1 {
	uint32_t h[5];
	uint64_t bytes;
	uint8_t block[64];
	size_t used;
};

void sha1_init(struct sha1 *s);
void sha1_update(struct sha1 *s, const void *data, size_t len);
void sha1_final(struct sha1 *s, uint32_t digest[5]);

#endif /* IONCLOCK_SHA1_H */
