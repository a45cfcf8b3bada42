/*
 * gate_tls.c - TLS connections at the gate (see gate_tls.h).
 *
 * A handshake holds a worker for as long as the client takes to send
 * its ClientHello, so a client that trickles it (or sends nothing) would
 * hold one for client_header_timeout.  The first record is whole in the
 * connection's first segment for nearly every client; the others wait in
 * the gate, which only peeks at the socket: the gate never reads a byte
 * of a TLS connection, so the worker's SSL_accept reads the record from
 * the socket as if nothing had happened, and no OpenSSL state ever has
 * to move between processes.
 *
 * A ClientHello may in principle span records; only the first is waited
 * for.  The rest, if any, is read by the worker's handshake, bounded by
 * client_header_timeout as before.
 */
#include <sys/socket.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>

#include "gate_tls.h"
#include "util.h"

#define GATE_TLS_HANDSHAKE	22	/* ContentType handshake */

int
gate_tls_hello(int fd)
{
	/* one process, one connection at a time: no need for the stack */
	static unsigned char	 rec[GATE_TLS_RECORD_MAX];
	size_t			 need;
	ssize_t			 n;

	n = recv(fd, rec, sizeof(rec), MSG_PEEK | MSG_DONTWAIT);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;		/* gone before a byte */
	/*
	 * Judge each header byte as soon as it is there: the type, the
	 * major version (3 for SSL 3.0 up to TLS 1.3, whose records all
	 * say 3.x), then the length, at most 2^14.
	 */
	if (rec[0] != GATE_TLS_HANDSHAKE || (n >= 2 && rec[1] != 3))
		return -1;
	if (n < 5)
		return 0;
	need = 5 + ((size_t)rec[3] << 8 | rec[4]);
	if (need > sizeof(rec) || need == 5)
		return -1;
	return (size_t)n >= need ? 1 : 0;
}

int
gate_tls_wait(int fd, int ms)
{
	struct pollfd	 pfd;
	int64_t		 end = util_now_ms() + ms, left;
	int		 rc;

	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	for (;;) {
		if ((rc = gate_tls_hello(fd)) != 0)
			return rc;
		if ((left = end - util_now_ms()) <= 0)
			return 0;
		/*
		 * A partial record keeps the socket readable: once one is
		 * there, look again every few ms instead of spinning.
		 */
		if (pfd.revents != 0)
			(void)poll(NULL, 0, left < 5 ? (int)left : 5);
		else
			(void)poll(&pfd, 1, (int)left);
	}
}
