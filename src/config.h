/*
 * config.h - the parsed configuration.
 *
 * Built whole by the master from the INI file, never changed after that:
 * workers read it through a const pointer.  Only config.c knows INI.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <sys/types.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compress_neg.h"
#include "util.h"

#define CONFIG_NAME_MAX	64

struct waf_rules;

struct tls_pair {
	char		*cert;		/* PEM: certificate and its chain */
	char		*key;		/* NULL: the key is in cert's file */
	char		*ocsp;		/* DER OCSP response to staple */
	int		 line;
	int		 ocsp_line;
};

#define TLS_VC_OFF	0
#define TLS_VC_ON	1
#define TLS_VC_OPTIONAL	2

struct listen_config {
	char		 name[CONFIG_NAME_MAX];
	struct addr	*addrs;
	size_t		 naddrs;
	unsigned	 backlog;
	/* TLS: on when there is a certificate */
	struct tls_pair	*certs;
	size_t		 ncerts;
	char		*tls_protocols;		/* "TLSv1.2 TLSv1.3" */
	char		*tls_ciphers;		/* TLS 1.2 */
	char		*tls_ciphersuites;	/* TLS 1.3 */
	char		*tls_curves;
	char		*tls_client_ca;		/* CAs for client certificates */
	int		 tls_verify_client;	/* TLS_VC_* */
	void		*tls_ctx;		/* SSL_CTX, built at load */
	int		 proxy_protocol;	/* PROXY v1/v2 before all */
	int		 line;
};

struct server_config {
	struct addr	 addr;
	char		 name[128];	/* as written: host:port or unix:path */
	unsigned	 weight;	/* 1..1000, default 1 */
	unsigned	 max_conns;	/* 0 = unlimited, across all workers */
	int		 backup;	/* only when no primary is up */
	int		 down;		/* marked down by the operator */
	unsigned	 hslot;		/* slot in the shared backend table */
	uint64_t	 id;		/* opaque stable id (sticky cookie) */
	int		 line;
};

enum balance_kind {
	BALANCE_ROUND_ROBIN = 0,
	BALANCE_LEAST_CONN,
	BALANCE_RANDOM_TWO,
	BALANCE_HASH,
	BALANCE_STICKY
};

enum hash_key_kind {
	HASH_CLIENT_IP = 0,
	HASH_URI,
	HASH_HEADER,
	HASH_COOKIE
};

/* One point of a pool's consistent-hash ring. */
struct ring_point {
	uint32_t	 hash;
	uint32_t	 server;
};

struct pool_config {
	char		 name[CONFIG_NAME_MAX];
	struct server_config *servers;
	size_t		 nservers;
	int		 connect_timeout;	/* ms */
	int		 read_timeout;		/* ms */
	int		 send_timeout;		/* ms */
	unsigned	 keepalive;		/* idle conns kept per worker */
	int		 keepalive_timeout;	/* ms an idle conn is kept */
	unsigned	 retries;
	enum balance_kind balance;
	enum hash_key_kind hash_key;
	char		 hash_name[CONFIG_NAME_MAX];	/* header/cookie */
	char		 sticky_cookie[CONFIG_NAME_MAX];
	unsigned	 max_fails;		/* 0 = no passive marking */
	int		 fail_timeout;		/* ms */
	int		 fail_on_5xx;
	int		 queue_timeout;		/* ms waiting for max_conns */
	int		 slow_start;		/* ms, 0 = off */
	/* active checks; check_kind 0 = off */
	int		 check_kind;		/* 0 off, 1 http, 2 tcp */
	char		 check_method[16];
	char		 check_path[128];
	int		 check_interval;	/* ms */
	int		 check_timeout;		/* ms */
	unsigned	 check_rise, check_fall;
	unsigned	 check_status_min, check_status_max;
	char		*check_body;		/* substring, NULL = any */
	/* TLS to the servers */
	int		 tls;
	int		 tls_verify;
	char		*tls_ca_file;		/* NULL: system store */
	char		*tls_server_name;	/* SNI and name to verify */
	char		*tls_certificate;	/* client certificate */
	char		*tls_key;
	void		*tls_ctx;		/* SSL_CTX, built at load */
	/* consistent hash ring, built at load */
	struct ring_point *ring;
	size_t		 nring;
	int		 line;
};

