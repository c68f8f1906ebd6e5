/* Versions and version ranges of dbt packages, as dbt's hub resolver reads
 * them: "1.2.3", "1.2" (patch 0), prereleases "1.2.3-rc1" / "1.2.3rc1"
 * (before 1.2.3), constraints "=1.2.3", "1.2.3", ">=1.0.0", ">1.0",
 * "<2.0.0", "<=1.9"; several constraints intersect. */
#ifndef DANGO_SEMVER_H
#define DANGO_SEMVER_H
struct strbuf;

struct semver {
	long major, minor, patch;
	char pre[48];          /* "" for a release */
};

struct semver_range {
	struct semver lo, hi;
	int has_lo, has_hi, lo_incl, hi_incl;
	int names_prerelease;  /* a constraint names a prerelease exactly */
};

/* 0, or -1 when s is not a version. */
int semver_parse(const char *s, struct semver *v);
/* <0, 0, >0 by semantic-versioning precedence. */
int semver_cmp(const struct semver *a, const struct semver *b);
/* Narrow r by one constraint; -1 with a message when it does not parse. */
int semver_range_add(struct semver_range *r, const char *constraint, struct strbuf *err);
int semver_range_contains(const struct semver_range *r, const struct semver *v);
/* The range as text, e.g. ">=1.0.0, <2.0.0" (or "any version"). */
void semver_range_describe(struct strbuf *sb, const struct semver_range *r);

#endif
