/*
 * config.c - porter.ini to struct config.
 *
 * inih does the INI syntax; this file does the meaning.  Keys are a table
 * of {section, name, type, offset}; a few keys that build lists have their
 * own setters.  Errors are collected, not fatal, so that "porter -t" shows
 * every problem in one run, each as "file:line: message".
 *
 * The line numbers come from our own reader callback, which counts lines
 * as inih asks for them; the packaged inih does not pass line numbers to
 * handlers.  The reader also sees section headers first hand, so it can
 * catch duplicate and unknown sections and over-long lines (inih's line
 * limit is INI_MAX_LINE, 200 bytes in the packaged build).
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <ini.h>

#include "alog.h"
#include "config.h"
#include "http_parse.h"
#include "log.h"
#include "tls.h"

enum cfg_section {
	S_NONE = 0,
	S_PORTER,
	S_LISTEN,
	S_POOL,
	S_ROUTE,
	S_ADMIN,
	S_CACHE,
	S_BAD
};

enum cfg_type {
	T_UINT = 0,
	T_SIZE,
	T_DURATION,
	T_BOOL,
	T_STRING,
	T_LOGLEVEL,
	T_OFFSTRING,	/* a path, or "off" for NULL */
	T_SPECIAL	/* handled by cfg_special() */
};

struct cfg_key {
	enum cfg_section section;
	const char	*name;
	enum cfg_type	 type;
	size_t		 offset;
	unsigned long	 min, max;
};

#define P(f)	offsetof(struct config, f)
#define L(f)	offsetof(struct listen_config, f)
#define O(f)	offsetof(struct pool_config, f)
#define R(f)	offsetof(struct route_config, f)
#define C(f)	offsetof(struct cache_config, f)

static const struct cfg_key cfg_keys[] = {
	{ S_PORTER, "workers", T_UINT, P(workers), 1, 4096 },
	{ S_PORTER, "min_spare_workers", T_UINT, P(min_spare_workers), 0,
	    4096 },
	{ S_PORTER, "max_spare_workers", T_UINT, P(max_spare_workers), 1,
	    4096 },
	{ S_PORTER, "max_workers", T_UINT, P(max_workers), 1, 4096 },
	{ S_PORTER, "max_requests_per_worker", T_UINT,
	    P(max_requests_per_worker), 0, 4000000000UL },
	{ S_PORTER, "pid_file", T_STRING, P(pid_file), 0, 0 },
	{ S_PORTER, "error_log", T_STRING, P(error_log), 0, 0 },
	{ S_PORTER, "log_level", T_LOGLEVEL, P(log_level), 0, 0 },
	{ S_PORTER, "access_log", T_OFFSTRING, P(access_log), 0, 0 },
	{ S_PORTER, "access_log_format", T_STRING, P(access_log_format), 0,
	    0 },
	{ S_PORTER, "syslog_facility", T_STRING, P(syslog_facility), 0, 0 },
	{ S_PORTER, "user", T_STRING, P(user), 0, 0 },
	{ S_PORTER, "group", T_STRING, P(group), 0, 0 },
	{ S_PORTER, "chroot", T_STRING, P(chroot), 0, 0 },
	{ S_PORTER, "client_header_timeout", T_DURATION,
	    P(client_header_timeout), 1, 0 },
	{ S_PORTER, "client_body_timeout", T_DURATION,
	    P(client_body_timeout), 1, 0 },
	{ S_PORTER, "send_timeout", T_DURATION, P(send_timeout), 1, 0 },
	{ S_PORTER, "keepalive_timeout", T_DURATION, P(keepalive_timeout),
	    0, 0 },
	{ S_PORTER, "keepalive_requests", T_UINT, P(keepalive_requests),
	    1, 1000000000 },
	{ S_PORTER, "tunnel_timeout", T_DURATION, P(tunnel_timeout), 1, 0 },
	{ S_PORTER, "shutdown_timeout", T_DURATION, P(shutdown_timeout),
	    0, 0 },
	{ S_PORTER, "max_header_size", T_SIZE, P(max_header_size),
	    1024, 1024 * 1024 },
	{ S_PORTER, "max_uri_length", T_UINT, P(max_uri_length), 16, 65536 },
	{ S_PORTER, "max_headers", T_UINT, P(max_headers), 1, 128 },
	{ S_PORTER, "client_max_body_size", T_SIZE,
	    P(client_max_body_size), 0, 0 },
	{ S_PORTER, "server_tokens", T_BOOL, P(server_tokens), 0, 0 },
	{ S_PORTER, "tls_ticket_rotation", T_DURATION, P(tls_ticket_rotation),
	    60000, 0 },
	{ S_PORTER, "hide_headers", T_SPECIAL, 0, 0, 0 },
	{ S_PORTER, "error_page", T_SPECIAL, 0, 0, 0 },
	{ S_PORTER, "max_conns_per_ip", T_UINT, P(max_conns_per_ip), 0,
	    1000000 },
	{ S_PORTER, "trusted_proxies", T_SPECIAL, 0, 0, 0 },

	{ S_LISTEN, "address", T_SPECIAL, 0, 0, 0 },
	{ S_LISTEN, "backlog", T_UINT, L(backlog), 1, 65535 },
	{ S_LISTEN, "tls_certificate", T_SPECIAL, 0, 0, 0 },
	{ S_LISTEN, "tls_key", T_SPECIAL, 0, 0, 0 },
	{ S_LISTEN, "tls_protocols", T_STRING, L(tls_protocols), 0, 0 },
	{ S_LISTEN, "tls_ciphers", T_STRING, L(tls_ciphers), 0, 0 },
	{ S_LISTEN, "tls_ciphersuites", T_STRING, L(tls_ciphersuites), 0, 0 },
	{ S_LISTEN, "tls_curves", T_STRING, L(tls_curves), 0, 0 },
	{ S_LISTEN, "proxy_protocol", T_BOOL, L(proxy_protocol), 0, 0 },

	{ S_POOL, "server", T_SPECIAL, 0, 0, 0 },
	{ S_POOL, "connect_timeout", T_DURATION, O(connect_timeout), 1, 0 },
	{ S_POOL, "read_timeout", T_DURATION, O(read_timeout), 1, 0 },
	{ S_POOL, "send_timeout", T_DURATION, O(send_timeout), 1, 0 },
	{ S_POOL, "keepalive", T_UINT, O(keepalive), 0, 1024 },
	{ S_POOL, "keepalive_timeout", T_DURATION, O(keepalive_timeout), 0, 0 },
	{ S_POOL, "retries", T_UINT, O(retries), 0, 16 },
	{ S_POOL, "balance", T_SPECIAL, 0, 0, 0 },
	{ S_POOL, "hash_key", T_SPECIAL, 0, 0, 0 },
	{ S_POOL, "sticky_cookie", T_SPECIAL, 0, 0, 0 },
	{ S_POOL, "max_fails", T_UINT, O(max_fails), 0, 1000 },
	{ S_POOL, "fail_timeout", T_DURATION, O(fail_timeout), 1, 0 },
	{ S_POOL, "fail_on_5xx", T_BOOL, O(fail_on_5xx), 0, 0 },
	{ S_POOL, "queue_timeout", T_DURATION, O(queue_timeout), 0, 0 },
	{ S_POOL, "slow_start", T_DURATION, O(slow_start), 0, 0 },
	{ S_POOL, "health_check", T_SPECIAL, 0, 0, 0 },
	{ S_POOL, "health_interval", T_DURATION, O(check_interval), 10, 0 },
	{ S_POOL, "health_timeout", T_DURATION, O(check_timeout), 10, 0 },
	{ S_POOL, "health_rise", T_UINT, O(check_rise), 1, 100 },
	{ S_POOL, "health_fall", T_UINT, O(check_fall), 1, 100 },
	{ S_POOL, "health_status", T_SPECIAL, 0, 0, 0 },
	{ S_POOL, "health_body", T_SPECIAL, 0, 0, 0 },
	{ S_POOL, "tls", T_BOOL, O(tls), 0, 0 },
	{ S_POOL, "tls_verify", T_BOOL, O(tls_verify), 0, 0 },
	{ S_POOL, "tls_ca_file", T_STRING, O(tls_ca_file), 0, 0 },
	{ S_POOL, "tls_server_name", T_STRING, O(tls_server_name), 0, 0 },
	{ S_POOL, "tls_certificate", T_STRING, O(tls_certificate), 0, 0 },
	{ S_POOL, "tls_key", T_STRING, O(tls_key), 0, 0 },

	{ S_ROUTE, "host", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "path", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "pool", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "listen", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "path_regex", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "methods", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "header", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "strip_prefix", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "set_host", T_BOOL, R(set_host), 0, 0 },
	{ S_ROUTE, "add_request_header", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "remove_request_header", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "add_response_header", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "remove_response_header", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "return", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "connect_timeout", T_DURATION, R(connect_timeout), 1, 0 },
	{ S_ROUTE, "read_timeout", T_DURATION, R(read_timeout), 1, 0 },

	{ S_ROUTE, "cache", T_BOOL, R(cache), 0, 0 },
	{ S_ROUTE, "allow", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "deny", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "allow_methods", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "deny_path_regex", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "deny_header", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "rate_limit", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "rate_limit_key", T_SPECIAL, 0, 0, 0 },

	{ S_CACHE, "size", T_SIZE, C(size), 65536, 1ULL << 40 },
	{ S_CACHE, "max_object_size", T_SIZE, C(max_object_size), 1, 0 },
	{ S_CACHE, "lock_timeout", T_DURATION, C(lock_timeout), 0, 0 },
	{ S_CACHE, "pass_ttl", T_DURATION, C(pass_ttl), 0, 0 },
	{ S_CACHE, "purge_allow", T_SPECIAL, 0, 0, 0 },

	{ S_ADMIN, "address", T_SPECIAL, 0, 0, 0 },
	{ S_ADMIN, "allow", T_SPECIAL, 0, 0, 0 },
};

