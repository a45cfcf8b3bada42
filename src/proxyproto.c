/*
 * proxyproto.c - PROXY protocol v1 (text) and v2 (binary) receiver.
 *
 * The header is peeked first and then read to its exact length, so not
 * one byte of the client's own data is taken.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

static const unsigned char pp2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* Peek until n bytes are there (or the peer/timeout gives up). */
static ssize_t
pp_peek(int fd, unsigned char *buf, size_t n)
{
	ssize_t	 r;
	int	 tries;

	for (tries = 0; tries < 64; tries++) {
		r = recv(fd, buf, n, MSG_PEEK);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0 || (size_t)r >= n)
			return r;
		/* a header split over packets: wait for the rest */
		r = recv(fd, buf, n, MSG_PEEK | MSG_WAITALL);
		return r;
	}
	return -1;
}

static int
pp_consume(int fd, size_t n)
{
	unsigned char	 buf[536];
	ssize_t		 r;

	while (n > 0) {
		r = recv(fd, buf, n < sizeof(buf) ? n : sizeof(buf), 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n -= (size_t)r;
	}
	return 0;
}

static int
pp_v1(int fd, struct sockaddr_storage *src)
{
	unsigned char	 buf[108];
	char		 line[108], proto[8], sip[64], dip[64];
	unsigned	 sport, dport;
	ssize_t		 r;
	size_t		 len;
	char		*crlf;

	/* at most 107 bytes, ending in CRLF */
	if ((r = recv(fd, buf, sizeof(buf) - 1, MSG_PEEK)) <= 0)
		return -1;
	memcpy(line, buf, (size_t)r);
	line[r] = '\0';
	if ((crlf = strstr(line, "\r\n")) == NULL)
		return -1;
	len = (size_t)(crlf - line) + 2;
	*crlf = '\0';
	if (strcmp(line, "PROXY UNKNOWN") == 0 ||
	    strncmp(line, "PROXY UNKNOWN ", 14) == 0)
		return pp_consume(fd, len);
	if (sscanf(line, "PROXY %7s %63s %63s %u %u", proto, sip, dip, &sport,
	    &dport) != 5 || sport > 65535 || dport > 65535)
		return -1;
	memset(src, 0, sizeof(*src));
	if (strcmp(proto, "TCP4") == 0) {
		struct sockaddr_in *in = (struct sockaddr_in *)src;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)sport);
		if (inet_pton(AF_INET, sip, &in->sin_addr) != 1)
			return -1;
	} else if (strcmp(proto, "TCP6") == 0) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)src;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)sport);
		if (inet_pton(AF_INET6, sip, &in6->sin6_addr) != 1)
			return -1;
	} else
		return -1;
	return pp_consume(fd, len);
}

static int
pp_v2(int fd, struct sockaddr_storage *src)
{
	unsigned char	 buf[16 + 216];
	size_t		 len;
	unsigned char	 cmd, fam;

	if (pp_peek(fd, buf, 16) != 16)
		return -1;
	if ((buf[12] & 0xf0) != 0x20)
		return -1;		/* version 2 only */
	cmd = buf[12] & 0x0f;
	fam = buf[13];
	len = ((size_t)buf[14] << 8) | buf[15];
	if (len > sizeof(buf) - 16)
		return -1;
	if (pp_peek(fd, buf, 16 + len) != (ssize_t)(16 + len))
		return -1;
	if (cmd == 0x0)
		return pp_consume(fd, 16 + len);	/* LOCAL: as is */
	if (cmd != 0x1)
		return -1;
	if (fam == 0x00)
		return pp_consume(fd, 16 + len);	/* unspecified: as is */
	memset(src, 0, sizeof(*src));
	if (fam == 0x11 && len >= 12) {			/* TCP over IPv4 */
		struct sockaddr_in *in = (struct sockaddr_in *)src;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, buf + 16, 4);
		memcpy(&in->sin_port, buf + 24, 2);
	} else if (fam == 0x21 && len >= 36) {		/* TCP over IPv6 */
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)src;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, buf + 16, 16);
		memcpy(&in6->sin6_port, buf + 48, 2);
	} else
		return -1;
	return pp_consume(fd, 16 + len);
}

int
proxyproto_read(int fd, struct sockaddr_storage *src)
{
	unsigned char	 head[12];
	ssize_t		 r;

	if ((r = pp_peek(fd, head, sizeof(head))) < 6)
		return -1;
	if (r == 12 && memcmp(head, pp2_sig, 12) == 0)
		return pp_v2(fd, src);
	if (memcmp(head, "PROXY ", 6) == 0)
		return pp_v1(fd, src);
	return -1;
}
