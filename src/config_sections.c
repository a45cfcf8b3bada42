/*
 * config_sections.c - the keys of [pool] and [route] sections that build
 * more than a value: servers with their options, balancing and health
 * check specs, route matchers and actions, error pages, hash rings.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "http_parse.h"
#include "log.h"
#include "util.h"

/* server = ADDRESS [weight=N] [max_conns=N] [backup] [down] */
void
config_server(struct config_parse *p, struct pool_config *pc, const char *value)
{
	struct server_config	 sc;
	char			*dup, *tok, *save = NULL, err[256];
	unsigned long		 u;
	size_t			 i;

	memset(&sc, 0, sizeof(sc));
	sc.weight = 1;
	sc.line = p->lineno;
	dup = config_strdup(value);
	tok = strtok_r(dup, " \t", &save);
	if (tok == NULL) {
		config_error(p, p->lineno, "server: missing address");
		goto out;
	}
	snprintf(sc.name, sizeof(sc.name), "%s", tok);
	if (strncmp(tok, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&sc.addr.ss;

		if (tok[5] != '/' || strlen(tok + 5) >= sizeof(un->sun_path)) {
			config_error(p, p->lineno, "server: \"%s\" needs an "
			    "absolute socket path of at most %zu bytes", tok,
			    sizeof(un->sun_path) - 1);
			goto out;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, tok + 5, strlen(tok + 5) + 1);
		sc.addr.len = sizeof(*un);
		snprintf(sc.addr.str, sizeof(sc.addr.str), "%.63s", tok);
	} else if (util_parse_addr(tok, &sc.addr, err, sizeof(err)) == -1) {
		config_error(p, p->lineno, "server: %s", err);
		goto out;
	} else if (util_addr_port(&sc.addr) == 0) {
		config_error(p, p->lineno, "server: port 0 is not a port to "
		    "connect to");
		goto out;
	}
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		if (strcmp(tok, "backup") == 0)
			sc.backup = 1;
		else if (strcmp(tok, "down") == 0)
			sc.down = 1;
		else if (strncmp(tok, "weight=", 7) == 0 &&
		    util_parse_uint(tok + 7, 1, 1000, &u, err,
		    sizeof(err)) == 0)
			sc.weight = (unsigned)u;
		else if (strncmp(tok, "max_conns=", 10) == 0 &&
		    util_parse_uint(tok + 10, 0, 1000000, &u, err,
		    sizeof(err)) == 0)
			sc.max_conns = (unsigned)u;
		else {
			config_error(p, p->lineno, "server: unknown or invalid "
			    "option \"%s\" (weight=1..1000, max_conns=N, "
			    "backup, down)", tok);
			goto out;
		}
	}
	for (i = 0; i < pc->nservers; i++)
		if (strcmp(pc->servers[i].addr.str, sc.addr.str) == 0) {
			config_error(p, p->lineno, "server %s is already in "
			    "[pool %s]", sc.addr.str, pc->name);
			goto out;
		}
	sc.id = util_hash64(sc.addr.str, strlen(sc.addr.str),
	    util_hash64(pc->name, strlen(pc->name), 0));
	pc->servers = config_grow(pc->servers, pc->nservers, sizeof(sc));
	pc->servers[pc->nservers++] = sc;
out:
	free(dup);
}

