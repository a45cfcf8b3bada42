/*
 * listener.c - binding the listening sockets.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"

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

struct listener *
listener_open_all(const struct config *cf, size_t *n, char *err,
    size_t errlen)
{
	struct listener	*ls;
	size_t		 i, j, total = 0, k = 0;

	for (i = 0; i < cf->nlistens; i++)
		total += cf->listens[i].naddrs;
	if ((ls = calloc(total, sizeof(*ls))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < cf->nlistens; i++)
		for (j = 0; j < cf->listens[i].naddrs; j++) {
			ls[k].addr = cf->listens[i].addrs[j];
			ls[k].listen = i;
			ls[k].fd = listener_bind(&ls[k].addr,
			    cf->listens[i].backlog, err, errlen);
			if (ls[k].fd == -1) {
				listener_close_all(ls, k);
				return NULL;
			}
			if (total > 1 && fcntl(ls[k].fd, F_SETFL,
			    O_NONBLOCK) == -1) {
				snprintf(err, errlen, "fcntl: %s",
				    strerror(errno));
				listener_close_all(ls, k + 1);
				return NULL;
			}
			k++;
		}
	*n = total;
	return ls;
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
