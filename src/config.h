/*
 * config.h - the parsed configuration.
 *
 * Built whole by the master from the INI file, never changed after that:
 * workers read it through a const pointer.  Only config.c knows INI.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define CONFIG_NAME_MAX	64

struct listen_config {
	char		 name[CONFIG_NAME_MAX];
	struct addr	*addrs;
	size_t		 naddrs;
	unsigned	 backlog;
	int		 line;
};

struct server_config {
	struct addr	 addr;
	unsigned	 hslot;		/* slot in the shared backend table */
	int		 line;
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
	int		 line;
};

struct route_config {
	char		 name[CONFIG_NAME_MAX];
	char		**hosts;		/* exact or "*.suffix" */
	size_t		 nhosts;
	char		*path;			/* prefix, NULL = "/" */
	char		 pool_name[CONFIG_NAME_MAX];
	size_t		 pool;			/* index into pools */
	int		 pool_line;
	int		 line;
};

/* [admin]: the status page and metrics. */
struct admin_config {
	struct addr	*addrs;		/* none: no admin listener */
	size_t		 naddrs;
	struct cidr	*allow;		/* none set: loopback only */
	size_t		 nallow;
	int		 line;
};

struct config {
	char		*file;
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

	struct listen_config *listens;
	size_t		 nlistens;
	struct pool_config *pools;
	size_t		 npools;
	struct route_config *routes;
	size_t		 nroutes;
	struct admin_config admin;
};

/*
 * Parse and validate path.  On success returns the config (caller frees it
 * with config_free).  On failure returns NULL and writes one
 * "file:line: message" line per error into err (newline separated,
 * truncated to errlen).
 */
struct config	*config_load(const char *path, char *err, size_t errlen);
void		 config_free(struct config *);

#endif /* CONFIG_H */