void
config_pool_special(struct config_parse *p, struct pool_config *pc,
    const char *name, const char *value)
{
	static const char *const kinds[] = {
		"round_robin", "least_conn", "random_two", "hash", "sticky"
	};
	unsigned	 a, b;
	size_t		 i;
	int		 n, n2, len;
	char		 m[16], path[128], extra[8];

	if (strcmp(name, "balance") == 0) {
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strcmp(value, kinds[i]) == 0) {
				pc->balance = (enum balance_kind)i;
				return;
			}
		config_error(p, p->lineno, "balance: unknown \"%s\" (round_robin, "
		    "least_conn, random_two, hash or sticky)", value);
	} else if (strcmp(name, "hash_key") == 0) {
		if (strcmp(value, "client_ip") == 0)
			pc->hash_key = HASH_CLIENT_IP;
		else if (strcmp(value, "uri") == 0)
			pc->hash_key = HASH_URI;
		else if (strncmp(value, "header:", 7) == 0 && value[7] != '\0')
			pc->hash_key = HASH_HEADER;
		else if (strncmp(value, "cookie:", 7) == 0 && value[7] != '\0')
			pc->hash_key = HASH_COOKIE;
		else {
			config_error(p, p->lineno, "hash_key: unknown \"%s\" "
			    "(client_ip, uri, header:NAME or cookie:NAME)",
			    value);
			return;
		}
		snprintf(pc->hash_name, sizeof(pc->hash_name), "%s",
		    strchr(value, ':') ? strchr(value, ':') + 1 : "");
	} else if (strcmp(name, "sticky_cookie") == 0) {
		if (!config_valid_name(value)) {
			config_error(p, p->lineno, "sticky_cookie: invalid "
			    "cookie name \"%s\"", value);
			return;
		}
		snprintf(pc->sticky_cookie, sizeof(pc->sticky_cookie), "%s",
		    value);
	} else if (strcmp(name, "health_check") == 0) {
		if (strcmp(value, "off") == 0)
			pc->check_kind = CHECK_OFF;
		else if (strcmp(value, "tcp") == 0)
			pc->check_kind = CHECK_TCP;
		else if ((n = sscanf(value, "%15s %127s %7s", m, path,
		    extra)) == 2 && path[0] == '/' &&
		    http_method_lookup(m, strlen(m)) != HTTP_M_OTHER &&
		    strpbrk(path, "\r\n") == NULL) {
			pc->check_kind = CHECK_HTTP;
			snprintf(pc->check_method, sizeof(pc->check_method),
			    "%s", m);
			snprintf(pc->check_path, sizeof(pc->check_path), "%s",
			    path);
		} else
			config_error(p, p->lineno, "health_check: expected off, "
			    "tcp or METHOD /path (as in GET /healthz)");
	} else if (strcmp(name, "health_status") == 0) {
		a = b = 0;
		len = 0;
		n = sscanf(value, "%3u%n", &a, &len);
		if (n == 1 && value[len] == '\0')
			b = a;
		else if (n == 1 && value[len] == '-' &&
		    sscanf(value + len + 1, "%3u%n", &b, &n2) == 1 &&
		    value[len + 1 + n2] == '\0')
			n = 2;
		else
			n = 0;
		if (n == 0 || a < 100 || b > 599 || a > b) {
			config_error(p, p->lineno, "health_status: expected a "
			    "status or a range such as 200-399");
			return;
		}
		pc->check_status_min = a;
		pc->check_status_max = b;
	} else if (strcmp(name, "health_body") == 0) {
		free(pc->check_body);
		pc->check_body = config_strdup(value);
	}
}

/* Append s to a NULL-terminated-free list. */
void
config_list_add(char ***list, size_t *n, const char *s)
{
	*list = config_grow(*list, *n, sizeof(**list));
	(*list)[(*n)++] = config_strdup(s);
}

/* Is s a valid field name (token)? */
int
config_field_name(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("!#$%&'*+-.^_`|~", s[i]) == NULL)
			return 0;
	return 1;
}

/* Split "Name: value" into a name and a value; -1 if malformed. */
int
config_name_value(const char *v, char *name, size_t nlen, const char **value)
{
	const char	*colon = strchr(v, ':');
	size_t		 len;

	if (colon == NULL)
		return -1;
	len = (size_t)(colon - v);
	if (len >= nlen || !config_field_name(v, len))
		return -1;
	memcpy(name, v, len);
	name[len] = '\0';
	for (colon++; *colon == ' ' || *colon == '\t'; colon++)
		;
	if (strpbrk(colon, "\r\n") != NULL)
		return -1;
	*value = colon;
	return 0;
}