#define CFG_NKEYS	(sizeof(cfg_keys) / sizeof(cfg_keys[0]))

struct cfg_parse {
	struct config	*c;
	FILE		*fp;
	const char	*file;
	int		 lineno;
	enum cfg_section sec;
	void		*obj;		/* struct being filled */
	int		 sec_line;
	int		 porter_line;
	unsigned char	 seen[CFG_NKEYS];
	int		 key_line[CFG_NKEYS];	/* [porter] keys */
	char		*err;
	size_t		 errlen, erroff;
	int		 nerr;
};

static void cfg_error(struct cfg_parse *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
cfg_error(struct cfg_parse *p, int line, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	p->nerr++;
	if (p->erroff + 1 >= p->errlen)
		return;
	n = snprintf(p->err + p->erroff, p->errlen - p->erroff, "%s:%d: ",
	    p->file, line);
	if (n < 0 || (size_t)n >= p->errlen - p->erroff) {
		p->erroff = p->errlen;
		return;
	}
	p->erroff += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(p->err + p->erroff, p->errlen - p->erroff, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 1 >= p->errlen - p->erroff) {
		p->erroff = p->errlen;
		return;
	}
	p->erroff += (size_t)n;
	p->err[p->erroff++] = '\n';
	p->err[p->erroff] = '\0';
}

static void *
cfg_grow(void *arr, size_t n, size_t size)
{
	void	*r;

	/* grow one element at a time: configurations are small */
	if ((r = realloc(arr, (n + 1) * size)) == NULL)
		fatal("realloc");
	memset((char *)r + n * size, 0, size);
	return r;
}

static char *
cfg_strdup(const char *s)
{
	char	*r;

	if ((r = strdup(s)) == NULL)
		fatal("strdup");
	return r;
}

static int
cfg_valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) >= CONFIG_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("_.-", *s) == NULL)
			return 0;
	return 1;
}

