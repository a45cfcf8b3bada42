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
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ini.h>

#include "alog.h"
#include "config.h"
#include "config_int.h"
#include "http_parse.h"
#include "log.h"
#include "tls.h"



#define P(f)	offsetof(struct config, f)
#define L(f)	offsetof(struct listen_config, f)
#define O(f)	offsetof(struct pool_config, f)
#define R(f)	offsetof(struct route_config, f)
#define C(f)	offsetof(struct cache_config, f)
#define W(f)	offsetof(struct waf_config, f)

const struct cfg_key config_keys[] = {
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
	{ S_PORTER, "sched_batch", T_BOOL, P(sched_batch), 0, 0 },
	{ S_PORTER, "splice", T_BOOL, P(splice), 0, 0 },
	{ S_PORTER, "client_min_rate", T_UINT, P(client_min_rate), 0,
	    100000000 },
	{ S_PORTER, "seccomp", T_BOOL, P(seccomp), 0, 0 },
	{ S_PORTER, "compression", T_BOOL, P(compress.on), 0, 0 },
	{ S_PORTER, "compression_types", T_SPECIAL, 0, 0, 0 },
	{ S_PORTER, "compression_min_length", T_SIZE, P(compress.min_length),
	    0, 0 },
	{ S_PORTER, "compression_level", T_UINT, P(compress.level), 1, 9 },
	{ S_PORTER, "park_after", T_DURATION, P(park_after), 0, 0 },
	{ S_PORTER, "max_connections", T_UINT, P(max_connections), 64,
	    1000000 },
	{ S_PORTER, "request_buffering", T_BOOL, P(request_buffering), 0, 0 },
	{ S_PORTER, "spool_dir", T_STRING, P(spool_dir), 0, 0 },
	{ S_PORTER, "spool_max_size", T_SIZE, P(spool_max_size), 0, 0 },

	{ S_LISTEN, "address", T_SPECIAL, 0, 0, 0 },
	{ S_LISTEN, "backlog", T_UINT, L(backlog), 1, 65535 },
	{ S_LISTEN, "tls_certificate", T_SPECIAL, 0, 0, 0 },
	{ S_LISTEN, "tls_key", T_SPECIAL, 0, 0, 0 },
	{ S_LISTEN, "tls_ocsp_response", T_SPECIAL, 0, 0, 0 },
	{ S_LISTEN, "tls_protocols", T_STRING, L(tls_protocols), 0, 0 },
	{ S_LISTEN, "tls_ciphers", T_STRING, L(tls_ciphers), 0, 0 },
	{ S_LISTEN, "tls_ciphersuites", T_STRING, L(tls_ciphersuites), 0, 0 },
	{ S_LISTEN, "tls_curves", T_STRING, L(tls_curves), 0, 0 },
	{ S_LISTEN, "tls_client_ca", T_STRING, L(tls_client_ca), 0, 0 },
	{ S_LISTEN, "tls_verify_client", T_SPECIAL, 0, 0, 0 },
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
	{ S_ROUTE, "compression", T_BOOL, R(compress.on), 0, 0 },
	{ S_ROUTE, "compression_types", T_SPECIAL, 0, 0, 0 },
	{ S_ROUTE, "compression_min_length", T_SIZE, R(compress.min_length),
	    0, 0 },
	{ S_ROUTE, "compression_level", T_UINT, R(compress.level), 1, 9 },
	{ S_ROUTE, "request_buffering", T_BOOL, R(request_buffering), 0, 0 },
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
	{ S_CACHE, "stale_if_error", T_DURATION, C(stale_if_error), 0, 0 },
	{ S_CACHE, "purge_allow", T_SPECIAL, 0, 0, 0 },

	{ S_ROUTE, "waf", T_SPECIAL, 0, 0, 0 },
	{ S_WAF, "rules", T_SPECIAL, 0, 0, 0 },
	{ S_WAF, "audit_log", T_STRING, W(audit_log), 0, 0 },
	{ S_WAF, "body_limit", T_SIZE, W(body_limit), 1, 1ULL << 30 },

	{ S_ADMIN, "address", T_SPECIAL, 0, 0, 0 },
	{ S_ADMIN, "allow", T_SPECIAL, 0, 0, 0 },
};

#define CFG_NKEYS	(sizeof(config_keys) / sizeof(config_keys[0]))
const size_t config_nkeys = CFG_NKEYS;
_Static_assert(CFG_NKEYS <= CFG_MAX_KEYS, "raise CFG_MAX_KEYS");