void
config_append(char **lines, const char *name, const char *value)
{
	size_t	 old = *lines ? strlen(*lines) : 0;
	size_t	 add = strlen(name) + strlen(value) + 5;

	if ((*lines = realloc(*lines, old + add)) == NULL)
		fatal("realloc");
	snprintf(*lines + old, add, "%s: %s\r\n", name, value);
}

/* error_page = CODE FILE: read now, served by workers from memory. */
void
config_error_page(struct config_parse *p, const char *value)
{
	struct error_page	 ep;
	unsigned long		 code;
	char			 err[256], *dup, *tok, *save = NULL;
	FILE			*fp;
	long			 len;

	dup = config_strdup(value);
	tok = strtok_r(dup, " \t", &save);
	if (tok == NULL || util_parse_uint(tok, 400, 599, &code, err,
	    sizeof(err)) == -1 || (tok = strtok_r(NULL, " \t", &save)) ==
	    NULL) {
		config_error(p, p->lineno, "error_page: expected CODE FILE with "
		    "CODE from 400 to 599");
		goto out;
	}
	if ((fp = fopen(tok, "r")) == NULL) {
		config_error(p, p->lineno, "error_page: cannot open %s: %s", tok,
		    strerror(errno));
		goto out;
	}
	if (fseek(fp, 0, SEEK_END) == -1 || (len = ftell(fp)) < 0 ||
	    len > 65536 || fseek(fp, 0, SEEK_SET) == -1) {
		config_error(p, p->lineno, "error_page: %s is larger than 64 KiB "
		    "or unreadable", tok);
		fclose(fp);
		goto out;
	}
	ep.status = (int)code;
	ep.len = (size_t)len;
	if ((ep.body = malloc(ep.len + 1)) == NULL)
		fatal("malloc");
	if (fread(ep.body, 1, ep.len, fp) != ep.len) {
		config_error(p, p->lineno, "error_page: cannot read %s", tok);
		free(ep.body);
		fclose(fp);
		goto out;
	}
	fclose(fp);
	p->c->error_pages = config_grow(p->c->error_pages, p->c->nerror_pages,
	    sizeof(ep));
	p->c->error_pages[p->c->nerror_pages++] = ep;
out:
	free(dup);
}

/*
 * About how many nodes glibc's regcomp() builds for the ERE at *p, up to
 * a ')' or the end: it copies a subexpression once for each repetition
 * it must spell out ("x{2,9}" is nine copies, "x+" two), so nested and
 * stacked repetitions multiply.  Returns -1 past any sane size.
 */
static long long
config_regex_size(const char **p, int depth)
{
	long long	 total = 0, last = 0, m, n, hi;
	const char	*c;

	if (depth > 32)
		return -1;
	while (**p != '\0' && **p != ')') {
		c = *p;
		m = 0;
		if (*c == '(') {
			(*p)++;
			if ((last = config_regex_size(p, depth + 1)) < 0 ||
			    **p != ')')
				return -1;
			(*p)++;
		} else if (*c == '[') {
			/* a bracket expression is one node */
			(*p)++;
			if (**p == '^')
				(*p)++;
			if (**p == ']')
				(*p)++;
			while (**p != '\0' && **p != ']') {
				if (**p == '[' && ((*p)[1] == ':' ||
				    (*p)[1] == '.' || (*p)[1] == '=')) {
					const char *e = strchr(*p + 2, ']');

					if (e == NULL)
						return -1;
					*p = e + 1;
				} else
					(*p)++;
			}
			if (**p != ']')
				return -1;
			(*p)++;
			last = 1;
		} else if (*c == '\\') {
			*p += (*p)[1] != '\0' ? 2 : 1;
			last = 1;
		} else if (*c == '|') {
			(*p)++;
			last = 0;
			continue;
		} else if (*c == '+' || *c == '*' || *c == '?') {
			m = *c == '+' ? 2 : 1;
			(*p)++;
		} else if (*c == '{' && (isdigit((unsigned char)c[1]) ||
		    c[1] == ',')) {
			n = strtoll(c + 1, (char **)(uintptr_t)p, 10);
			if (n < 0 || n > 100000)
				return -1;	/* and n + 1 cannot overflow */
			hi = n;
			if (**p == ',') {
				(*p)++;
				hi = isdigit((unsigned char)**p) ?
				    strtoll(*p, (char **)(uintptr_t)p, 10) :
				    n + 1;
			}
			if (**p != '}' || n < 0 || hi < 0 || hi > 100000)
				return -1;
			(*p)++;
			m = hi > 1 ? hi : 1;
		} else {
			(*p)++;
			last = 1;
		}
		if (m != 0) {
			/* a repetition multiplies the atom before it */
			total -= last;
			last *= m;
		}
		total += last;
		if (total > 1000000 || last > 1000000)
			return -1;
	}
	return total;
}