/* Start of a new section, seen by the reader on line p->lineno. */
static void
cfg_section(struct cfg_parse *p, const char *hdr)
{
	struct config	*c = p->c;
	char		 kind[16], name[CONFIG_NAME_MAX + 16];
	size_t		 i;
	int		 n;

	memset(p->seen, 0, sizeof(p->seen));
	p->sec = S_BAD;
	p->obj = NULL;
	p->sec_line = p->lineno;
	name[0] = '\0';
	n = sscanf(hdr, "%15s %79s", kind, name);
	if (n < 1) {
		cfg_error(p, p->lineno, "empty section name");
		return;
	}
	if (strcmp(kind, "porter") == 0 && n == 1) {
		if (p->porter_line != 0) {
			cfg_error(p, p->lineno, "duplicate section [porter] "
			    "(first at line %d)", p->porter_line);
			return;
		}
		p->porter_line = p->lineno;
		p->sec = S_PORTER;
		p->obj = c;
		return;
	}
	if (strcmp(kind, "cache") == 0 && n == 1) {
		if (c->cache.line != 0) {
			cfg_error(p, p->lineno, "duplicate section [cache] "
			    "(first at line %d)", c->cache.line);
			return;
		}
		c->cache.line = p->lineno;
		p->sec = S_CACHE;
		p->obj = &c->cache;
		return;
	}
	if (strcmp(kind, "admin") == 0 && n == 1) {
		if (c->admin.line != 0) {
			cfg_error(p, p->lineno, "duplicate section [admin] "
			    "(first at line %d)", c->admin.line);
			return;
		}
		c->admin.line = p->lineno;
		p->sec = S_ADMIN;
		p->obj = &c->admin;
		return;
	}
	if (n != 2 || strchr(hdr + strlen(kind) + 1, ' ') != NULL) {
		if (strcmp(kind, "listen") == 0 || strcmp(kind, "pool") == 0 ||
		    strcmp(kind, "route") == 0)
			cfg_error(p, p->lineno, "section [%s] needs one name, "
			    "as in [%s NAME]", kind, kind);
		else
			cfg_error(p, p->lineno, "unknown section [%s]", hdr);
		return;
	}
	if (!cfg_valid_name(name)) {
		cfg_error(p, p->lineno, "invalid name \"%s\" (letters, digits, "
		    "'_', '.', '-'; at most %d)", name, CONFIG_NAME_MAX - 1);
		return;
	}
	if (strcmp(kind, "listen") == 0) {
		for (i = 0; i < c->nlistens; i++)
			if (strcmp(c->listens[i].name, name) == 0)
				goto dup;
		c->listens = cfg_grow(c->listens, c->nlistens,
		    sizeof(*c->listens));
		p->obj = &c->listens[c->nlistens++];
		snprintf(((struct listen_config *)p->obj)->name,
		    CONFIG_NAME_MAX, "%s", name);
		((struct listen_config *)p->obj)->backlog = 511;
		((struct listen_config *)p->obj)->line = p->lineno;
		p->sec = S_LISTEN;
	} else if (strcmp(kind, "pool") == 0) {
		struct pool_config *pc;

		for (i = 0; i < c->npools; i++)
			if (strcmp(c->pools[i].name, name) == 0)
				goto dup;
		c->pools = cfg_grow(c->pools, c->npools, sizeof(*c->pools));
		pc = &c->pools[c->npools++];
		snprintf(pc->name, sizeof(pc->name), "%s", name);
		pc->connect_timeout = 5000;
		pc->read_timeout = 60000;
		pc->send_timeout = 60000;
		pc->keepalive = 32;
		pc->keepalive_timeout = 30000;
		pc->retries = 1;
		pc->tls_verify = 1;
		pc->max_fails = 1;
		pc->fail_timeout = 10000;
		pc->queue_timeout = 5000;
		snprintf(pc->sticky_cookie, sizeof(pc->sticky_cookie),
		    "porter_sticky");
		pc->check_interval = 5000;
		pc->check_timeout = 2000;
		pc->check_rise = 2;
		pc->check_fall = 3;
		pc->check_status_min = 200;
		pc->check_status_max = 399;
		pc->line = p->lineno;
		p->obj = pc;
		p->sec = S_POOL;
	} else if (strcmp(kind, "route") == 0) {
		for (i = 0; i < c->nroutes; i++)
			if (strcmp(c->routes[i].name, name) == 0)
				goto dup;
		c->routes = cfg_grow(c->routes, c->nroutes, sizeof(*c->routes));
		p->obj = &c->routes[c->nroutes++];
		snprintf(((struct route_config *)p->obj)->name,
		    CONFIG_NAME_MAX, "%s", name);
		((struct route_config *)p->obj)->line = p->lineno;
		p->sec = S_ROUTE;
	} else
		cfg_error(p, p->lineno, "unknown section [%s]", hdr);
	return;
dup:
	cfg_error(p, p->lineno, "duplicate section [%s %s]", kind, name);
}

/*
 * inih reader: fgets plus line counting, section tracking and the
 * over-long line check.
 */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct cfg_parse	*p = stream;
	char			 hdr[256];
	char			*s, *e;
	int			 ch;
	size_t			 n;

	if (fgets(str, num, p->fp) == NULL)
		return NULL;
	p->lineno++;
	n = strlen(str);
	if (n > 0 && str[n - 1] != '\n' && !feof(p->fp)) {
		cfg_error(p, p->lineno, "line longer than %d characters",
		    num - 2);
		while ((ch = fgetc(p->fp)) != EOF && ch != '\n')
			;
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	for (s = str; isspace((unsigned char)*s); s++)
		;
	if (*s == '[' && (e = strchr(s, ']')) != NULL) {
		/* a copy: inih still needs the line as it was */
		s++;
		while (isspace((unsigned char)*s))
			s++;
		n = (size_t)(e - s);
		while (n > 0 && isspace((unsigned char)s[n - 1]))
			n--;
		if (n >= sizeof(hdr))
			n = sizeof(hdr) - 1;
		memcpy(hdr, s, n);
		hdr[n] = '\0';
		cfg_section(p, hdr);
	}
	return str;
}

static int
cfg_addr_dup(struct config *c, const struct addr *a)
{
	size_t	 i, j;

	for (i = 0; i < c->admin.naddrs; i++)
		if (c->admin.addrs[i].len == a->len &&
		    memcmp(&c->admin.addrs[i].ss, &a->ss, a->len) == 0)
			return 1;

	for (i = 0; i < c->nlistens; i++)
		for (j = 0; j < c->listens[i].naddrs; j++)
			if (c->listens[i].addrs[j].len == a->len &&
			    memcmp(&c->listens[i].addrs[j].ss, &a->ss,
			    a->len) == 0)
				return 1;
	return 0;
}

