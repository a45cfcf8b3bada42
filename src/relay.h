/*
 * relay.h - one client connection through a worker: read each request,
 * route it, forward it to a backend, relay the response, keep-alive.
 */
#ifndef RELAY_H
#define RELAY_H

#include <sys/socket.h>
#include <signal.h>

struct config;
struct listener;

/*
 * Set up the worker's buffers.  stop is raised by the worker when it must
 * finish the request in flight and leave: relay then answers with
 * "Connection: close".  At 1 (retiring after a reload) a client idle in
 * keep-alive gets a short while to send its next request, which is then
 * answered and the connection closed, rather than have the connection
 * closed under a request it may be sending; at 2 (stopping) idle
 * connections close at once.
 */
void	relay_init(const struct config *cf, volatile sig_atomic_t *stop,
	    unsigned slot);
/*
 * Serve the client connection fd until it ends; closes fd.  Returns the
 * number of requests served.  l is the listening socket it came from:
 * its [listen] section is a route matcher, and requests to an [admin]
 * address are answered by admin.c, not forwarded.
 */
unsigned relay_serve(int fd, const struct sockaddr_storage *peer,
	    const struct listener *l);
/*
 * Where connections come back from the gate: the worker's listening
 * sockets, to find each one's listener again (after a reload too).
 */
void	relay_resume_init(const struct listener *ls, size_t nls);
/*
 * Take one connection the gate hands back on sock, if one is there (no
 * waiting), and serve it as relay_serve does.  Returns the number of
 * requests served.
 */
unsigned relay_resume(int sock);
/* Free the buffers and idle backend connections (worker exit). */
void	relay_fini(void);

#endif /* RELAY_H */