void
config_error(struct config_parse *p, int line, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	p->nerr++;
	if (p->erroff + 1 >= p->errlen)
		return;
	if (CONFIG_POS_FILE(line) < p->c->nfiles)
		n = snprintf(p->err + p->erroff, p->errlen - p->erroff,
		    "%s:%d: ", p->c->files[CONFIG_POS_FILE(line)],
		    CONFIG_POS_LINE(line));
	else
		n = snprintf(p->err + p->erroff, p->errlen - p->erroff,
		    "%s:%d: ", p->file, line);
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

void *
config_grow(void *arr, size_t n, size_t size)
{
	void	*r;

	/* grow one element at a time: configurations are small */
	if ((r = realloc(arr, (n + 1) * size)) == NULL)
		fatal("realloc");
	memset((char *)r + n * size, 0, size);
	return r;
}

char *
config_strdup(const char *s)
{
	char	*r;

	if ((r = strdup(s)) == NULL)
		fatal("strdup");
	return r;
}

int
config_valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) >= CONFIG_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("_.-", *s) == NULL)
			return 0;
	return 1;
}

/*
 * One level of include: the files a pattern matched, read one after the
 * other, and what to go back to after the last.  Each file starts in the
 * includer's section; sections it opens end with it.
 */
struct cfg_frame {
	char		**paths;
	size_t		 npaths, next;
	char		 real[PATH_MAX];	/* of the file being read */
	FILE		*parent_fp;
	unsigned	 parent_file;
	int		 parent_line;
	int		 include_pos;		/* of the include line */
	enum config_section sec;
	void		*obj;
	int		 sec_line;
	unsigned char	 seen[CFG_MAX_KEYS];
};