/* server = ADDRESS [weight=N] [max_conns=N] [backup] [down] */
static void
cfg_server(struct cfg_parse *p, struct pool_config *pc, const char *value)
{
	struct server_config	 sc;
	char			*dup, *tok, *save = NULL, err[256];
	unsigned long		 u;
	size_t			 i;

	memset(&sc, 0, sizeof(sc));
	sc.weight = 1;
	sc.line = p->lineno;
	dup = cfg_strdup(value);
	tok = strtok_r(dup, " \t", &save);
	if (tok == NULL) {
		cfg_error(p, p->lineno, "server: missing address");
		goto out;
	}
	snprintf(sc.name, sizeof(sc.name), "%s", tok);
	if (strncmp(tok, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&sc.addr.ss;

		if (tok[5] != '/' || strlen(tok + 5) >= sizeof(un->sun_path)) {
			cfg_error(p, p->lineno, "server: \"%s\" needs an "
			    "absolute socket path of at most %zu bytes", tok,
			    sizeof(un->sun_path) - 1);
			goto out;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, tok + 5, strlen(tok + 5) + 1);
		sc.addr.len = sizeof(*un);
		snprintf(sc.addr.str, sizeof(sc.addr.str), "%.63s", tok);
	} else if (util_parse_addr(tok, &sc.addr, err, sizeof(err)) == -1) {
		cfg_error(p, p->lineno, "server: %s", err);
		goto out;
	} else if (util_addr_port(&sc.addr) == 0) {
		cfg_error(p, p->lineno, "server: port 0 is not a port to "
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
			cfg_error(p, p->lineno, "server: unknown or invalid "
			    "option \"%s\" (weight=1..1000, max_conns=N, "
			    "backup, down)", tok);
			goto out;
		}
	}
	for (i = 0; i < pc->nservers; i++)
		if (strcmp(pc->servers[i].addr.str, sc.addr.str) == 0) {
			cfg_error(p, p->lineno, "server %s is already in "
			    "[pool %s]", sc.addr.str, pc->name);
			goto out;
		}
	sc.id = util_hash64(sc.addr.str, strlen(sc.addr.str),
	    util_hash64(pc->name, strlen(pc->name), 0));
	pc->servers = cfg_grow(pc->servers, pc->nservers, sizeof(sc));
	pc->servers[pc->nservers++] = sc;
out:
	free(dup);
}

static void
cfg_pool_special(struct cfg_parse *p, struct pool_config *pc,
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
		cfg_error(p, p->lineno, "balance: unknown \"%s\" (round_robin, "
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
			cfg_error(p, p->lineno, "hash_key: unknown \"%s\" "
			    "(client_ip, uri, header:NAME or cookie:NAME)",
			    value);
			return;
		}
		snprintf(pc->hash_name, sizeof(pc->hash_name), "%s",
		    strchr(value, ':') ? strchr(value, ':') + 1 : "");
	} else if (strcmp(name, "sticky_cookie") == 0) {
		if (!cfg_valid_name(value)) {
			cfg_error(p, p->lineno, "sticky_cookie: invalid "
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
			cfg_error(p, p->lineno, "health_check: expected off, "
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
			cfg_error(p, p->lineno, "health_status: expected a "
			    "status or a range such as 200-399");
			return;
		}
		pc->check_status_min = a;
		pc->check_status_max = b;
	} else if (strcmp(name, "health_body") == 0) {
		free(pc->check_body);
		pc->check_body = cfg_strdup(value);
	}
}

/* Append s to a NULL-terminated-free list. */
static void
cfg_list_add(char ***list, size_t *n, const char *s)
{
	*list = cfg_grow(*list, *n, sizeof(**list));
	(*list)[(*n)++] = cfg_strdup(s);
}

/* Is s a valid field name (token)? */
static int
cfg_field_name(const char *s, size_t len)
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
static int
cfg_name_value(const char *v, char *name, size_t nlen, const char **value)
{
	const char	*colon = strchr(v, ':');
	size_t		 len;

	if (colon == NULL)
		return -1;
	len = (size_t)(colon - v);
	if (len >= nlen || !cfg_field_name(v, len))
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

static void
cfg_append(char **lines, const char *name, const char *value)
{
	size_t	 old = *lines ? strlen(*lines) : 0;
	size_t	 add = strlen(name) + strlen(value) + 5;

	if ((*lines = realloc(*lines, old + add)) == NULL)
		fatal("realloc");
	snprintf(*lines + old, add, "%s: %s\r\n", name, value);
}

/* error_page = CODE FILE: read now, served by workers from memory. */
static void
cfg_error_page(struct cfg_parse *p, const char *value)
{
	struct error_page	 ep;
	unsigned long		 code;
	char			 err[256], *dup, *tok, *save = NULL;
	FILE			*fp;
	long			 len;

	dup = cfg_strdup(value);
	tok = strtok_r(dup, " \t", &save);
	if (tok == NULL || util_parse_uint(tok, 400, 599, &code, err,
	    sizeof(err)) == -1 || (tok = strtok_r(NULL, " \t", &save)) ==
	    NULL) {
		cfg_error(p, p->lineno, "error_page: expected CODE FILE with "
		    "CODE from 400 to 599");
		goto out;
	}
	if ((fp = fopen(tok, "r")) == NULL) {
		cfg_error(p, p->lineno, "error_page: cannot open %s: %s", tok,
		    strerror(errno));
		goto out;
	}
	if (fseek(fp, 0, SEEK_END) == -1 || (len = ftell(fp)) < 0 ||
	    len > 65536 || fseek(fp, 0, SEEK_SET) == -1) {
		cfg_error(p, p->lineno, "error_page: %s is larger than 64 KiB "
		    "or unreadable", tok);
		fclose(fp);
		goto out;
	}
	ep.status = (int)code;
	ep.len = (size_t)len;
	if ((ep.body = malloc(ep.len + 1)) == NULL)
		fatal("malloc");
	if (fread(ep.body, 1, ep.len, fp) != ep.len) {
		cfg_error(p, p->lineno, "error_page: cannot read %s", tok);
		free(ep.body);
		fclose(fp);
		goto out;
	}
	fclose(fp);
	p->c->error_pages = cfg_grow(p->c->error_pages, p->c->nerror_pages,
	    sizeof(ep));
	p->c->error_pages[p->c->nerror_pages++] = ep;
out:
	free(dup);
}

/* Route keys beyond host/path/pool; returns 1 when name was handled. */
static int
cfg_route_special(struct cfg_parse *p, struct route_config *r,
    const char *name, const char *value)
{
	char		 fname[128], *dup, *tok, *save = NULL, err[256];
	const char	*fval;
	unsigned long	 code;
	int		 rc;

	if (strcmp(name, "listen") == 0 || strcmp(name, "methods") == 0) {
		dup = cfg_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save)) {
			if (name[0] == 'l')
				cfg_list_add(&r->listens, &r->nlistens, tok);
			else if (!cfg_field_name(tok, strlen(tok)))
				cfg_error(p, p->lineno, "methods: invalid "
				    "method \"%s\"", tok);
			else
				cfg_list_add(&r->methods, &r->nmethods, tok);
		}
		free(dup);
	} else if (strcmp(name, "allow_methods") == 0) {
		dup = cfg_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save))
			if (!cfg_field_name(tok, strlen(tok)))
				cfg_error(p, p->lineno, "allow_methods: "
				    "invalid method \"%s\"", tok);
			else
				cfg_list_add(&r->allow_methods,
				    &r->nallow_methods, tok);
		free(dup);
	} else if (strcmp(name, "deny_path_regex") == 0) {
		if ((rc = regcomp(&r->deny_regex, value, REG_EXTENDED |
		    REG_NOSUB)) != 0) {
			regerror(rc, &r->deny_regex, err, sizeof(err));
			cfg_error(p, p->lineno, "deny_path_regex: %s", err);
			return 1;
		}
		r->deny_path_regex = cfg_strdup(value);
	} else if (strcmp(name, "deny_header") == 0) {
		r->deny_headers = cfg_grow(r->deny_headers, r->ndeny_headers,
		    sizeof(*r->deny_headers));
		if (cfg_name_value(value, fname, sizeof(fname), &fval) == 0) {
			r->deny_headers[r->ndeny_headers].name =
			    cfg_strdup(fname);
			r->deny_headers[r->ndeny_headers++].value =
			    cfg_strdup(fval);
		} else if (cfg_field_name(value, strlen(value))) {
			r->deny_headers[r->ndeny_headers++].name =
			    cfg_strdup(value);
		} else
			cfg_error(p, p->lineno, "deny_header: expected NAME "
			    "or NAME: value");
	} else if (strcmp(name, "rate_limit") == 0) {
		unsigned	 rate = 0, burst = 0;
		int		 used = 0;

		if (sscanf(value, "%ur/s%n", &rate, &used) != 1 ||
		    rate == 0 || rate > 1000000) {
			cfg_error(p, p->lineno, "rate_limit: expected "
			    "Nr/s [burst=N]");
			return 1;
		}
		for (tok = (char *)(uintptr_t)value + used; *tok == ' ' ||
		    *tok == '\t'; tok++)
			;
		if (*tok != '\0' && (sscanf(tok, "burst=%u%n", &burst,
		    &used) != 1 || tok[used] != '\0')) {
			cfg_error(p, p->lineno, "rate_limit: expected "
			    "Nr/s [burst=N]");
			return 1;
		}
		r->rate = rate;
		r->burst = burst ? burst : rate;
	} else if (strcmp(name, "rate_limit_key") == 0) {
		if (strcmp(value, "client_ip") == 0)
			r->rate_key[0] = '\0';
		else if (strncmp(value, "header:", 7) == 0 &&
		    cfg_field_name(value + 7, strlen(value + 7)) &&
		    strlen(value + 7) < sizeof(r->rate_key))
			snprintf(r->rate_key, sizeof(r->rate_key), "%s",
			    value + 7);
		else
			cfg_error(p, p->lineno, "rate_limit_key: expected "
			    "client_ip or header:NAME");
	} else if (strcmp(name, "path_regex") == 0) {
		if ((rc = regcomp(&r->regex, value, REG_EXTENDED |
		    REG_NOSUB)) != 0) {
			regerror(rc, &r->regex, err, sizeof(err));
			cfg_error(p, p->lineno, "path_regex: %s", err);
			return 1;
		}
		r->path_regex = cfg_strdup(value);
	} else if (strcmp(name, "header") == 0) {
		if (cfg_name_value(value, fname, sizeof(fname), &fval) == -1) {
			cfg_error(p, p->lineno, "header: expected NAME: value");
			return 1;
		}
		r->headers = cfg_grow(r->headers, r->nheaders,
		    sizeof(*r->headers));
		r->headers[r->nheaders].name = cfg_strdup(fname);
		r->headers[r->nheaders++].value = cfg_strdup(fval);
	} else if (strcmp(name, "strip_prefix") == 0) {
		if (value[0] != '/') {
			cfg_error(p, p->lineno, "strip_prefix: \"%s\" must "
			    "start with '/'", value);
			return 1;
		}
		r->strip_prefix = cfg_strdup(value);
	} else if (strcmp(name, "add_request_header") == 0 ||
	    strcmp(name, "add_response_header") == 0) {
		if (cfg_name_value(value, fname, sizeof(fname), &fval) == -1) {
			cfg_error(p, p->lineno, "%s: expected NAME: value",
			    name);
			return 1;
		}
		cfg_append(name[4] == 'r' && name[6] == 'q' ? &r->req_add :
		    &r->resp_add, fname, fval);
	} else if (strcmp(name, "remove_request_header") == 0 ||
	    strcmp(name, "remove_response_header") == 0) {
		dup = cfg_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save)) {
			if (!cfg_field_name(tok, strlen(tok)))
				cfg_error(p, p->lineno, "%s: invalid field "
				    "name \"%s\"", name, tok);
			else if (strcmp(name, "remove_request_header") == 0)
				cfg_list_add(&r->req_remove, &r->nreq_remove,
				    tok);
			else
				cfg_list_add(&r->resp_remove,
				    &r->nresp_remove, tok);
		}
		free(dup);
	} else if (strcmp(name, "return") == 0) {
		dup = cfg_strdup(value);
		tok = strtok_r(dup, " \t", &save);
		if (tok == NULL || util_parse_uint(tok, 200, 599, &code, err,
		    sizeof(err)) == -1) {
			cfg_error(p, p->lineno, "return: expected CODE [URL] "
			    "with CODE from 200 to 599");
			free(dup);
			return 1;
		}
		r->return_code = (int)code;
		tok = strtok_r(NULL, "", &save);
		if (tok != NULL) {
			while (*tok == ' ' || *tok == '\t')
				tok++;
			r->return_url = cfg_strdup(tok);
		} else if (code >= 300 && code < 400) {
			cfg_error(p, p->lineno, "return: a redirect needs a "
			    "URL");
		}
		free(dup);
	} else
		return 0;
	return 1;
}

