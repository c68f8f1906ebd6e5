#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Eight bytes at a time, each word mixed with a multiply and a rotate:
 * fast enough that hashing a file costs less than reading it. */
#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= rotl(w * P2, 31) * P1;
	return rotl(h, 27) * P1 + 0x52DCE729;
}

void hash64_init(struct hash64 *s)
{
	s->h = 0x27D4EB2F165667C5ULL;
	s->len = 0;
	s->ntail = 0;
}

void hash64_update(struct hash64 *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	s->len += len;
	while (s->ntail && len) {
		s->tail[s->ntail++] = *p++;
		len--;
		if (s->ntail == 8) {
			uint64_t w;
			memcpy(&w, s->tail, 8);
			s->h = mix(s->h, w);
			s->ntail = 0;
		}
	}
	if (s->ntail)
		return; /* all of data went into the pending tail */
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		s->h = mix(s->h, w);
	}
	memcpy(s->tail, p, len);
	s->ntail = len;
}

uint64_t hash64_final(struct hash64 *s)
{
	uint64_t h = s->h, w = 0;
	memcpy(&w, s->tail, s->ntail);
	h = mix(h, w ^ s->len);
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	return h;
}

int hash_file(const char *path, char *hex)
{
	static __thread unsigned char buf[1 << 18];
	struct hash64 s;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	hash64_init(&s);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		hash64_update(&s, buf, (size_t)n);
	}
	close(fd);
	snprintf(hex, 17, "%016llx", (unsigned long long)hash64_final(&s));
	return 0;
}
