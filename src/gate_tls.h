/*
 * gate_tls.h - TLS connections at the gate: a new connection on a TLS
 * listener waits there, holding no worker, until its ClientHello record
 * is whole.  Nothing is read: the bytes stay in the socket for the
 * worker's handshake.
 */
#ifndef GATE_TLS_H
#define GATE_TLS_H

/* The largest TLS record: a 5-byte header and 2^14 bytes. */
#define GATE_TLS_RECORD_MAX	(5 + 16384)

/*
 * What fd holds so far, looked at with MSG_PEEK (nothing consumed):
 * 1 the first record is a handshake record and has arrived whole, 0 not
 * yet, -1 the first bytes are not a TLS handshake record or the client
 * left before sending one.
 */
int	gate_tls_hello(int fd);
/*
 * Worker: wait up to ms for gate_tls_hello(fd) to say 1 or -1, and
 * return that; 0 when ms passed first (the caller parks the
 * connection).
 */
int	gate_tls_wait(int fd, int ms);

#endif /* GATE_TLS_H */