/* Start of a new section, seen by the reader on line p->lineno. */
static void
cfg_section(struct config_parse *p, const char *hdr)
{
	struct config	*c = p->c;
	char		 kind[16], name[CONFIG_NAME_MAX + 16], where[4200];
	size_t		 i;
	int		 n;

	/* an include leaves its includer's section: keep what was set */
	for (n = 0; n < p->depth; n++)
		if (p->frames[n].sec_line == p->sec_line)
			memcpy(p->frames[n].seen, p->seen, sizeof(p->seen));
	memset(p->seen, 0, sizeof(p->seen));
	p->sec = S_BAD;
	p->obj = NULL;
	p->sec_line = p->lineno;
	name[0] = '\0';
	n = sscanf(hdr, "%15s %79s", kind, name);
	if (n < 1) {
		config_error(p, p->lineno, "empty section name");
		return;
	}
	if (strcmp(kind, "porter") == 0 && n == 1) {
		if (p->porter_line != 0) {
			config_where(c, p->porter_line, where, sizeof(where));
			config_error(p, p->lineno, "duplicate section [porter] "
			    "(first at %s)", where);
			return;
		}
		p->porter_line = p->lineno;
		c->porter_line = p->lineno;
		p->sec = S_PORTER;
		p->obj = c;
		return;
	}
	if (strcmp(kind, "cache") == 0 && n == 1) {
		if (c->cache.line != 0) {
			config_where(c, c->cache.line, where, sizeof(where));
			config_error(p, p->lineno, "duplicate section [cache] "
			    "(first at %s)", where);
			return;
		}
		c->cache.line = p->lineno;
		p->sec = S_CACHE;
		p->obj = &c->cache;
		return;
	}
	if (strcmp(kind, "waf") == 0 && n == 1) {
		config_waf_section(p);
		return;
	}
	if (strcmp(kind, "admin") == 0 && n == 1) {
		if (c->admin.line != 0) {
			config_where(c, c->admin.line, where, sizeof(where));
			config_error(p, p->lineno, "duplicate section [admin] "
			    "(first at %s)", where);
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
			config_error(p, p->lineno, "section [%s] needs one name, "
			    "as in [%s NAME]", kind, kind);
		else
			config_error(p, p->lineno, "unknown section [%s]", hdr);
		return;
	}
	if (!config_valid_name(name)) {
		config_error(p, p->lineno, "invalid name \"%s\" (letters, digits, "
		    "'_', '.', '-'; at most %d)", name, CONFIG_NAME_MAX - 1);
		return;
	}
	if (strcmp(kind, "listen") == 0) {
		for (i = 0; i < c->nlistens; i++)
			if (strcmp(c->listens[i].name, name) == 0)
				goto dup;
		c->listens = config_grow(c->listens, c->nlistens,
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
		c->pools = config_grow(c->pools, c->npools, sizeof(*c->pools));
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
		c->routes = config_grow(c->routes, c->nroutes, sizeof(*c->routes));
		p->obj = &c->routes[c->nroutes++];
		snprintf(((struct route_config *)p->obj)->name,
		    CONFIG_NAME_MAX, "%s", name);
		((struct route_config *)p->obj)->line = p->lineno;
		config_compress_defaults(&((struct route_config *)
		    p->obj)->compress);
		((struct route_config *)p->obj)->request_buffering = -1;
		p->sec = S_ROUTE;
	} else
		config_error(p, p->lineno, "unknown section [%s]", hdr);
	return;
dup:
	config_error(p, p->lineno, "duplicate section [%s %s]", kind, name);
}

/* Back to the includer's section, unless the file stayed in it. */
static void
cfg_frame_section(struct config_parse *p, struct cfg_frame *f)
{
	if (p->sec_line == f->sec_line)
		return;
	p->sec = f->sec;
	p->obj = f->obj;
	p->sec_line = f->sec_line;
	memcpy(p->seen, f->seen, sizeof(p->seen));
}

/*
 * Open the next file of the innermost include; when none is left, go
 * back to the file that included them.  Returns 0 once back there.
 */
static int
cfg_include_next(struct config_parse *p)
{
	struct cfg_frame	*f = &p->frames[p->depth - 1];
	char			 real[PATH_MAX], top[PATH_MAX];
	struct stat		 st;
	const char		*path;
	FILE			*fp;
	int			 i;

	while (f->next < f->npaths) {
		path = f->paths[f->next++];
		cfg_frame_section(p, f);
		if (realpath(path, real) == NULL ||
		    (fp = fopen(path, "r")) == NULL) {
			config_error(p, f->include_pos, "include: cannot open "
			    "%s: %s", path, strerror(errno));
			continue;
		}
		/* not a device or a pipe that never ends or never answers */
		if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode)) {
			config_error(p, f->include_pos, "include: %s is not a "
			    "regular file", path);
			fclose(fp);
			continue;
		}
		for (i = 0; i < p->depth - 1; i++)
			if (strcmp(p->frames[i].real, real) == 0)
				break;
		if (i < p->depth - 1 || (realpath(p->c->files[0], top) !=
		    NULL && strcmp(real, top) == 0)) {
			config_error(p, f->include_pos, "include: %s is "
			    "already being read (an include cycle)", path);
			fclose(fp);
			continue;
		}
		if (p->c->nfiles >= CONFIG_MAX_FILES) {
			config_error(p, f->include_pos, "include: more than %d "
			    "files", CONFIG_MAX_FILES);
			fclose(fp);
			continue;
		}
		snprintf(f->real, sizeof(f->real), "%s", real);
		config_list_add(&p->c->files, &p->c->nfiles, path);
		if (p->fp != f->parent_fp)
			fclose(p->fp);
		p->fp = fp;
		p->cur_file = (unsigned)p->c->nfiles - 1;
		p->cur_line = 0;
		return 1;
	}
	if (p->fp != f->parent_fp)
		fclose(p->fp);
	p->fp = f->parent_fp;
	p->cur_file = f->parent_file;
	p->cur_line = f->parent_line;
	p->lineno = f->include_pos;
	cfg_frame_section(p, f);
	for (i = 0; (size_t)i < f->npaths; i++)
		free(f->paths[i]);
	free(f->paths);
	p->depth--;
	return 0;
}

/*
 * include = PATH or pattern: the files it names are read next, in
 * sorted order; a relative path is relative to the including file's
 * directory.  A pattern that matches nothing is fine, a missing PATH is
 * not.
 */
static void
cfg_include(struct config_parse *p, const char *value)
{
	struct cfg_frame	*f;
	char			 path[PATH_MAX], dir[PATH_MAX];
	glob_t			 g;
	size_t			 i;
	int			 rc;

	if (*value == '\0') {
		config_error(p, p->lineno, "include: empty value");
		return;
	}
	if (p->depth >= CFG_INCLUDE_DEPTH) {
		config_error(p, p->lineno, "include: nested more than %d deep",
		    CFG_INCLUDE_DEPTH);
		return;
	}
	snprintf(dir, sizeof(dir), "%s", p->c->files[p->cur_file]);
	if ((size_t)snprintf(path, sizeof(path), "%s%s%s",
	    value[0] == '/' ? "" : dirname(dir), value[0] == '/' ? "" : "/",
	    value) >= sizeof(path)) {
		config_error(p, p->lineno, "include: path too long");
		return;
	}
	f = &p->frames[p->depth];
	memset(f, 0, sizeof(*f));
	if (strpbrk(value, "*?[") != NULL) {
		rc = glob(path, GLOB_ERR, NULL, &g);
		if (rc == GLOB_NOMATCH)
			return;
		if (rc != 0) {
			config_error(p, p->lineno, "include: %s: cannot read "
			    "the directory", value);
			globfree(&g);
			return;
		}
		for (i = 0; i < g.gl_pathc; i++)
			config_list_add(&f->paths, &f->npaths, g.gl_pathv[i]);
		globfree(&g);
	} else
		config_list_add(&f->paths, &f->npaths, path);
	f->parent_fp = p->fp;
	f->parent_file = p->cur_file;
	f->parent_line = p->cur_line;
	f->include_pos = p->lineno;
	f->sec = p->sec;
	f->obj = p->obj;
	f->sec_line = p->sec_line;
	memcpy(f->seen, p->seen, sizeof(f->seen));
	p->depth++;
	(void)cfg_include_next(p);
}

