/* SHA-1 (FIPS 180-4), for formats that name it: dbt's package-lock.yml
 * records a SHA-1 of the package specs. Not for anything security-bound. */
#ifndef DANGO_SHA1_H
#define DANGO_SHA1_H
#include <stddef.h>
#include <stdint.h>

struct sha1 {
	uint32_t h[5];
	uint64_t len;          /* bytes fed so far */
	unsigned char buf[64];
	size_t fill;
};

void sha1_init(struct sha1 *s);
void sha1_update(struct sha1 *s, const void *data, size_t n);
/* The digest as 40 lowercase hex digits and a NUL into hex[41]. */
void sha1_final_hex(struct sha1 *s, char hex[41]);

#endif
