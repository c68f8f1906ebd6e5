/* Browser sessions: an HttpOnly cookie names a session, and each session has
 * its own CSRF token that the page reads from /api/session and sends back in
 * X-CSRF-Token with every POST. A cross-site page can make the browser send
 * the cookie but cannot read the token (no CORS headers are ever sent). */
#include "web/internal.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SESSIONS 1024
#define SESSION_TTL (7 * 24 * 3600.0)

struct session {
	char id[65], csrf[65];
	double created;
};

struct web_sessions {
	pthread_mutex_t lock;
	struct session *v;
	size_t nr;
};

void web_random_hex(char out[65])
{
	unsigned char raw[32];
	if (random_bytes(raw, sizeof(raw)) < 0)
		abort(); /* no randomness: no token can be trusted */
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

int web_secret_equal(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char diff = (unsigned char)(na != nb);
	for (size_t i = 0; i < na; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
	return nb && !diff;
}

struct web_sessions *web_sessions_new(void)
{
	struct web_sessions *s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->v = xcalloc(MAX_SESSIONS, sizeof(*s->v));
	return s;
}

void web_sessions_free(struct web_sessions *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->v);
	free(s);
}

char *web_session_create(struct web_sessions *s, char csrf[65])
{
	struct session n;
	web_random_hex(n.id);
	web_random_hex(n.csrf);
	n.created = web_now();
	pthread_mutex_lock(&s->lock);
	if (s->nr == MAX_SESSIONS) {
		/* full: forget the oldest */
		memmove(s->v, s->v + 1, (MAX_SESSIONS - 1) * sizeof(*s->v));
		s->nr--;
	}
	s->v[s->nr++] = n;
	pthread_mutex_unlock(&s->lock);
	memcpy(csrf, n.csrf, 65);
	return xstrdup(n.id);
}

int web_session_check(struct web_sessions *s, const char *id, char csrf[65])
{
	int found = 0;
	double now = web_now();
	if (!id || strlen(id) != 64)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nr && !found; i++)
		if (web_secret_equal(s->v[i].id, id) && now - s->v[i].created < SESSION_TTL) {
			memcpy(csrf, s->v[i].csrf, 65);
			found = 1;
		}
	pthread_mutex_unlock(&s->lock);
	return found;
}
