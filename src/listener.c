/*
 * listener.c - binding the listening sockets.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"

#define LISTENER_WAIT_MS	1000
#define LISTENER_DEFER_S	1

static int
listener_bind(struct addr *a, unsigned backlog, char *err,
    size_t errlen)
{
	int	 fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket for %s: %s", a->str,
		    strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	/* [::]:80 and 0.0.0.0:80 may both be configured */
	if (a->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1)
		goto fail;
	if (listen(fd, (int)backlog) == -1)
		goto fail;
	/* port 0 asks the kernel for one: tell the operator which */
	a->len = sizeof(a->ss);
	if (getsockname(fd, (struct sockaddr *)&a->ss, &a->len) == -1)
		goto fail;
	util_addr_format(a);
	return fd;
fail:
	snprintf(err, errlen, "cannot listen on %s: %s", a->str,
	    strerror(errno));
	close(fd);
	return -1;
}

static int
listener_same(const struct addr *a, const struct addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static int
listener_taken(const struct listener *ls, size_t n, int fd)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (ls[i].fd == fd)
			return 1;
	return 0;
}

static int
listener_timeo(int fd, int opt, int ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) == -1 ? -1 : ms;
}

/*
 * Socket options.  A blocking accept() wakes up every LISTENER_WAIT_MS
 * (SO_RCVTIMEO on the listening socket) so that a worker notices it was
 * told to stop.  Accepted TCP connections inherit that, TCP_NODELAY and
 * SO_SNDTIMEO (send_timeout): the worker knows them without a system
 * call.  Set after every fallible step of a reload: until the old
 * workers retire, a connection they accept may get the new send_timeout,
 * never that of a configuration that was refused.
 */
static void
listener_options(struct listener *l, const struct config *cf)
{
	int	 one = 1, defer = LISTENER_DEFER_S, fam = l->addr.ss.ss_family;

	l->nodelay = l->rcvtimeo = l->sndtimeo = -1;
	if (listener_timeo(l->fd, SO_RCVTIMEO, LISTENER_WAIT_MS) == -1 ||
	    (fam != AF_INET && fam != AF_INET6))
		return;		/* unix sockets pass nothing on */
	l->rcvtimeo = LISTENER_WAIT_MS;
	if (setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == 0)
		l->nodelay = 1;
	/*
	 * HTTP clients speak first: a connection is accepted once its first
	 * bytes are in (or after LISTENER_DEFER_S without them), so a worker
	 * neither wakes twice nor sits on a connection that sends nothing.
	 */
	(void)setsockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer,
	    sizeof(defer));
	l->sndtimeo = listener_timeo(l->fd, SO_SNDTIMEO, cf->send_timeout);
}

struct listener *
listener_open_all(const struct config *cf, struct listener *old, size_t nold,
    size_t *n, char *err, size_t errlen)
{
	struct listener	*ls;
	size_t		 i, j, o, total = 0, k = 0;
	int		 flags;

	for (i = 0; i < cf->nlistens; i++)
		total += cf->listens[i].naddrs;
	total += cf->admin.naddrs;
	if ((ls = calloc(total, sizeof(*ls))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* the [admin] addresses come last, as section index nlistens */
	for (i = 0; i <= cf->nlistens; i++)
		for (j = 0; j < (i < cf->nlistens ? cf->listens[i].naddrs :
		    cf->admin.naddrs); j++, k++) {
			ls[k].conf = i < cf->nlistens ?
			    cf->listens[i].addrs[j] : cf->admin.addrs[j];
			ls[k].addr = ls[k].conf;
			ls[k].listen = i;
			ls[k].admin = i == cf->nlistens;
			ls[k].fd = -1;
			/*
			 * Several "HOST:0" addresses look alike: each old
			 * socket goes to one new one, in order.
			 */
			for (o = 0; o < nold; o++)
				if (old[o].fd != -1 &&
				    listener_same(&old[o].conf, &ls[k].conf) &&
				    !listener_taken(ls, k, old[o].fd)) {
					ls[k].addr = old[o].addr;
					ls[k].fd = old[o].fd;
					break;
				}
			if (ls[k].fd == -1)
				ls[k].fd = listener_bind(&ls[k].addr,
				    i < cf->nlistens ? cf->listens[i].backlog :
				    64, err, errlen);
			if (ls[k].fd == -1)
				goto fail;
		}
	for (k = 0; k < total; k++) {
		if ((flags = fcntl(ls[k].fd, F_GETFL)) == -1 ||
		    fcntl(ls[k].fd, F_SETFL, flags | O_NONBLOCK) == -1) {
			snprintf(err, errlen, "fcntl: %s", strerror(errno));
			goto fail;
		}
	}
	for (k = 0; k < total; k++)
		listener_options(&ls[k], cf);
	/* success: the taken-over sockets now belong to the new array */
	for (k = 0; k < total; k++)
		for (o = 0; o < nold; o++)
			if (old[o].fd == ls[k].fd)
				old[o].fd = -1;
	*n = total;
	return ls;
fail:
	/* close only what was bound here, never a socket of old */
	for (j = 0; j < total; j++) {
		if (ls[j].fd == -1)
			continue;
		for (o = 0; o < nold; o++)
			if (old[o].fd == ls[j].fd)
				break;
		if (o == nold)
			close(ls[j].fd);
	}
	free(ls);
	return NULL;
}

void
listener_close_all(struct listener *ls, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (ls[i].fd != -1)
			close(ls[i].fd);
	free(ls);
}

int
listener_export(const struct listener *ls, size_t n, char *buf, size_t len)
{
	size_t	 i, off = 0;
	int	 r;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		r = snprintf(buf + off, len - off, "%d %s %s;", ls[i].fd,
		    ls[i].conf.str, ls[i].addr.str);
		if (r < 0 || (size_t)r >= len - off)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

struct listener *
listener_import(const char *value, size_t *n)
{
	struct listener	*ls = NULL, *nls;
	char		*dup, *item, *save = NULL, conf[64], bound[64];
	char		 err[128];
	int		 fd;

	*n = 0;
	if (value == NULL || (dup = strdup(value)) == NULL)
		return NULL;
	for (item = strtok_r(dup, ";", &save); item != NULL;
	    item = strtok_r(NULL, ";", &save)) {
		if (sscanf(item, "%d %63s %63s", &fd, conf, bound) != 3 ||
		    fd < 3)
			continue;
		if ((nls = realloc(ls, (*n + 1) * sizeof(*ls))) == NULL)
			break;
		ls = nls;
		memset(&ls[*n], 0, sizeof(ls[*n]));
		ls[*n].fd = fd;
		if (util_parse_addr(conf, &ls[*n].conf, err, sizeof(err)) == -1 ||
		    util_parse_addr(bound, &ls[*n].addr, err, sizeof(err)) == -1) {
			close(fd);
			continue;
		}
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		(*n)++;
	}
	free(dup);
	return ls;
}

size_t
listener_backlog(const struct listener *ls, size_t n)
{
	struct tcp_info	 ti;
	socklen_t	 len;
	size_t		 i, total = 0;
	int		 fam;

	for (i = 0; i < n; i++) {
		fam = ls[i].addr.ss.ss_family;
		if (ls[i].fd == -1 || (fam != AF_INET && fam != AF_INET6))
			continue;
		len = sizeof(ti);
		memset(&ti, 0, sizeof(ti));
		/* for a listening socket: connections waiting in accept */
		if (getsockopt(ls[i].fd, IPPROTO_TCP, TCP_INFO, &ti,
		    &len) == 0 && ti.tcpi_state == TCP_LISTEN)
			total += ti.tcpi_unacked;
	}
	return total;
}