/*
 * inih reader: fgets plus line counting, section tracking, the over-long
 * line check, and the files of includes read in place.
 */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct config_parse	*p = stream;
	char			 hdr[256];
	char			*s, *e;
	int			 ch;
	size_t			 n;

	while (fgets(str, num, p->fp) == NULL) {
		if (p->depth == 0)
			return NULL;
		(void)cfg_include_next(p);
	}
	if (p->cur_line < CONFIG_MAX_LINE)
		p->cur_line++;
	p->lineno = CONFIG_POS(p->cur_file, p->cur_line);
	if (p->nposmap == p->capposmap) {
		p->capposmap = p->capposmap ? p->capposmap * 2 : 256;
		p->posmap = realloc(p->posmap, p->capposmap *
		    sizeof(*p->posmap));
		if (p->posmap == NULL)
			fatal("realloc");
	}
	p->posmap[p->nposmap++] = p->lineno;
	n = strlen(str);
	if (n > 0 && str[n - 1] != '\n' && !feof(p->fp)) {
		config_error(p, p->lineno, "line longer than %d characters",
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

static void
cfg_special(struct config_parse *p, const char *name, const char *value)
{
	char		 err[256];
	struct addr	 a;

	if (config_waf_special(p, name, value)) {
		/* done */
	} else if ((p->sec == S_LISTEN || p->sec == S_ADMIN) &&
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
			config_error(p, p->lineno, "address: %s", err);
			return;
		}
		if (util_addr_port(&a) != 0 && cfg_addr_dup(p->c, &a)) {
			config_error(p, p->lineno, "address %s is already used by "
			    "another listen address", a.str);
			return;
		}
		*addrs = config_grow(*addrs, *naddrs, sizeof(**addrs));
		(*addrs)[(*naddrs)++] = a;
	} else if (p->sec == S_LISTEN && strcmp(name, "tls_verify_client") ==
	    0) {
		struct listen_config *l = p->obj;

		if (strcmp(value, "off") == 0)
			l->tls_verify_client = TLS_VC_OFF;
		else if (strcmp(value, "on") == 0)
			l->tls_verify_client = TLS_VC_ON;
		else if (strcmp(value, "optional") == 0)
			l->tls_verify_client = TLS_VC_OPTIONAL;
		else
			config_error(p, p->lineno, "tls_verify_client: expected "
			    "off, on or optional");
	} else if (p->sec == S_LISTEN && (strcmp(name, "tls_certificate") ==
	    0 || strcmp(name, "tls_key") == 0 ||
	    strcmp(name, "tls_ocsp_response") == 0)) {
		struct listen_config *l = p->obj;
		struct tls_pair *last = l->ncerts ? &l->certs[l->ncerts - 1] :
		    NULL;

		/* each certificate, then (optionally) its key and OCSP */
		if (name[4] == 'c') {
			l->certs = config_grow(l->certs, l->ncerts,
			    sizeof(*l->certs));
			l->certs[l->ncerts].cert = config_strdup(value);
			l->certs[l->ncerts++].line = p->lineno;
		} else if (name[4] == 'k' && (last == NULL || last->key))
			config_error(p, p->lineno, "tls_key must follow its "
			    "tls_certificate");
		else if (name[4] == 'k')
			last->key = config_strdup(value);
		else if (last == NULL || last->ocsp)
			config_error(p, p->lineno, "tls_ocsp_response must "
			    "follow its tls_certificate");
		else {
			last->ocsp = config_strdup(value);
			last->ocsp_line = p->lineno;
		}
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

		dup = config_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save)) {
			if (util_parse_cidr(tok, &cidr, err, sizeof(err)) == -1) {
				config_error(p, p->lineno, "%s: %s", name, err);
				continue;
			}
			*list = config_grow(*list, *n, sizeof(**list));
			(*list)[(*n)++] = cidr;
		}
		free(dup);
	} else if (p->sec == S_POOL && strcmp(name, "server") == 0) {
		config_server(p, p->obj, value);
	} else if (p->sec == S_POOL) {
		config_pool_special(p, p->obj, name, value);
	} else if (p->sec == S_ROUTE && strcmp(name, "host") == 0) {
		struct route_config *r = p->obj;
		char	*dup, *tok, *save = NULL;

		dup = config_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save)) {
			if (strchr(tok + (tok[0] == '*'), '*') != NULL ||
			    (tok[0] == '*' && tok[1] != '.')) {
				config_error(p, p->lineno, "host: invalid name "
				    "\"%s\" (a wildcard is \"*.domain\")", tok);
				continue;
			}
			r->hosts = config_grow(r->hosts, r->nhosts,
			    sizeof(*r->hosts));
			r->hosts[r->nhosts++] = config_strdup(tok);
		}
		free(dup);
	} else if (p->sec == S_PORTER && strcmp(name, "hide_headers") == 0) {
		char	*dup, *tok, *save = NULL;

		dup = config_strdup(value);
		for (tok = strtok_r(dup, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save))
			config_list_add(&p->c->hide_headers,
			    &p->c->nhide_headers, tok);
		free(dup);
	} else if (strcmp(name, "compression_types") == 0) {
		config_compress_types(p, p->sec == S_ROUTE ? &((struct
		    route_config *)p->obj)->compress : &p->c->compress, value);
	} else if (p->sec == S_PORTER && strcmp(name, "error_page") == 0) {
		config_error_page(p, value);
	} else if (p->sec == S_ROUTE && config_route_special(p, p->obj, name,
	    value)) {
		/* done */
	} else if (p->sec == S_ROUTE && strcmp(name, "path") == 0) {
		struct route_config *r = p->obj;

		if (value[0] != '/') {
			config_error(p, p->lineno, "path: \"%s\" must start with "
			    "'/'", value);
			return;
		}
		r->path = config_strdup(value);
	} else if (p->sec == S_ROUTE && strcmp(name, "pool") == 0) {
		struct route_config *r = p->obj;

		snprintf(r->pool_name, sizeof(r->pool_name), "%s", value);
		r->pool_line = p->lineno;
	}
}

