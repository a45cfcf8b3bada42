/*
 * upstream.h - connections to backend servers: connecting with a
 * deadline, and each worker's cache of idle keep-alive connections.
 * Per worker process, not shared.
 */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stddef.h>

struct addr;
struct pool_config;

/*
 * Connect to a, waiting at most timeout_ms.  Returns a blocking socket
 * with TCP_NODELAY, or -1 with errno (ETIMEDOUT on deadline).
 */
int	upstream_connect(const struct addr *a, int timeout_ms);

/* Size the idle cache; called once per worker. */
void	upstream_init(size_t slots);
/*
 * Take an idle connection to server srv of pool, or -1 if none.  Idle
 * connections older than the pool's keepalive_timeout are closed here.
 */
int	upstream_take(size_t pool, size_t srv, const struct pool_config *pc,
	    void **ssl, int timeo[2]);
/*
 * Keep fd (and its TLS state, or NULL, and the receive and send timeouts
 * set on it, so they are not set again) for reuse, or close it when the
 * cache for that pool is full.
 */
void	upstream_put(int fd, void *ssl, const int timeo[2], size_t pool,
	    size_t srv, const struct pool_config *pc);
/* Close fd, ending its TLS first when there is one. */
void	upstream_close(int fd, void *ssl);
/* The TLS session to resume with backend slot hslot (per worker). */
void	**upstream_session(unsigned hslot);
/* Close every idle connection (worker exit). */
void	upstream_close_idle(void);

#endif /* UPSTREAM_H */
