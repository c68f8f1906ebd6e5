/* SHA-256 (FIPS 180-4) of a buffer: PKCE's S256 challenge, and dbt's
 * file checksums in manifest.json. */
#ifndef DANGO_SHA256_H
#define DANGO_SHA256_H
#include <stddef.h>

void sha256(const void *data, size_t len, unsigned char out[32]);
/* The digest as 64 lowercase hex digits and a NUL into hex[65]. */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