/*
 * Compile a route's regular expression, refusing first the ones that
 * would make regcomp() build a huge automaton (gigabytes for a short
 * pattern like "(a{1,255}){1,255}" or "a+++++++++++++++++++++").
 */
static int
config_regcomp(struct config_parse *p, regex_t *re, const char *key,
    const char *value)
{
	char		 err[256];
	const char	*c = value;
	long long	 size;
	int		 rc;

	size = config_regex_size(&c, 0);
	if (size < 0 || size > 10000 || *c != '\0') {
		config_error(p, p->lineno, "%s: too complex (its repetitions "
		    "would need %s nodes; at most 10000)", key,
		    size < 0 || *c != '\0' ? "too many" : "over 10000");
		return -1;
	}
	if ((rc = regcomp(re, value, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, re, err, sizeof(err));
		config_error(p, p->lineno, "%s: %s", key, err);
		return -1;
	}
	return 0;
}

/* Route keys beyond host/path/pool; returns 1 when name was handled. */
int
config_route_special(struct config_parse *p, struct route_config *r,
    const char *name, const char *value)
{
	char		 fname[128], *dup, *tok, *save = NULL, err[256];
	const char	*fval;
	unsigned long	 code;

	if (strcmp(name, "listen") == 0 || strcmp(name, "methods") == 0) {
		dup = config_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save)) {
			if (name[0] == 'l')
				config_list_add(&r->listens, &r->nlistens, tok);
			else if (!config_field_name(tok, strlen(tok)))
				config_error(p, p->lineno, "methods: invalid "
				    "method \"%s\"", tok);
			else
				config_list_add(&r->methods, &r->nmethods, tok);
		}
		free(dup);
	} else if (strcmp(name, "allow_methods") == 0) {
		dup = config_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save))
			if (!config_field_name(tok, strlen(tok)))
				config_error(p, p->lineno, "allow_methods: "
				    "invalid method \"%s\"", tok);
			else
				config_list_add(&r->allow_methods,
				    &r->nallow_methods, tok);
		free(dup);
	} else if (strcmp(name, "deny_path_regex") == 0) {
		if (config_regcomp(p, &r->deny_regex, name, value) == -1)
			return 1;
		r->deny_path_regex = config_strdup(value);
	} else if (strcmp(name, "deny_header") == 0) {
		r->deny_headers = config_grow(r->deny_headers, r->ndeny_headers,
		    sizeof(*r->deny_headers));
		if (config_name_value(value, fname, sizeof(fname), &fval) == 0) {
			r->deny_headers[r->ndeny_headers].name =
			    config_strdup(fname);
			r->deny_headers[r->ndeny_headers++].value =
			    config_strdup(fval);
		} else if (config_field_name(value, strlen(value))) {
			r->deny_headers[r->ndeny_headers++].name =
			    config_strdup(value);
		} else
			config_error(p, p->lineno, "deny_header: expected NAME "
			    "or NAME: value");
	} else if (strcmp(name, "rate_limit") == 0) {
		unsigned	 rate = 0, burst = 0;
		int		 used = 0;

		if (sscanf(value, "%ur/s%n", &rate, &used) != 1 ||
		    rate == 0 || rate > 1000000) {
			config_error(p, p->lineno, "rate_limit: expected "
			    "Nr/s [burst=N]");
			return 1;
		}
		for (tok = (char *)(uintptr_t)value + used; *tok == ' ' ||
		    *tok == '\t'; tok++)
			;
		if (*tok != '\0' && (sscanf(tok, "burst=%u%n", &burst,
		    &used) != 1 || tok[used] != '\0')) {
			config_error(p, p->lineno, "rate_limit: expected "
			    "Nr/s [burst=N]");
			return 1;
		}
		r->rate = rate;
		r->burst = burst ? burst : rate;
	} else if (strcmp(name, "rate_limit_key") == 0) {
		if (strcmp(value, "client_ip") == 0)
			r->rate_key[0] = '\0';
		else if (strncmp(value, "header:", 7) == 0 &&
		    config_field_name(value + 7, strlen(value + 7)) &&
		    strlen(value + 7) < sizeof(r->rate_key))
			snprintf(r->rate_key, sizeof(r->rate_key), "%s",
			    value + 7);
		else
			config_error(p, p->lineno, "rate_limit_key: expected "
			    "client_ip or header:NAME");
	} else if (strcmp(name, "path_regex") == 0) {
		if (config_regcomp(p, &r->regex, name, value) == -1)
			return 1;
		r->path_regex = config_strdup(value);
	} else if (strcmp(name, "header") == 0) {
		if (config_name_value(value, fname, sizeof(fname), &fval) == -1) {
			config_error(p, p->lineno, "header: expected NAME: value");
			return 1;
		}
		r->headers = config_grow(r->headers, r->nheaders,
		    sizeof(*r->headers));
		r->headers[r->nheaders].name = config_strdup(fname);
		r->headers[r->nheaders++].value = config_strdup(fval);
	} else if (strcmp(name, "strip_prefix") == 0) {
		if (value[0] != '/') {
			config_error(p, p->lineno, "strip_prefix: \"%s\" must "
			    "start with '/'", value);
			return 1;
		}
		r->strip_prefix = config_strdup(value);
	} else if (strcmp(name, "add_request_header") == 0 ||
	    strcmp(name, "add_response_header") == 0) {
		if (config_name_value(value, fname, sizeof(fname), &fval) == -1) {
			config_error(p, p->lineno, "%s: expected NAME: value",
			    name);
			return 1;
		}
		config_append(name[4] == 'r' && name[6] == 'q' ? &r->req_add :
		    &r->resp_add, fname, fval);
	} else if (strcmp(name, "remove_request_header") == 0 ||
	    strcmp(name, "remove_response_header") == 0) {
		dup = config_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save)) {
			if (!config_field_name(tok, strlen(tok)))
				config_error(p, p->lineno, "%s: invalid field "
				    "name \"%s\"", name, tok);
			else if (strcmp(name, "remove_request_header") == 0)
				config_list_add(&r->req_remove, &r->nreq_remove,
				    tok);
			else
				config_list_add(&r->resp_remove,
				    &r->nresp_remove, tok);
		}
		free(dup);
	} else if (strcmp(name, "return") == 0) {
		dup = config_strdup(value);
		tok = strtok_r(dup, " \t", &save);
		if (tok == NULL || util_parse_uint(tok, 200, 599, &code, err,
		    sizeof(err)) == -1) {
			config_error(p, p->lineno, "return: expected CODE [URL] "
			    "with CODE from 200 to 599");
			free(dup);
			return 1;
		}
		r->return_code = (int)code;
		tok = strtok_r(NULL, "", &save);
		if (tok != NULL) {
			while (*tok == ' ' || *tok == '\t')
				tok++;
			r->return_url = config_strdup(tok);
		} else if (code >= 300 && code < 400) {
			config_error(p, p->lineno, "return: a redirect needs a "
			    "URL");
		}
		free(dup);
	} else
		return 0;
	return 1;
}

