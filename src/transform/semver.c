#include "transform/semver.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

static int read_number(const char **p, long *out)
{
	char *end;
	if (!isdigit((unsigned char)**p))
		return -1;
	*out = strtol(*p, &end, 10);
	*p = end;
	return 0;
}

int semver_parse(const char *s, struct semver *v)
{
	const char *p = s;
	memset(v, 0, sizeof(*v));
	while (*p == ' ')
		p++;
	if (*p == 'v' || *p == 'V')
		p++;
	if (read_number(&p, &v->major) < 0)
		return -1;
	if (*p == '.') {
		p++;
		if (read_number(&p, &v->minor) < 0)
			return -1;
		if (*p == '.') {
			p++;
			if (read_number(&p, &v->patch) < 0)
				return -1;
		}
	}
	if (*p == '-' || *p == '+' || isalpha((unsigned char)*p)) {
		if (*p == '+')  /* build metadata only: not a prerelease */
			return 0;
		if (*p == '-')
			p++;
		size_t n = strcspn(p, "+ ");
		if (!n || n >= sizeof(v->pre))
			return -1;
		memcpy(v->pre, p, n);
		p += n;
		if (*p == '+')
			p += strcspn(p, " ");
	}
	while (*p == ' ')
		p++;
	return *p ? -1 : 0;
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

/* Dot-separated identifiers: numeric ones numerically and before
 * alphanumeric ones; a shorter list of equal prefix first. */
static int cmp_prerelease(const char *a, const char *b)
{
	while (*a && *b) {
		size_t na = strcspn(a, "."), nb = strcspn(b, ".");
		int da = all_digits(a, na), db = all_digits(b, nb), c;
		if (da && db)
			c = (strtol(a, NULL, 10) > strtol(b, NULL, 10)) - (strtol(a, NULL, 10) < strtol(b, NULL, 10));
		else if (da != db)
			c = da ? -1 : 1;
		else {
			c = strncmp(a, b, na < nb ? na : nb);
			if (!c)
				c = (na > nb) - (na < nb);
		}
		if (c)
			return c;
		a += na + (a[na] == '.');
		b += nb + (b[nb] == '.');
	}
	return (*a != 0) - (*b != 0);
}

int semver_cmp(const struct semver *a, const struct semver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	if (!*a->pre || !*b->pre)
		return (!*a->pre) - (!*b->pre);
	return cmp_prerelease(a->pre, b->pre);
}

static void raise_lo(struct semver_range *r, const struct semver *v, int incl)
{
	int c = r->has_lo ? semver_cmp(v, &r->lo) : 1;
	if (c > 0 || (c == 0 && !incl)) {
		r->lo = *v;
		r->lo_incl = incl;
		r->has_lo = 1;
	}
}

static void lower_hi(struct semver_range *r, const struct semver *v, int incl)
{
	int c = r->has_hi ? semver_cmp(v, &r->hi) : -1;
	if (c < 0 || (c == 0 && !incl)) {
		r->hi = *v;
		r->hi_incl = incl;
		r->has_hi = 1;
	}
}

int semver_range_add(struct semver_range *r, const char *constraint, struct strbuf *err)
{
	const char *p = constraint;
	struct semver v;
	while (*p == ' ')
		p++;
	int ge = !strncmp(p, ">=", 2), le = !strncmp(p, "<=", 2);
	int gt = !ge && *p == '>', lt = !le && *p == '<', eq = *p == '=';
	p += ge || le ? 2 : gt || lt || eq ? 1 : 0;
	if (eq && *p == '=')
		p++;
	if (semver_parse(p, &v) < 0) {
		strbuf_addf(err, "'%s' is not a version constraint (examples: \"1.3.0\", \">=1.0.0\", \"<2.0.0\")",
			    constraint);
		return -1;
	}
	if (ge || gt)
		raise_lo(r, &v, ge);
	else if (le || lt)
		lower_hi(r, &v, le);
	else {
		raise_lo(r, &v, 1);
		lower_hi(r, &v, 1);
		if (*v.pre)
			r->names_prerelease = 1;
	}
	return 0;
}

int semver_range_contains(const struct semver_range *r, const struct semver *v)
{
	if (r->has_lo) {
		int c = semver_cmp(v, &r->lo);
		if (c < 0 || (c == 0 && !r->lo_incl))
			return 0;
	}
	if (r->has_hi) {
		int c = semver_cmp(v, &r->hi);
		if (c > 0 || (c == 0 && !r->hi_incl))
			return 0;
	}
	return 1;
}

static void add_version(struct strbuf *sb, const struct semver *v)
{
	strbuf_addf(sb, "%ld.%ld.%ld", v->major, v->minor, v->patch);
	if (*v->pre)
		strbuf_addf(sb, "-%s", v->pre);
}

void semver_range_describe(struct strbuf *sb, const struct semver_range *r)
{
	if (r->has_lo && r->has_hi && r->lo_incl && r->hi_incl && !semver_cmp(&r->lo, &r->hi)) {
		strbuf_addch(sb, '=');
		add_version(sb, &r->lo);
		return;
	}
	if (r->has_lo) {
		strbuf_addstr(sb, r->lo_incl ? ">=" : ">");
		add_version(sb, &r->lo);
	}
	if (r->has_hi) {
		strbuf_addstr(sb, r->has_lo ? ", " : "");
		strbuf_addstr(sb, r->hi_incl ? "<=" : "<");
		add_version(sb, &r->hi);
	}
	if (!r->has_lo && !r->has_hi)
		strbuf_addstr(sb, "any version");
}
