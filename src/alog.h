/*
 * alog.h - the access log: one line per request, written with a single
 * write(2) to an O_APPEND descriptor.  Formats: "combined" (the default:
 * Apache's combined format plus upstream address, upstream time and total
 * time), "json" (one object per line), or a custom string of literal text
 * and $variables (see porter.ini(5)).
 */
#ifndef ALOG_H
#define ALOG_H

#include <stddef.h>
#include <stdint.h>

struct alog_entry {
	const char	*client_ip;
	const char	*method;
	size_t		 method_len;
	const char	*target;
	size_t		 target_len;
	int		 version;
	int		 status;
	uint64_t	 bytes;		/* body bytes sent to the client */
	const char	*referer;
	size_t		 referer_len;
	const char	*agent;
	size_t		 agent_len;
	const char	*host;
	size_t		 host_len;
	const char	*upstream;	/* NULL = "-" */
	int64_t		 upstream_ms;	/* -1 = "-" */
	int64_t		 total_ms;
	const char	*cache;		/* cache status, NULL = "-" */
	const char	*compression;	/* content-coding, NULL = "-" */
	const char	*waf;		/* the WAF's verdict, NULL = "-" */
};

/* Is format a valid access_log_format?  -1 with err if not. */
int	alog_format_check(const char *format, char *err, size_t errlen);
/*
 * Open path with format (NULL = combined), or disable with path NULL.
 * Returns -1 with err on failure, keeping the previous log.
 */
int	alog_open(const char *path, const char *format, char *err,
	    size_t errlen);
int	alog_reopen(void);
/* The descriptor (-1 when off). */
int	alog_fd(void);
/*
 * The descriptor if porter created the file (only such a file may be
 * given to the workers' user), -1 otherwise.
 */
int	alog_created_fd(void);
void	alog_write(const struct alog_entry *);

#endif /* ALOG_H */