static void
cfg_special(struct cfg_parse *p, const char *name, const char *value)
{
	char		 err[256];
	struct addr	 a;

	if ((p->sec == S_LISTEN || p->sec == S_ADMIN) &&
	    strcmp(name, "address") == 0) {
		struct addr	**addrs;
		size_t		 *naddrs;

		if (p->sec == S_LISTEN) {
			addrs = &((struct listen_config *)p->obj)->addrs;
			naddrs = &((struct listen_config *)p->obj)->naddrs;
		} else {
			addrs = &p->c->admin.addrs;
			naddrs = &p->c->admin.naddrs;
		}
		if (util_parse_addr(value, &a, err, sizeof(err)) == -1) {
			cfg_error(p, p->lineno, "address: %s", err);
			return;
		}
		if (util_addr_port(&a) != 0 && cfg_addr_dup(p->c, &a)) {
			cfg_error(p, p->lineno, "address %s is already used by "
			    "another listen address", a.str);
			return;
		}
		*addrs = cfg_grow(*addrs, *naddrs, sizeof(**addrs));
		(*addrs)[(*naddrs)++] = a;
	} else if (p->sec == S_LISTEN && (strcmp(name, "tls_certificate") ==
	    0 || strcmp(name, "tls_key") == 0)) {
		struct listen_config *l = p->obj;

		/* each certificate, then (optionally) its key */
		if (name[4] == 'c') {
			l->certs = cfg_grow(l->certs, l->ncerts,
			    sizeof(*l->certs));
			l->certs[l->ncerts].cert = cfg_strdup(value);
			l->certs[l->ncerts++].line = p->lineno;
		} else if (l->ncerts == 0 || l->certs[l->ncerts - 1].key) {
			cfg_error(p, p->lineno, "tls_key must follow its "
			    "tls_certificate");
		} else
			l->certs[l->ncerts - 1].key = cfg_strdup(value);
	} else if ((p->sec == S_ADMIN && strcmp(name, "allow") == 0) ||
	    (p->sec == S_CACHE && strcmp(name, "purge_allow") == 0) ||
	    (p->sec == S_ROUTE && (strcmp(name, "allow") == 0 ||
	    strcmp(name, "deny") == 0)) ||
	    (p->sec == S_PORTER && strcmp(name, "trusted_proxies") == 0)) {
		struct route_config *rt = p->obj;
		struct cidr	**list;
		size_t		 *n;

		if (p->sec == S_ADMIN) {
			list = &p->c->admin.allow;
			n = &p->c->admin.nallow;
		} else if (p->sec == S_CACHE) {
			list = &p->c->cache.purge_allow;
			n = &p->c->cache.npurge_allow;
		} else if (p->sec == S_PORTER) {
			list = &p->c->trusted;
			n = &p->c->ntrusted;
		} else if (name[0] == 'a') {
			list = &rt->allow;
			n = &rt->nallow;
		} else {
			list = &rt->deny;
			n = &rt->ndeny;
		}
		char	*dup, *tok, *save = NULL;
		struct cidr cidr;

		dup = cfg_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save)) {
			if (util_parse_cidr(tok, &cidr, err, sizeof(err)) == -1) {
				cfg_error(p, p->lineno, "%s: %s", name, err);
				continue;
			}
			*list = cfg_grow(*list, *n, sizeof(**list));
			(*list)[(*n)++] = cidr;
		}
		free(dup);
	} else if (p->sec == S_POOL && strcmp(name, "server") == 0) {
		cfg_server(p, p->obj, value);
	} else if (p->sec == S_POOL) {
		cfg_pool_special(p, p->obj, name, value);
	} else if (p->sec == S_ROUTE && strcmp(name, "host") == 0) {
		struct route_config *r = p->obj;
		char	*dup, *tok, *save = NULL;

		dup = cfg_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save)) {
			if (strchr(tok + (tok[0] == '*'), '*') != NULL ||
			    (tok[0] == '*' && tok[1] != '.')) {
				cfg_error(p, p->lineno, "host: invalid name "
				    "\"%s\" (a wildcard is \"*.domain\")", tok);
				continue;
			}
			r->hosts = cfg_grow(r->hosts, r->nhosts,
			    sizeof(*r->hosts));
			r->hosts[r->nhosts++] = cfg_strdup(tok);
		}
		free(dup);
	} else if (p->sec == S_PORTER && strcmp(name, "hide_headers") == 0) {
		char	*dup, *tok, *save = NULL;

		dup = cfg_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save))
			cfg_list_add(&p->c->hide_headers,
			    &p->c->nhide_headers, tok);
		free(dup);
	} else if (p->sec == S_PORTER && strcmp(name, "error_page") == 0) {
		cfg_error_page(p, value);
	} else if (p->sec == S_ROUTE && cfg_route_special(p, p->obj, name,
	    value)) {
		/* done */
	} else if (p->sec == S_ROUTE && strcmp(name, "path") == 0) {
		struct route_config *r = p->obj;

		if (value[0] != '/') {
			cfg_error(p, p->lineno, "path: \"%s\" must start with "
			    "'/'", value);
			return;
		}
		r->path = cfg_strdup(value);
	} else if (p->sec == S_ROUTE && strcmp(name, "pool") == 0) {
		struct route_config *r = p->obj;

		snprintf(r->pool_name, sizeof(r->pool_name), "%s", value);
		r->pool_line = p->lineno;
	}
}