/* A special key as written (after ${}), for "porter -T". */
static void
cfg_remember(struct config_parse *p, const char *name, const char *value)
{
	struct config		*c = p->c;
	struct config_special	*sp;

	c->specials = config_grow(c->specials, c->nspecials,
	    sizeof(*c->specials));
	sp = &c->specials[c->nspecials++];
	sp->section = (int)p->sec;
	sp->index = p->sec == S_LISTEN ? c->nlistens - 1 : p->sec == S_POOL ?
	    c->npools - 1 : p->sec == S_ROUTE ? c->nroutes - 1 : 0;
	sp->name = config_strdup(name);
	sp->value = config_strdup(value);
}

/* Keys that may appear several times in a section, adding items. */
static int
cfg_repeatable(const struct cfg_key *k)
{
	static const char *const rep[] = {
		"address", "server", "host", "allow", "methods", "header",
		"purge_allow", "tls_certificate", "tls_key",
		"tls_ocsp_response", "deny",
		"allow_methods", "deny_header", "hide_headers", "error_page",
		"trusted_proxies", "rules",
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

#define CFG_VALUE_MAX	65536	/* a value after ${VAR} expansion */

/*
 * ${NAME} in a value: the environment variable NAME; "$${" is a literal
 * "${".  Any other '$' stays as it is ($host in log formats and return
 * URLs).  Returns the expanded value (caller frees), or NULL after an
 * error at the value's line: NAME not set, malformed, or too long.
 */
static char *
cfg_expand(struct config_parse *p, const char *value)
{
	const char	*v, *e, *env;
	char		 name[256], *out;
	size_t		 o = 0, n;

	if ((out = malloc(CFG_VALUE_MAX)) == NULL)
		fatal("malloc");
	for (v = value; *v != '\0'; ) {
		if (v[0] == '$' && v[1] == '$' && v[2] == '{') {
			env = "${";
			n = 2;
			v += 3;
		} else if (v[0] == '$' && v[1] == '{') {
			for (e = v + 2; *e == '_' || isalnum((unsigned char)*e);
			    e++)
				;
			n = (size_t)(e - v - 2);
			if (*e != '}' || n == 0 || n >= sizeof(name) ||
			    isdigit((unsigned char)v[2])) {
				config_error(p, p->lineno, "%.*s: expected "
				    "${NAME} (letters, digits and '_'; a "
				    "literal ${ is written $${)",
				    (int)(*e != '\0' ? e - v + 1 : e - v), v);
				free(out);
				return NULL;
			}
			memcpy(name, v + 2, n);
			name[n] = '\0';
			if ((env = getenv(name)) == NULL) {
				config_error(p, p->lineno, "${%s}: environment "
				    "variable %s is not set", name, name);
				free(out);
				return NULL;
			}
			n = strlen(env);
			v = e + 1;
		} else {
			env = v++;
			n = 1;
		}
		if (o + n >= CFG_VALUE_MAX) {
			config_error(p, p->lineno, "value longer than %d "
			    "bytes after ${} expansion", CFG_VALUE_MAX - 1);
			free(out);
			return NULL;
		}
		memcpy(out + o, env, n);
		o += n;
	}
	out[o] = '\0';
	return out;
}

static int	cfg_key_value(struct config_parse *, const char *, const char *,
		    const char *);

static int
cfg_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_parse	*p = user;
	char			*v;
	int			 rc;

	if (p->sec == S_BAD)
		return 1;	/* already reported at the section line */
	if (strchr(value, '$') == NULL)
		return cfg_key_value(p, section, name, value);
	if ((v = cfg_expand(p, value)) == NULL)
		return 1;
	rc = cfg_key_value(p, section, name, v);
	free(v);
	return rc;
}

static int
cfg_key_value(struct config_parse *p, const char *section, const char *name,
    const char *value)
{
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
	if (strcmp(name, "include") == 0) {
		cfg_include(p, value);
		return 1;
	}
	if (p->sec == S_NONE) {
		config_error(p, p->lineno, "\"%s\" outside of any section",
		    name);
		return 1;
	}
	for (i = 0; i < CFG_NKEYS; i++)
		if (config_keys[i].section == p->sec &&
		    strcmp(config_keys[i].name, name) == 0) {
			k = &config_keys[i];
			break;
		}
	if (k == NULL) {
		config_error(p, p->lineno, "unknown key \"%s\" in [%s]", name,
		    section);
		return 1;
	}
	if (!cfg_repeatable(k)) {
		if (p->seen[i]) {
			config_error(p, p->lineno, "duplicate key \"%s\"", name);
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
		    config_strdup(value);
		break;
	case T_STRING:
		if (*value == '\0') {
			snprintf(err, sizeof(err), "empty value");
			goto bad;
		}
		free(*(char **)(void *)field);
		*(char **)(void *)field = config_strdup(value);
		break;
	case T_SPECIAL:
		cfg_remember(p, name, value);
		cfg_special(p, name, value);
		break;
	}
	return 1;
bad:
	config_error(p, p->lineno, "%s: %s", name, err);
	return 1;
}

/* An allow list nobody set means loopback only. */
static void
cfg_loopback(struct cidr **list, size_t *n)
{
	char	 err[128];

	if (*n != 0)
		return;
	*list = config_grow(*list, 0, sizeof(**list));
	(void)util_parse_cidr("127.0.0.0/8", &(*list)[0], err, sizeof(err));
	*list = config_grow(*list, 1, sizeof(**list));
	(void)util_parse_cidr("::1", &(*list)[1], err, sizeof(err));
	*n = 2;
}

/* Line of key name in [porter], for errors about relations of keys. */
static int
cfg_porter_line(struct config_parse *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < CFG_NKEYS; i++)
		if (config_keys[i].section == S_PORTER &&
		    strcmp(config_keys[i].name, name) == 0 &&
		    p->key_line[i] != 0)
			return p->key_line[i];
	return p->porter_line;
}

static void
cfg_validate_workers(struct config_parse *p)
{
	struct config	*c = p->c;

	if (c->workers > c->max_workers)
		config_error(p, cfg_porter_line(p, "workers"), "workers (%u) is "
		    "more than max_workers (%u)", c->workers, c->max_workers);
	if (c->max_spare_workers == 0) {
		c->max_spare_workers = c->workers;
		if (c->max_spare_workers <= c->min_spare_workers)
			c->max_spare_workers = c->min_spare_workers + 1;
	} else if (c->max_spare_workers <= c->min_spare_workers)
		config_error(p, cfg_porter_line(p, "max_spare_workers"),
		    "max_spare_workers (%u) must be more than "
		    "min_spare_workers (%u)", c->max_spare_workers,
		    c->min_spare_workers);
	if (c->min_spare_workers > c->max_workers)
		config_error(p, cfg_porter_line(p, "min_spare_workers"),
		    "min_spare_workers (%u) is more than max_workers (%u)",
		    c->min_spare_workers, c->max_workers);
}

static void
cfg_validate(struct config_parse *p)
{
	struct config	*c = p->c;
	size_t		 i, j;
	char		 err[256];

	cfg_validate_workers(p);
	if (c->access_log_format != NULL &&
	    alog_format_check(c->access_log_format, err, sizeof(err)) == -1)
		config_error(p, cfg_porter_line(p, "access_log_format"),
		    "access_log_format: %s", err);
	if (c->syslog_facility != NULL &&
	    log_facility_parse(c->syslog_facility) == -1)
		config_error(p, cfg_porter_line(p, "syslog_facility"),
		    "syslog_facility: unknown facility \"%s\" (daemon, "
		    "local0 ... local7, user)", c->syslog_facility);
	if (c->admin.line != 0 && c->admin.naddrs == 0)
		config_error(p, c->admin.line, "[admin] has no address");
	for (i = 0; i < c->nlistens; i++) {
		int	 line;

		if (c->listens[i].tls_verify_client != TLS_VC_OFF &&
		    c->listens[i].tls_client_ca == NULL)
			config_error(p, c->listens[i].line, "[listen %s]: "
			    "tls_verify_client needs tls_client_ca",
			    c->listens[i].name);

		if (c->listens[i].ncerts > 0 && tls_server_ctx(&c->listens[i],
		    &line, err, sizeof(err)) == -1)
			config_error(p, line, "%s", err);
	}
	for (i = 0; i < c->npools; i++)
		if (c->pools[i].tls && tls_client_ctx(&c->pools[i], err,
		    sizeof(err)) == -1)
			config_error(p, c->pools[i].line, "[pool %s]: %s",
			    c->pools[i].name, err);
	if (c->nhide_headers == 0)
		config_list_add(&c->hide_headers, &c->nhide_headers,
		    "X-Powered-By");
	cfg_loopback(&c->admin.allow, &c->admin.nallow);
	cfg_loopback(&c->cache.purge_allow, &c->cache.npurge_allow);
	/* no object may take more than a quarter of the store */
	if (c->cache.max_object_size > c->cache.size / 4)
		c->cache.max_object_size = c->cache.size / 4;
	config_compress_check(p);
	for (i = 0; i < c->nroutes; i++)
		if (c->routes[i].request_buffering == -1)
			c->routes[i].request_buffering = c->request_buffering;
	for (i = 0; i < c->nroutes; i++)
		if (c->routes[i].cache && c->cache.line == 0)
			config_error(p, c->routes[i].line, "[route %s] has cache "
			    "= on but there is no [cache] section",
			    c->routes[i].name);

	if (c->nlistens == 0)
		config_error(p, p->lineno, "no [listen NAME] section: porter "
		    "needs at least one address to listen on");
	for (i = 0; i < c->nlistens; i++)
		if (c->listens[i].naddrs == 0)
			config_error(p, c->listens[i].line, "[listen %s] has no "
			    "address", c->listens[i].name);
	if (c->npools == 0)
		config_error(p, p->lineno, "no [pool NAME] section: porter "
		    "needs at least one pool of servers");
	for (i = 0; i < c->npools; i++) {
		if (c->pools[i].nservers == 0)
			config_error(p, c->pools[i].line, "[pool %s] has no "
			    "server", c->pools[i].name);
		if (c->pools[i].balance == BALANCE_HASH)
			config_ring(&c->pools[i]);
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
				config_error(p, r->line, "[route %s]: no [listen "
				    "%s]", r->name, r->listens[j]);
			r->listen_idx[j] = l;
		}
		if (r->pool_name[0] == '\0') {
			if (r->return_code == 0)
				config_error(p, r->line, "[route %s] has no pool "
				    "(and no return)", r->name);
			continue;
		}
		for (j = 0; j < c->npools; j++)
			if (strcmp(c->pools[j].name, r->pool_name) == 0)
				break;
		if (j == c->npools)
			config_error(p, r->pool_line, "pool \"%s\" is not "
			    "defined", r->pool_name);
		else
			r->pool = j;
	}
	config_waf_validate(p);
	if (c->nroutes == 0 && c->npools > 1)
		config_error(p, c->pools[1].line, "several pools but no [route]: "
		    "add routes that say which requests go to which pool");
}

