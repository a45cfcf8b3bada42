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
	struct addr	 conf;		/* as configured (port may be 0) */
	struct addr	 addr;		/* as bound */
	size_t		 listen;	/* index of its [listen] section */
	int		 admin;		/* an [admin] address */
	/*
	 * What accepted TCP connections inherit from the socket (-1: not
	 * known, or a unix socket, which inherits nothing): TCP_NODELAY,
	 * the accept wake-up as SO_RCVTIMEO and send_timeout as SO_SNDTIMEO,
	 * so a worker need not set them on every connection.
	 */
	int		 nodelay;
	int		 rcvtimeo, sndtimeo;
};

/*
 * Listen on every address of cf.  A socket of old[0..nold) configured with
 * the same address is taken over (its fd moves; old[i].fd becomes -1), so
 * a reload or an upgrade never closes and re-binds a listening socket;
 * the others are bound now.  Returns an array (free with
 * listener_close_all) and its length in *n, or NULL with err filled and
 * old untouched.  The sockets are made non-blocking: workers wait on
 * them and on the gate's socket together, and must not block in accept
 * when another worker took the connection.
 */
struct listener	*listener_open_all(const struct config *cf,
		    struct listener *old, size_t nold, size_t *n, char *err,
		    size_t errlen);
void		 listener_close_all(struct listener *, size_t n);
/*
 * Describe the sockets in an environment value for a new binary:
 * "FD ADDR;FD ADDR;..." with the configured addresses.  Returns -1 if it
 * does not fit.
 */
int		 listener_export(const struct listener *, size_t n, char *buf,
		    size_t len);
/* The inverse: the sockets a new binary inherited (NULL, *n = 0: none). */
struct listener	*listener_import(const char *value, size_t *n);
/*
 * Connections waiting to be accepted on the TCP sockets (Linux reports
 * the accept queue of a listening socket in TCP_INFO).
 */
size_t		 listener_backlog(const struct listener *, size_t n);

#endif /* LISTENER_H */