/* Keys that may appear several times in a section, adding items. */
static int
cfg_repeatable(const struct cfg_key *k)
{
	static const char *const rep[] = {
		"address", "server", "host", "allow", "methods", "header",
		"purge_allow", "tls_certificate", "tls_key", "deny",
		"allow_methods", "deny_header", "hide_headers", "error_page",
		"trusted_proxies",
		"add_request_header", "remove_request_header",
		"add_response_header", "remove_response_header"
	};
	size_t	 i;

	if (k->type != T_SPECIAL)
		return 0;
	for (i = 0; i < sizeof(rep) / sizeof(rep[0]); i++)
		if (strcmp(k->name, rep[i]) == 0)
			return 1;
	return 0;
}

static int
cfg_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct cfg_parse	*p = user;
	const struct cfg_key	*k = NULL;
	char			 err[256];
	char			*field;
	size_t			 i;
	unsigned long		 u;
	uint64_t		 sz;
	int			 ms, b, lvl;

	(void)section;
	if (p->sec == S_BAD)
		return 1;	/* already reported at the section line */
	if (p->sec == S_NONE) {
		cfg_error(p, p->lineno, "\"%s\" outside of any section",
		    name);
		return 1;
	}
	for (i = 0; i < CFG_NKEYS; i++)
		if (cfg_keys[i].section == p->sec &&
		    strcmp(cfg_keys[i].name, name) == 0) {
			k = &cfg_keys[i];
			break;
		}
	if (k == NULL) {
		cfg_error(p, p->lineno, "unknown key \"%s\" in [%s]", name,
		    section);
		return 1;
	}
	if (!cfg_repeatable(k)) {
		if (p->seen[i]) {
			cfg_error(p, p->lineno, "duplicate key \"%s\"", name);
			return 1;
		}
		p->seen[i] = 1;
		if (p->sec == S_PORTER)
			p->key_line[i] = p->lineno;
	}
	field = (char *)p->obj + k->offset;
	switch (k->type) {
	case T_UINT:
		if (util_parse_uint(value, k->min, k->max, &u, err,
		    sizeof(err)) == -1)
			goto bad;
		*(unsigned *)(void *)field = (unsigned)u;
		break;
	case T_SIZE:
		if (util_parse_size(value, &sz, err, sizeof(err)) == -1)
			goto bad;
		if ((k->min != 0 && sz < k->min) ||
		    (k->max != 0 && sz > k->max)) {
			snprintf(err, sizeof(err), "size %s out of range "
			    "(%lu to %lu bytes)", value, k->min, k->max);
			goto bad;
		}
		*(uint64_t *)(void *)field = sz;
		break;
	case T_DURATION:
		if (util_parse_duration(value, &ms, err, sizeof(err)) == -1)
			goto bad;
		if ((unsigned long)ms < k->min) {
			snprintf(err, sizeof(err), "duration %s is too short",
			    value);
			goto bad;
		}
		*(int *)(void *)field = ms;
		break;
	case T_BOOL:
		if (util_parse_bool(value, &b, err, sizeof(err)) == -1)
			goto bad;
		*(int *)(void *)field = b;
		break;
	case T_LOGLEVEL:
		if ((lvl = log_level_parse(value)) == -1) {
			snprintf(err, sizeof(err), "invalid level \"%s\" "
			    "(error, warn, notice, info or debug)", value);
			goto bad;
		}
		*(int *)(void *)field = lvl;
		break;
	case T_OFFSTRING:
		free(*(char **)(void *)field);
		*(char **)(void *)field = strcmp(value, "off") == 0 ? NULL :
		    cfg_strdup(value);
		break;
	case T_STRING:
		if (*value == '\0') {
			snprintf(err, sizeof(err), "empty value");
			goto bad;
		}
		free(*(char **)(void *)field);
		*(char **)(void *)field = cfg_strdup(value);
		break;
	case T_SPECIAL:
		cfg_special(p, name, value);
		break;
	}
	return 1;
