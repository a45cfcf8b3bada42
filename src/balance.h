/*
 * balance.h - choosing the server of a pool for a request.
 *
 * Every algorithm reads the shared backend table, so all workers see the
 * same servers up, down, ramping or full, and round robin advances one
 * position shared by all workers.
 */
#ifndef BALANCE_H
#define BALANCE_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct http_field;

#define BALANCE_MAX_TRIES	18

/* What the algorithms may look at, and what this request tried. */
struct balance_req {
	const char		*client_ip;
	const char		*uri;
	size_t			 uri_len;
	const struct http_field	*fields;
	unsigned		 nfields;
	unsigned		 tried[BALANCE_MAX_TRIES];
	unsigned		 ntried;
};

#define BALANCE_NONE	(-1)	/* no server is up */
#define BALANCE_FULL	(-2)	/* every usable server is at max_conns */

/* Per-worker set-up (round-robin sequences).  Worker only. */
void	balance_init(const struct config *cf);
void	balance_fini(void);
/*
 * Pick a server of pool and count the request as in flight on it
 * (health_acquire).  Returns the server's index, BALANCE_NONE or
 * BALANCE_FULL.  *set_cookie is set when the response must carry the
 * sticky cookie naming the server.
 */
int	balance_pick(const struct config *cf, size_t pool,
	    struct balance_req *br, int *set_cookie);
/* The sticky cookie value for a server ("%016llx" of its id). */
void	balance_cookie_value(uint64_t id, char *buf, size_t len);

#endif /* BALANCE_H */
