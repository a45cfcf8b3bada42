/*
 * listener.h - the listening sockets, bound by the master and inherited
 * by the workers.
 */
#ifndef LISTENER_H
#define LISTENER_H

#include <stddef.h>

#include "util.h"

struct config;

struct listener {
	int		 fd;
	struct addr	 addr;
	size_t		 listen;	/* index of its [listen] section */
};

/*
 * Bind and listen on every address of cf.  Returns an array (free with
 * listener_close_all) and its length in *n, or NULL with err filled.
 * With several sockets they are made non-blocking, because workers then
 * poll before accept and must not block in accept when another worker
 * took the connection.
 */
struct listener	*listener_open_all(const struct config *cf, size_t *n,
		    char *err, size_t errlen);
void		 listener_close_all(struct listener *, size_t n);

#endif /* LISTENER_H */