bad:
	cfg_error(p, p->lineno, "%s: %s", name, err);
	return 1;
}

static int
cfg_ring_cmp(const void *a, const void *b)
{
	const struct ring_point *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/*
 * The consistent-hash ring of a pool (ketama style): 100 points per unit
 * of weight for each primary server, at hashes of its address, so that
 * removing one of N servers moves about 1/N of the keys.
 */
static void
cfg_ring(struct pool_config *pc)
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
	qsort(pc->ring, pc->nring, sizeof(*pc->ring), cfg_ring_cmp);
}

/* An allow list nobody set means loopback only. */
static void
cfg_loopback(struct cidr **list, size_t *n)
{
	char	 err[128];

	if (*n != 0)
		return;
	*list = cfg_grow(*list, 0, sizeof(**list));
	(void)util_parse_cidr("127.0.0.0/8", &(*list)[0], err, sizeof(err));
	*list = cfg_grow(*list, 1, sizeof(**list));
	(void)util_parse_cidr("::1", &(*list)[1], err, sizeof(err));
	*n = 2;
}

/* Line of key name in [porter], for errors about relations of keys. */
static int
cfg_porter_line(struct cfg_parse *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < CFG_NKEYS; i++)
		if (cfg_keys[i].section == S_PORTER &&
		    strcmp(cfg_keys[i].name, name) == 0 && p->key_line[i] != 0)
			return p->key_line[i];
	return p->porter_line;
}

static void
cfg_validate_workers(struct cfg_parse *p)
{
	struct config	*c = p->c;

	if (c->workers > c->max_workers)
		cfg_error(p, cfg_porter_line(p, "workers"), "workers (%u) is "
		    "more than max_workers (%u)", c->workers, c->max_workers);
	if (c->max_spare_workers == 0) {
		c->max_spare_workers = c->workers;
		if (c->max_spare_workers <= c->min_spare_workers)
			c->max_spare_workers = c->min_spare_workers + 1;
	} else if (c->max_spare_workers <= c->min_spare_workers)
		cfg_error(p, cfg_porter_line(p, "max_spare_workers"),
		    "max_spare_workers (%u) must be more than "
		    "min_spare_workers (%u)", c->max_spare_workers,
		    c->min_spare_workers);
	if (c->min_spare_workers > c->max_workers)
		cfg_error(p, cfg_porter_line(p, "min_spare_workers"),
		    "min_spare_workers (%u) is more than max_workers (%u)",
		    c->min_spare_workers, c->max_workers);
}

static void
cfg_validate(struct cfg_parse *p)
{
	struct config	*c = p->c;
	size_t		 i, j;
	char		 err[256];

	cfg_validate_workers(p);
	if (c->access_log_format != NULL &&
	    alog_format_check(c->access_log_format, err, sizeof(err)) == -1)
		cfg_error(p, cfg_porter_line(p, "access_log_format"),
		    "access_log_format: %s", err);
	if (c->syslog_facility != NULL &&
	    log_facility_parse(c->syslog_facility) == -1)
		cfg_error(p, cfg_porter_line(p, "syslog_facility"),
		    "syslog_facility: unknown facility \"%s\" (daemon, "
		    "local0 ... local7, user)", c->syslog_facility);
	if (c->admin.line != 0 && c->admin.naddrs == 0)
		cfg_error(p, c->admin.line, "[admin] has no address");
	for (i = 0; i < c->nlistens; i++) {
		int	 line;

		if (c->listens[i].ncerts > 0 && tls_server_ctx(&c->listens[i],
		    &line, err, sizeof(err)) == -1)
			cfg_error(p, line, "%s", err);
	}
	for (i = 0; i < c->npools; i++)
		if (c->pools[i].tls && tls_client_ctx(&c->pools[i], err,
		    sizeof(err)) == -1)
			cfg_error(p, c->pools[i].line, "[pool %s]: %s",
			    c->pools[i].name, err);
	if (c->nhide_headers == 0)
		cfg_list_add(&c->hide_headers, &c->nhide_headers,
		    "X-Powered-By");
	cfg_loopback(&c->admin.allow, &c->admin.nallow);
	cfg_loopback(&c->cache.purge_allow, &c->cache.npurge_allow);
	/* no object may take more than a quarter of the store */
	if (c->cache.max_object_size > c->cache.size / 4)
		c->cache.max_object_size = c->cache.size / 4;
	for (i = 0; i < c->nroutes; i++)
		if (c->routes[i].cache && c->cache.line == 0)
			cfg_error(p, c->routes[i].line, "[route %s] has cache "
			    "= on but there is no [cache] section",
			    c->routes[i].name);

	if (c->nlistens == 0)
		cfg_error(p, p->lineno, "no [listen NAME] section: porter "
		    "needs at least one address to listen on");
	for (i = 0; i < c->nlistens; i++)
		if (c->listens[i].naddrs == 0)
			cfg_error(p, c->listens[i].line, "[listen %s] has no "
			    "address", c->listens[i].name);
	if (c->npools == 0)
		cfg_error(p, p->lineno, "no [pool NAME] section: porter "
		    "needs at least one pool of servers");
	for (i = 0; i < c->npools; i++) {
		if (c->pools[i].nservers == 0)
			cfg_error(p, c->pools[i].line, "[pool %s] has no "
			    "server", c->pools[i].name);
		if (c->pools[i].balance == BALANCE_HASH)
			cfg_ring(&c->pools[i]);
	}
	for (i = 0; i < c->nroutes; i++) {
		struct route_config *r = &c->routes[i];

		if (r->nlistens > 0) {
			r->listen_idx = calloc(r->nlistens,
			    sizeof(*r->listen_idx));
			if (r->listen_idx == NULL)
				fatal("calloc");
		}
		for (j = 0; j < r->nlistens; j++) {
			size_t	 l;

			for (l = 0; l < c->nlistens; l++)
				if (strcmp(c->listens[l].name,
				    r->listens[j]) == 0)
					break;
			if (l == c->nlistens)
				cfg_error(p, r->line, "[route %s]: no [listen "
				    "%s]", r->name, r->listens[j]);
			r->listen_idx[j] = l;
		}
		if (r->pool_name[0] == '\0') {
			if (r->return_code == 0)
				cfg_error(p, r->line, "[route %s] has no pool "
				    "(and no return)", r->name);
			continue;
		}
		for (j = 0; j < c->npools; j++)
			if (strcmp(c->pools[j].name, r->pool_name) == 0)
				break;
		if (j == c->npools)
			cfg_error(p, r->pool_line, "pool \"%s\" is not "
			    "defined", r->pool_name);
		else
			r->pool = j;
	}
	if (c->nroutes == 0 && c->npools > 1)
		cfg_error(p, c->pools[1].line, "several pools but no [route]: "
		    "add routes that say which requests go to which pool");
}