#define CHECK_OFF	0
#define CHECK_HTTP	1
#define CHECK_TCP	2

struct route_header {
	char		*name;
	char		*value;			/* exact, case-sensitive */
};

struct route_config {
	char		 name[CONFIG_NAME_MAX];
	/* matchers: all that are set must match */
	char		**listens;		/* [listen] names */
	size_t		 nlistens;
	size_t		*listen_idx;		/* resolved */
	char		**hosts;		/* exact or "*.suffix" */
	size_t		 nhosts;
	char		*path;			/* prefix, NULL = "/" */
	char		*path_regex;		/* POSIX ERE source */
	regex_t		 regex;
	char		**methods;
	size_t		 nmethods;
	struct route_header *headers;
	size_t		 nheaders;
	/* what to do */
	char		 pool_name[CONFIG_NAME_MAX];
	size_t		 pool;			/* index into pools */
	int		 pool_line;
	char		*strip_prefix;
	int		 set_host;		/* Host: the server's address */
	char		*req_add;		/* "Name: value\r\n" lines */
	char		**req_remove;
	size_t		 nreq_remove;
	char		*resp_add;
	char		**resp_remove;
	size_t		 nresp_remove;
	int		 return_code;		/* 0: forward */
	char		*return_url;
	int		 connect_timeout;	/* 0: the pool's */
	int		 read_timeout;
	int		 cache;			/* use the [cache] */
	struct compress_config compress;	/* compression* keys */
	int		 request_buffering;	/* -1 until set: [porter]'s */
	/* filters */
	struct cidr	*allow;			/* none: everyone */
	size_t		 nallow;
	struct cidr	*deny;
	size_t		 ndeny;
	char		**allow_methods;	/* others get 405 */
	size_t		 nallow_methods;
	char		*deny_path_regex;
	regex_t		 deny_regex;
	struct route_header *deny_headers;	/* value NULL: any value */
	size_t		 ndeny_headers;
	/* rate limit: rate_limit tokens a second, burst at most */
	unsigned	 rate;			/* 0 = none */
	unsigned	 burst;
	char		 rate_key[CONFIG_NAME_MAX];	/* "" = client */
	int		 waf;			/* enum waf_mode (waf.h) */
	int		 waf_line;
	int		 line;
};

/* error_page = CODE FILE: the file's contents, read at load. */
struct error_page {
	int		 status;
	char		*body;
	size_t		 len;
};

/* [cache]: the shared HTTP cache. */
struct cache_config {
	int		 line;		/* 0: no [cache] section, no cache */
	uint64_t	 size;
	uint64_t	 max_object_size;
	int		 lock_timeout;	/* ms a request waits for a fill */
	int		 pass_ttl;	/* ms an uncacheable URL bypasses */
	int		 stale_if_error; /* ms: the default stale-if-error */
	struct cidr	*purge_allow;	/* none set: loopback only */
	size_t		 npurge_allow;
};

/* [waf]: the web application firewall (waf.c). */
struct waf_config {
	int		 line;		/* 0: no [waf] section */
	char		**rules;	/* files, globs expanded */
	size_t		 nrules;
	int		 rules_line;	/* the first rules = */
	char		*audit_log;	/* NULL: none */
	uint64_t	 body_limit;	/* request body inspected */
	struct waf_rules *loaded;	/* the rules, loaded at validation */
};

/* [admin]: the status page and metrics. */
struct admin_config {
	struct addr	*addrs;		/* none: no admin listener */
	size_t		 naddrs;
	struct cidr	*allow;		/* none set: loopback only */
	size_t		 nallow;
	int		 line;
};

/*
 * Where a key or section was written: a line number of the main file,
 * or for a file it includes CONFIG_POS(index in config.files, line).
 * The "line" fields of the structs here hold such positions; 0 is none.
 */
#define CONFIG_MAX_FILES	1024
#define CONFIG_MAX_LINE		0xfffff
#define CONFIG_POS(f, l)	((int)((unsigned)(f) << 20 | (unsigned)(l)))
#define CONFIG_POS_FILE(pos)	((unsigned)(pos) >> 20)
#define CONFIG_POS_LINE(pos)	((int)((unsigned)(pos) & CONFIG_MAX_LINE))

