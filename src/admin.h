/*
 * admin.h - the status page and metrics, served on the [admin] listener.
 * No I/O: renders a response body from the shared segment.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stddef.h>

struct config;

/* Room a backend's lines may take in the answer. */
#define ADMIN_PER_BACKEND	3584

struct admin_reply {
	int		 status;
	const char	*type;		/* Content-Type */
	size_t		 len;		/* body bytes written to the buffer */
};

/*
 * Render the answer for path (the request-target) into buf[0..cap):
 * /status (HTML), /status?format=text, /metrics (Prometheus text
 * format), anything else 404.  Returns 0; a body that does not fit is
 * cut at a line boundary.
 */
int	admin_render(const struct config *cf, const char *path, size_t len,
	    char *buf, size_t cap, struct admin_reply *r);

#endif /* ADMIN_H */
