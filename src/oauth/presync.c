/* The check before a sync's first request (spec 003, "OAuth Pre-Sync
 * Validation"):
 *
 *   renewable token, valid            -> used as it is
 *   renewable token, expired or close -> refreshed first and saved; a refusal
 *                                        fails the source with the provider's words
 *   manual token, more than 7 days    -> used
 *   manual token, within 7 days       -> a warning; the sync goes on
 *   manual token, expired             -> the source fails at once, before
 *                                        any request, naming the command
 *
 * Sources syncing at once may share a credential: the refresh happens under
 * an exclusive lock on .dango/oauth/NAME.lock, and a process that had to
 * wait reads the file again and finds the token its neighbour renewed. */
#include "oauth/oauth.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/xalloc.h"
#include "project/project.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static void day(char *buf, time_t t)
{
	char iso[32];
	clock_format_utc(iso, t);
	memcpy(buf, iso, 10);
	buf[10] = '\0';
}

static int load_required(const struct project *p, const char *name, struct oauth_cred *c, struct strbuf *err)
{
	int r = oauth_cred_load(p, name, c, err);
	if (r == 0) {
		const struct oauth_provider *prov = oauth_provider_find(name);
		if (prov)
			strbuf_addf(err, "no OAuth credential named '%s'; run: dango oauth setup %s", name, name);
		else
			strbuf_addf(err, "no OAuth credential named '%s'; run: dango oauth setup PROVIDER --name %s", name,
				    name);
	}
	return r == 1 ? 0 : -1;
}

static void expired_error(struct strbuf *err, const struct oauth_cred *c)
{
	char d[16];
	day(d, c->expires_at);
	strbuf_addf(err, "OAuth token for %s expired on %s; run: ", c->name, d);
	oauth_setup_hint(err, c);
}

static void expiring_warning(struct strvec *warnings, const struct oauth_cred *c, time_t now)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "OAuth token for %s ", c->name);
	oauth_describe_expiry(&sb, c, now);
	strbuf_addstr(&sb, "; renew it before then: ");
	oauth_setup_hint(&sb, c);
	strvec_push(warnings, sb.buf);
	strbuf_release(&sb);
}

/* Refresh under the credential's lock; c holds the newest token after.
 * With refused (a token an API turned down), it is refreshed unless the
 * store already holds another one. */
static int refresh_locked(const struct project *p, struct oauth_cred *c, const char *refused, struct strbuf *err)
{
	struct strbuf lock = STRBUF_INIT;
	char *name = xstrdup(c->name);
	int fd = -1, ret = -1;
	oauth_cred_path(&lock, p, name);
	strbuf_setlen(&lock, lock.len - 5);
	strbuf_addstr(&lock, ".lock");
	fd = open(lock.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		strbuf_addf(err, "cannot lock %s: %s", lock.buf, strerror(errno));
		goto out;
	}
	/* another process may have renewed it while we waited */
	oauth_cred_release(c);
	if (load_required(p, name, c, err) < 0)
		goto out;
	if (refused ? strcmp(c->access_token, refused) != 0 || !c->refresh_token
		    : oauth_cred_state(c, clock_now_sec()) != OAUTH_NEEDS_REFRESH) {
		ret = 0;
		goto out;
	}
	if (oauth_refresh(p, c, err) < 0 || oauth_cred_save(p, c, err) < 0)
		goto out;
	ret = 0;
out:
	if (fd >= 0)
		close(fd); /* releases the lock */
	free(name);
	strbuf_release(&lock);
	return ret;
}

int oauth_prepare(const struct project *p, const char *name, char **token, struct strvec *warnings,
		  struct strbuf *err)
{
	struct oauth_cred c;
	int ret = -1;
	*token = NULL;
	if (load_required(p, name, &c, err) < 0)
		return -1;
	time_t now = clock_now_sec();
	switch (oauth_cred_state(&c, now)) {
	case OAUTH_EXPIRED:
		expired_error(err, &c);
		goto out;
	case OAUTH_EXPIRING:
		expiring_warning(warnings, &c, now);
		break;
	case OAUTH_NEEDS_REFRESH:
		if (refresh_locked(p, &c, NULL, err) < 0)
			goto out;
		break;
	case OAUTH_VALID:
		break;
	}
	*token = xstrdup(c.access_token);
	ret = 0;
out:
	oauth_cred_release(&c);
	return ret;
}

int oauth_renew(const struct project *p, const char *name, const char *refused, char **token, struct strbuf *err)
{
	struct oauth_cred c;
	int ret = -1;
	*token = NULL;
	if (load_required(p, name, &c, err) < 0)
		return -1;
	if (refresh_locked(p, &c, refused, err) < 0)
		goto out;
	ret = 0;
	if (strcmp(c.access_token, refused)) {
		*token = xstrdup(c.access_token);
		ret = 1;
	}
out:
	oauth_cred_release(&c);
	return ret;
}

int oauth_peek(const struct project *p, const char *name, struct strbuf *line, struct strbuf *err)
{
	struct oauth_cred c;
	int ret = -1;
	if (load_required(p, name, &c, err) < 0)
		return -1;
	time_t now = clock_now_sec();
	enum oauth_state s = oauth_cred_state(&c, now);
	if (s == OAUTH_EXPIRED) {
		expired_error(err, &c);
		goto out;
	}
	strbuf_addf(line, "OAuth credential %s (%s): ", c.name, c.provider);
	if (s == OAUTH_NEEDS_REFRESH)
		strbuf_addstr(line, "would be refreshed before the first request");
	else
		oauth_describe_expiry(line, &c, now);
	ret = 0;
out:
	oauth_cred_release(&c);
	return ret;
}
