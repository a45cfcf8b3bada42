/*
 * config_waf.c - the [waf] section and a route's waf key.
 *
 * The rule files are loaded here, at the end of the configuration's
 * validation (waf_load), so that "porter -t" and a reload see a broken
 * rule file as they see a broken key: a file:line error, and on reload
 * the running configuration and its rules go on.
 */
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_int.h"
#include "waf.h"

/* A [waf] header: only one, and only in a build that has the engine. */
void
config_waf_section(struct config_parse *p)
{
	struct config	*c = p->c;
	char		 where[4200];

	if (!waf_available()) {
		config_error(p, p->lineno, "[waf]: porter was built without "
		    "ModSecurity (configure --with-modsecurity, with "
		    "libmodsecurity-dev installed)");
		return;
	}
	if (c->waf.line != 0) {
		config_where(c, c->waf.line, where, sizeof(where));
		config_error(p, p->lineno, "duplicate section [waf] (first at "
		    "%s)", where);
		return;
	}
	c->waf.line = p->lineno;
	p->sec = S_WAF;
	p->obj = &c->waf;
}

/* rules = PATH or GLOB, relative to the file it is written in. */
static void
config_waf_rules(struct config_parse *p, const char *value)
{
	struct waf_config *w = &p->c->waf;
	char		 path[PATH_MAX], dir[PATH_MAX];
	glob_t		 g;
	size_t		 i;
	int		 rc;

	snprintf(dir, sizeof(dir), "%s", p->c->files[p->cur_file]);
	if (*value == '\0' || (size_t)snprintf(path, sizeof(path), "%s%s%s",
	    value[0] == '/' ? "" : dirname(dir), value[0] == '/' ? "" : "/",
	    value) >= sizeof(path)) {
		config_error(p, p->lineno, "rules: empty or too long");
		return;
	}
	if (w->rules_line == 0)
		w->rules_line = p->lineno;
	memset(&g, 0, sizeof(g));
	rc = glob(path, 0, NULL, &g);
	if (rc == GLOB_NOMATCH)
		config_error(p, p->lineno, "rules: %s: no such file", value);
	else if (rc != 0)
		config_error(p, p->lineno, "rules: %s: cannot expand",
		    value);
	else
		for (i = 0; i < g.gl_pathc; i++)
			config_list_add(&w->rules, &w->nrules, g.gl_pathv[i]);
	globfree(&g);
}

int
config_waf_special(struct config_parse *p, const char *name,
    const char *value)
{
	struct route_config *rt;

	if (p->sec == S_WAF && strcmp(name, "rules") == 0) {
		config_waf_rules(p, value);
		return 1;
	}
	if (p->sec != S_ROUTE || strcmp(name, "waf") != 0)
		return 0;
	rt = p->obj;
	rt->waf_line = p->lineno;
	if (strcmp(value, "on") == 0)
		rt->waf = WAF_ON;
	else if (strcmp(value, "detect") == 0)
		rt->waf = WAF_DETECT;
	else if (strcmp(value, "off") == 0)
		rt->waf = WAF_OFF;
	else
		config_error(p, p->lineno, "waf: expected on, detect or off");
	return 1;
}

/*
 * After the whole file: routes that ask for the WAF need [waf], which
 * needs rules; then the rules are loaded (the master, before forking).
 */
void
config_waf_validate(struct config_parse *p)
{
	struct config	*c = p->c;
	char		 err[1024];
	size_t		 i;
	int		 fd;

	for (i = 0; i < c->nroutes; i++)
		if (c->routes[i].waf != WAF_OFF && c->waf.line == 0)
			config_error(p, c->routes[i].waf_line, "[route %s] has "
			    "waf = %s but there is no [waf] section",
			    c->routes[i].name, c->routes[i].waf == WAF_ON ?
			    "on" : "detect");
	if (c->waf.line == 0)
		return;
	if (c->waf.nrules == 0) {
		if (c->waf.rules_line == 0)
			config_error(p, c->waf.line, "[waf] has no rules");
		return;
	}
	if (p->nerr > 0)
		return;		/* the rules would be thrown away */
	/*
	 * The audit log is made here, readable by its group only (it holds
	 * cookies and bodies): libmodsecurity appends to it with the
	 * umask's mode, and says less when it cannot.
	 */
	if (c->waf.audit_log != NULL) {
		if ((fd = open(c->waf.audit_log, O_WRONLY | O_APPEND |
		    O_CREAT | O_CLOEXEC, 0640)) == -1) {
			config_error(p, c->waf.line, "[waf] audit_log %s: %s",
			    c->waf.audit_log, strerror(errno));
			return;
		}
		(void)close(fd);
	}
	if ((c->waf.loaded = waf_load(&c->waf, err, sizeof(err))) == NULL)
		config_error(p, c->waf.rules_line, "rules: %s", err);
}

void
config_waf_free(struct config *c)
{
	size_t	 i;

	for (i = 0; i < c->waf.nrules; i++)
		free(c->waf.rules[i]);
	free(c->waf.rules);
	free(c->waf.audit_log);
	waf_rules_free(c->waf.loaded);
}
