/* PKCE (RFC 7636): a random code verifier and its S256 challenge, with
 * SHA-256 (core/sha256.c: no crypto library is linked), and base64url
 * without padding. */
#include "oauth/oauth.h"
#include "core/sha256.h"
#include "core/util.h"

#include <string.h>

void oauth_sha256(const void *data, size_t len, unsigned char out[32])
{
	sha256(data, len, out);
}

void oauth_base64url(struct strbuf *sb, const unsigned char *p, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		strbuf_addch(sb, tbl[v >> 18 & 63]);
		strbuf_addch(sb, tbl[v >> 12 & 63]);
		if (i + 1 < n)
			strbuf_addch(sb, tbl[v >> 6 & 63]);
		if (i + 2 < n)
			strbuf_addch(sb, tbl[v & 63]);
	}
}

int oauth_pkce(struct strbuf *verifier, struct strbuf *challenge)
{
	unsigned char raw[32], digest[32];
	if (random_bytes(raw, sizeof(raw)) < 0)
		return -1;
	strbuf_reset(verifier);
	oauth_base64url(verifier, raw, sizeof(raw)); /* 43 characters of [A-Za-z0-9-_] */
	oauth_sha256(verifier->buf, verifier->len, digest);
	strbuf_reset(challenge);
	oauth_base64url(challenge, digest, sizeof(digest));
	return 0;
}
