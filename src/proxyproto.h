/*
 * proxyproto.h - the PROXY protocol (versions 1 and 2) that a load
 * balancer in front of porter sends before the client's bytes, telling
 * the real client address.
 */
#ifndef PROXYPROTO_H
#define PROXYPROTO_H

#include <sys/socket.h>

/*
 * Read the PROXY header from fd (blocking; the socket's receive timeout
 * bounds it), consuming exactly its bytes.  On success returns 0 and sets
 * *src to the client address (unchanged for "UNKNOWN"/LOCAL).  Returns -1
 * for a missing or malformed header: the connection must be closed.
 */
int	proxyproto_read(int fd, struct sockaddr_storage *src);

#endif /* PROXYPROTO_H */
