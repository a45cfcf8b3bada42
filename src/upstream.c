/*
 * upstream.c - backend connections.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"

struct upstream_idle {
	int		 fd;
	void		*ssl;
	int		 timeo[2];
	size_t		 pool, srv;
	int64_t		 since;		/* util_now_ms() when parked */
};

static struct upstream_idle	*up_idle;
static size_t			 up_nidle, up_cap;
static void			*up_sessions[1024];	/* by backend slot */

void **
upstream_session(unsigned hslot)
{
	return &up_sessions[hslot % 1024];
}

void
upstream_close(int fd, void *ssl)
{
	tls_free(ssl, 1);
	close(fd);
}

int
upstream_connect(const struct addr *a, int timeout_ms)
{
	struct pollfd	 pfd;
	socklen_t	 len;
	int		 fd, rc, soerr, one = 1, flags;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (a->ss.ss_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	rc = connect(fd, (const struct sockaddr *)&a->ss, a->len);
	if (rc == -1 && errno != EINPROGRESS)
		goto fail;
	if (rc == -1) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do {
			rc = poll(&pfd, 1, timeout_ms);
		} while (rc == -1 && errno == EINTR);
		if (rc == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (rc == -1)
			goto fail;
		len = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
			goto fail;
		if (soerr != 0) {
			errno = soerr;
			goto fail;
		}
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1)
		goto fail;
	return fd;
fail:
	rc = errno;
	close(fd);
	errno = rc;
	return -1;
}

void
upstream_init(size_t slots)
{
	up_cap = slots;
	if ((up_idle = calloc(slots ? slots : 1, sizeof(*up_idle))) == NULL)
		fatal("calloc");
	up_nidle = 0;
}

static void
upstream_drop(size_t i)
{
	upstream_close(up_idle[i].fd, up_idle[i].ssl);
	up_idle[i] = up_idle[--up_nidle];
}

/*
 * Has an idle connection stayed silent?  Bytes a server sent after its
 * response (or its close) must never be read as the answer to the next
 * request, which may be another client's (RFC 9112 6.3).
 */
static int
upstream_quiet(const struct upstream_idle *u)
{
	char	 c;
	ssize_t	 n;

	if (u->ssl != NULL && tls_pending(u->ssl))
		return 0;
	n = recv(u->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int
upstream_take(size_t pool, size_t srv, const struct pool_config *pc,
    void **ssl, int timeo[2])
{
	int64_t	 now = util_now_ms();
	size_t	 i;
	int	 fd;

	/* newest first: the most recently used connection is the warmest */
	for (i = up_nidle; i-- > 0;) {
		if (now - up_idle[i].since > pc->keepalive_timeout &&
		    up_idle[i].pool == pool) {
			upstream_drop(i);
			continue;
		}
		if (up_idle[i].pool == pool && up_idle[i].srv == srv) {
			if (!upstream_quiet(&up_idle[i])) {
				upstream_drop(i);
				continue;
			}
			fd = up_idle[i].fd;
			*ssl = up_idle[i].ssl;
			timeo[0] = up_idle[i].timeo[0];
			timeo[1] = up_idle[i].timeo[1];
			up_idle[i] = up_idle[--up_nidle];
			return fd;
		}
	}
	return -1;
}

void
upstream_put(int fd, void *ssl, const int timeo[2], size_t pool, size_t srv,
    const struct pool_config *pc)
{
	size_t	 i, n = 0, oldest = SIZE_MAX;

	for (i = 0; i < up_nidle; i++)
		if (up_idle[i].pool == pool) {
			n++;
			if (oldest == SIZE_MAX ||
			    up_idle[i].since < up_idle[oldest].since)
				oldest = i;
		}
	if (pc->keepalive == 0) {
		upstream_close(fd, ssl);
		return;
	}
	if (n >= pc->keepalive || up_nidle == up_cap) {
		if (oldest == SIZE_MAX) {
			upstream_close(fd, ssl);
			return;
		}
		upstream_drop(oldest);
	}
	up_idle[up_nidle].fd = fd;
	up_idle[up_nidle].ssl = ssl;
	up_idle[up_nidle].timeo[0] = timeo[0];
	up_idle[up_nidle].timeo[1] = timeo[1];
	up_idle[up_nidle].pool = pool;
	up_idle[up_nidle].srv = srv;
	up_idle[up_nidle].since = util_now_ms();
	up_nidle++;
}

void
upstream_close_idle(void)
{
	while (up_nidle > 0)
		upstream_drop(up_nidle - 1);
}
