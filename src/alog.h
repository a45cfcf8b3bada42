/*
 * alog.h - the access log: one line per request, combined format plus
 * upstream address, upstream time and total time, written with a single
 * write(2) to an O_APPEND descriptor.
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
	const char	*upstream;	/* NULL = "-" */
	int64_t		 upstream_ms;	/* -1 = "-" */
	int64_t		 total_ms;
};

/* Open path (or disable with NULL).  Returns -1 with err on failure. */
int	alog_open(const char *path, char *err, size_t errlen);
int	alog_reopen(void);
void	alog_write(const struct alog_entry *);

#endif /* ALOG_H */