static struct config *
cfg_defaults(const char *path)
{
	struct config	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->file = cfg_strdup(path);
	c->workers = 4;
	c->min_spare_workers = 2;
	c->max_workers = 256;
	c->pid_file = cfg_strdup(PORTER_RUNSTATEDIR "/porter.pid");
	c->error_log = cfg_strdup("stderr");
	c->log_level = LOG_L_NOTICE;
	c->access_log = NULL;
	c->client_header_timeout = 60000;
	c->client_body_timeout = 60000;
	c->send_timeout = 60000;
	c->keepalive_timeout = 75000;
	c->keepalive_requests = 1000;
	c->tunnel_timeout = 3600000;
	c->shutdown_timeout = 30000;
	c->max_header_size = 16384;
	c->max_uri_length = 8192;
	c->max_headers = 100;
	c->client_max_body_size = 1024 * 1024 * 1024;
	c->server_tokens = 1;
	c->tls_ticket_rotation = 12 * 3600 * 1000;
	c->cache.size = 256ULL * 1024 * 1024;
	c->cache.max_object_size = 8ULL * 1024 * 1024;
	c->cache.lock_timeout = 5000;
	c->cache.pass_ttl = 10000;
	return c;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct cfg_parse	 p;
	int			 rc;

	memset(&p, 0, sizeof(p));
	p.file = path;
	p.err = err;
	p.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if ((p.fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s\n", path,
		    strerror(errno));
		return NULL;
	}
	p.c = cfg_defaults(path);
	rc = ini_parse_stream(cfg_reader, &p, cfg_handler, &p);
	fclose(p.fp);
	if (rc > 0)
		cfg_error(&p, rc, "syntax error (expected [section] or "
		    "key = value)");
	else if (rc < 0)
		cfg_error(&p, 0, "cannot parse (out of memory)");
	cfg_validate(&p);
	if (p.nerr > 0) {
		config_free(p.c);
		return NULL;
	}
	return p.c;
}

static void
cfg_list_free(char **list, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void
config_free(struct config *c)
{
	size_t	 i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->nlistens; i++) {
		struct listen_config *l = &c->listens[i];

		free(l->addrs);
		for (j = 0; j < l->ncerts; j++) {
			free(l->certs[j].cert);
			free(l->certs[j].key);
		}
		free(l->certs);
		free(l->tls_protocols);
		free(l->tls_ciphers);
		free(l->tls_ciphersuites);
		free(l->tls_curves);
		tls_ctx_free(l->tls_ctx);
	}
	free(c->listens);
	for (i = 0; i < c->npools; i++) {
		free(c->pools[i].servers);
		free(c->pools[i].ring);
		free(c->pools[i].check_body);
		free(c->pools[i].tls_ca_file);
		free(c->pools[i].tls_server_name);
		free(c->pools[i].tls_certificate);
		free(c->pools[i].tls_key);
		tls_ctx_free(c->pools[i].tls_ctx);
	}
	free(c->pools);
	for (i = 0; i < c->nroutes; i++) {
		struct route_config *r = &c->routes[i];

		cfg_list_free(r->hosts, r->nhosts);
		cfg_list_free(r->listens, r->nlistens);
		cfg_list_free(r->methods, r->nmethods);
		cfg_list_free(r->req_remove, r->nreq_remove);
		cfg_list_free(r->resp_remove, r->nresp_remove);
		for (j = 0; j < r->nheaders; j++) {
			free(r->headers[j].name);
			free(r->headers[j].value);
		}
		free(r->headers);
		for (j = 0; j < r->ndeny_headers; j++) {
			free(r->deny_headers[j].name);
			free(r->deny_headers[j].value);
		}
		free(r->deny_headers);
		free(r->allow);
		free(r->deny);
		cfg_list_free(r->allow_methods, r->nallow_methods);
		if (r->deny_path_regex != NULL)
			regfree(&r->deny_regex);
		free(r->deny_path_regex);
		free(r->listen_idx);
		free(r->path);
		if (r->path_regex != NULL)
			regfree(&r->regex);
		free(r->path_regex);
		free(r->strip_prefix);
		free(r->req_add);
		free(r->resp_add);
		free(r->return_url);
	}
	free(c->routes);
	free(c->admin.addrs);
	cfg_list_free(c->hide_headers, c->nhide_headers);
	for (i = 0; i < c->nerror_pages; i++)
		free(c->error_pages[i].body);
	free(c->error_pages);
	free(c->trusted);
	free(c->admin.allow);
	free(c->cache.purge_allow);
	free(c->access_log_format);
	free(c->syslog_facility);
	free(c->file);
	free(c->pid_file);
	free(c->error_log);
	free(c->access_log);
	free(c->user);
	free(c->group);
	free(c->chroot);
	free(c);
}