static struct config *
cfg_defaults(const char *path)
{
	struct config	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->file = config_strdup(path);
	config_list_add(&c->files, &c->nfiles, path);
	if ((c->key_line = calloc(CFG_NKEYS, sizeof(*c->key_line))) == NULL)
		fatal("calloc");
	c->workers = 4;
	c->min_spare_workers = 2;
	c->max_workers = 256;
	c->pid_file = config_strdup(PORTER_RUNSTATEDIR "/porter.pid");
	c->error_log = config_strdup("stderr");
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
	c->sched_batch = 1;
	c->splice = 1;
	c->park_after = 50;
	c->max_connections = 16384;
	c->request_buffering = 1;
	c->spool_dir = config_strdup(PORTER_SPOOLDIR);
	c->spool_max_size = 1024ULL * 1024 * 1024;
	c->cache.size = 256ULL * 1024 * 1024;
	c->cache.max_object_size = 8ULL * 1024 * 1024;
	c->cache.lock_timeout = 5000;
	c->cache.pass_ttl = 10000;
	config_compress_defaults(&c->compress);
	c->waf.body_limit = 1024 * 1024;
	return c;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config_parse	 p;
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
	if ((p.frames = calloc(CFG_INCLUDE_DEPTH, sizeof(*p.frames))) == NULL)
		fatal("calloc");
	rc = ini_parse_stream(cfg_reader, &p, cfg_handler, &p);
	while (p.depth > 0) {
		/* inih stopped early: close what is open, read no more */
		p.frames[p.depth - 1].next = p.frames[p.depth - 1].npaths;
		(void)cfg_include_next(&p);
	}
	fclose(p.fp);
	free(p.frames);
	if (rc > 0)
		config_error(&p, (size_t)rc <= p.nposmap ? p.posmap[rc - 1] :
		    rc, "syntax error (expected [section] or key = value)");
	else if (rc < 0)
		config_error(&p, 0, "cannot parse (out of memory)");
	free(p.posmap);
	cfg_validate(&p);
	memcpy(p.c->key_line, p.key_line, CFG_NKEYS * sizeof(*p.key_line));
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
			free(l->certs[j].ocsp);
		}
		free(l->certs);
		free(l->tls_protocols);
		free(l->tls_ciphers);
		free(l->tls_ciphersuites);
		free(l->tls_curves);
		free(l->tls_client_ca);
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
		cfg_list_free(r->compress.types, r->compress.ntypes);
	}
	free(c->routes);
	free(c->admin.addrs);
	cfg_list_free(c->hide_headers, c->nhide_headers);
	cfg_list_free(c->compress.types, c->compress.ntypes);
	for (i = 0; i < c->nerror_pages; i++)
		free(c->error_pages[i].body);
	free(c->error_pages);
	free(c->trusted);
	free(c->admin.allow);
	free(c->cache.purge_allow);
	free(c->access_log_format);
	free(c->syslog_facility);
	free(c->file);
	cfg_list_free(c->files, c->nfiles);
	for (i = 0; i < c->nspecials; i++) {
		free(c->specials[i].name);
		free(c->specials[i].value);
	}
	free(c->specials);
	free(c->key_line);
	free(c->pid_file);
	free(c->spool_dir);
	free(c->error_log);
	free(c->access_log);
	free(c->user);
	free(c->group);
	free(c->chroot);
	config_waf_free(c);
	free(c);
}

void
config_tls_name(const struct pool_config *pc, const struct server_config *sc,
    char *buf, size_t len)
{
	char	*colon;

	if (pc->tls_server_name != NULL) {
		snprintf(buf, len, "%s", pc->tls_server_name);
		return;
	}
	snprintf(buf, len, "%s", sc->name[0] == '[' ? sc->name + 1 : sc->name);
	if ((colon = strrchr(buf, sc->name[0] == '[' ? ']' : ':')) != NULL)
		*colon = '\0';
}

void
config_where(const struct config *c, int pos, char *buf, size_t len)
{
	const char	*file = c->file;

	if (CONFIG_POS_FILE(pos) < c->nfiles)
		file = c->files[CONFIG_POS_FILE(pos)];
	if (CONFIG_POS_LINE(pos) > 0)
		snprintf(buf, len, "%s:%d", file, CONFIG_POS_LINE(pos));
	else
		snprintf(buf, len, "%s", file);
}

int
config_key_line(const struct config *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < CFG_NKEYS; i++)
		if (config_keys[i].section == S_PORTER &&
		    strcmp(config_keys[i].name, name) == 0)
			return c->key_line[i];
	return 0;
}