static int
config_ring_cmp(const void *a, const void *b)
{
	const struct ring_point *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/*
 * The consistent-hash ring of a pool (ketama style): 100 points per unit
 * of weight for each primary server, at hashes of its address, so that
 * removing one of N servers moves about 1/N of the keys.
 */
void
config_ring(struct pool_config *pc)
{
	char		 key[160];
	size_t		 s, n = 0, k, per;
	uint64_t	 h;

	for (s = 0; s < pc->nservers; s++)
		if (!pc->servers[s].backup)
			n += 100 * pc->servers[s].weight;
	if (n == 0)
		return;
	if ((pc->ring = calloc(n, sizeof(*pc->ring))) == NULL)
		fatal("calloc");
	for (s = 0; s < pc->nservers; s++) {
		if (pc->servers[s].backup)
			continue;
		per = 100 * pc->servers[s].weight;
		for (k = 0; k < per; k++) {
			snprintf(key, sizeof(key), "%s#%zu",
			    pc->servers[s].addr.str, k);
			h = util_hash64(key, strlen(key), 0);
			pc->ring[pc->nring].hash = (uint32_t)(h >> 32);
			pc->ring[pc->nring++].server = (uint32_t)s;
		}
	}
	qsort(pc->ring, pc->nring, sizeof(*pc->ring), config_ring_cmp);
}


/* The defaults: off; the common text types; 256 bytes; level 6. */
void
config_compress_defaults(struct compress_config *cc)
{
	static const char *const types[] = {
		"text/html", "text/css", "application/javascript",
		"application/json", "image/svg+xml"
	};
	size_t	 i;

	cc->on = 0;
	cc->min_length = 256;
	cc->level = 6;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		config_list_add(&cc->types, &cc->ntypes, types[i]);
}

/* compression_types = TYPE ...: replaces the default list. */
void
config_compress_types(struct config_parse *p, struct compress_config *cc,
    const char *value)
{
	char	*dup, *tok, *save = NULL, *s, *slash;
	size_t	 i;

	for (i = 0; i < cc->ntypes; i++)
		free(cc->types[i]);
	free(cc->types);
	cc->types = NULL;
	cc->ntypes = 0;
	dup = config_strdup(value);
	for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t,", &save)) {
		slash = strchr(tok, '/');
		/* a star only as the whole subtype */
		if (slash == NULL || slash == tok || slash[1] == '\0' ||
		    !config_field_name(tok, (size_t)(slash - tok)) ||
		    memchr(tok, '*', (size_t)(slash - tok)) != NULL ||
		    (strcmp(slash + 1, "*") != 0 &&
		    (!config_field_name(slash + 1, strlen(slash + 1)) ||
		    strchr(slash + 1, '*') != NULL))) {
			config_error(p, p->lineno, "compression_types: \"%s\" "
			    "is not a media type (type/subtype or type/*)",
			    tok);
			continue;
		}
		for (s = tok; *s != '\0'; s++)
			*s = (char)tolower((unsigned char)*s);
		config_list_add(&cc->types, &cc->ntypes, tok);
	}
	free(dup);
	if (cc->ntypes == 0)
		config_error(p, p->lineno, "compression_types: no type given");
}

/*
 * [porter]'s compression keys are for a configuration without routes, as
 * the cache's on/off is: with routes each [route] says its own.
 */
void
config_compress_check(struct config_parse *p)
{
	size_t	 i;

	if (p->c->nroutes == 0)
		return;
	for (i = 0; i < config_nkeys; i++)
		if (config_keys[i].section == S_PORTER &&
		    strncmp(config_keys[i].name, "compression", 11) == 0 &&
		    p->key_line[i] != 0)
			config_error(p, p->key_line[i], "%s in [porter] "
			    "applies only when there is no [route]: set it in "
			    "each [route]", config_keys[i].name);
}
