/* A fast 64-bit content hash (not cryptographic): tells whether a file's
 * bytes changed between syncs. */
#ifndef DANGO_HASH_H
#define DANGO_HASH_H
#include <stddef.h>
#include <stdint.h>

struct hash64 {
	uint64_t h;
	uint64_t len;
	unsigned char tail[8];
	size_t ntail;
};

void hash64_init(struct hash64 *s);
void hash64_update(struct hash64 *s, const void *data, size_t len);
uint64_t hash64_final(struct hash64 *s);
/* Hash a file into hex (17 bytes); 0, or -1 with errno set. */
int hash_file(const char *path, char *hex);

#endif