/* A key with its own setter, as written (after ${}): for config_dump. */
struct config_special {
	int		 section;	/* config_int.h's enum */
	size_t		 index;		/* of its listen, pool or route */
	char		*name;
	char		*value;
};

struct config {
	char		*file;
	char		**files;	/* [0] = file, then what it includes */
	size_t		 nfiles;
	int		*key_line;	/* position of each [porter] key set */
	int		 porter_line;	/* position of [porter], 0: none */
	struct config_special *specials;
	size_t		 nspecials;
	/* [porter] */
	unsigned	 workers;		/* at start */
	unsigned	 min_spare_workers;
	unsigned	 max_spare_workers;	/* 0 = max(workers, min + 1) */
	unsigned	 max_workers;
	unsigned	 max_requests_per_worker;	/* 0 = no limit */
	char		*pid_file;
	char		*error_log;
	int		 log_level;
	char		*access_log;		/* NULL = off */
	char		*access_log_format;	/* combined, json or custom */
	char		*syslog_facility;
	char		*user;
	char		*group;
	char		*chroot;
	int		 client_header_timeout;	/* ms */
	int		 client_body_timeout;	/* ms */
	int		 send_timeout;		/* ms */
	int		 keepalive_timeout;	/* ms */
	unsigned	 keepalive_requests;
	int		 tunnel_timeout;	/* ms */
	int		 shutdown_timeout;	/* ms */
	uint64_t	 max_header_size;
	unsigned	 max_uri_length;
	unsigned	 max_headers;
	uint64_t	 client_max_body_size;	/* 0 = unlimited */
	int		 server_tokens;		/* send "Server: porter" */
	int		 tls_ticket_rotation;	/* ms */
	char		**hide_headers;		/* dropped from responses */
	size_t		 nhide_headers;
	struct error_page *error_pages;
	size_t		 nerror_pages;
	unsigned	 max_conns_per_ip;	/* 0 = no limit */
	int		 sched_batch;		/* workers under SCHED_BATCH */
	int		 splice;		/* large plain bodies by splice(2) */
	unsigned	 client_min_rate;	/* body bytes/s, 0 = none */
	int		 seccomp;		/* workers' allow-list */
	int		 park_after;		/* ms, then to the gate; 0 never */
	unsigned	 max_connections;	/* held, gate and workers */
	int		 request_buffering;	/* bodies spooled by the gate */
	char		*spool_dir;		/* the gate's spool files */
	uint64_t	 spool_max_size;	/* all spooled bodies at once */
	struct cidr	*trusted;		/* trusted_proxies */
	size_t		 ntrusted;
	struct compress_config compress;	/* with no [route] */

	struct listen_config *listens;
	size_t		 nlistens;
	struct pool_config *pools;
	size_t		 npools;
	struct route_config *routes;
	size_t		 nroutes;
	struct admin_config admin;
	struct cache_config cache;
	struct waf_config waf;
};

/*
 * Parse and validate path.  On success returns the config (caller frees it
 * with config_free).  On failure returns NULL and writes one
 * "file:line: message" line per error into err (newline separated,
 * truncated to errlen).
 */
struct config	*config_load(const char *path, char *err, size_t errlen);
void		 config_free(struct config *);
/*
 * "file:line" of position pos in buf ("file" alone for position 0 or a
 * line not known), for messages about the configuration found after
 * loading it (the user does not exist, a log directory is missing).
 */
void		 config_where(const struct config *, int pos, char *buf,
		    size_t len);
/*
 * Print c as an INI file porter reads back to the same configuration:
 * every key with its value, defaults filled in, includes flattened,
 * ${} expanded ("porter -T").
 */
void		 config_dump(const struct config *c, FILE *fp);
/* Position of [porter] key name where it was set; else 0. */
int		 config_key_line(const struct config *, const char *name);
/*
 * The name TLS toward server sc of pool pc sends (SNI) and verifies:
 * tls_server_name, else the server's host without port or brackets.
 */
void		 config_tls_name(const struct pool_config *pc,
		    const struct server_config *sc, char *buf, size_t len);

#endif /* CONFIG_H */
