/*
 * tls.h - OpenSSL: server contexts with SNI, session tickets whose keys
 * live in the shared segment (so every worker resumes every other
 * worker's sessions), client contexts toward backends, and blocking
 * reads and writes that look like recv/send to conn.c.
 */
#ifndef TLS_H
#define TLS_H

#include <sys/types.h>
#include <stddef.h>

struct listen_config;
struct pool_config;

/*
 * Build the server context of a [listen] section from its certificate
 * and key pairs (read now: the master does this before dropping
 * privileges).  On failure returns -1 with err and *line the line of the
 * offending certificate.
 */
int	tls_server_ctx(struct listen_config *l, int *line, char *err,
	    size_t errlen);
/* The client context of a pool with tls = on. */
int	tls_client_ctx(struct pool_config *pc, char *err, size_t errlen);
void	tls_ctx_free(void *);

/* Bytes of shared memory for the ticket keys. */
size_t	tls_keys_size(void);
/* Master: new keys in mem; rotate them later with tls_keys_rotate. */
void	tls_keys_init(void *mem);
void	tls_keys_rotate(void);

/*
 * Handshake as a server on fd (blocking, the socket's receive timeout
 * bounds it).  Returns the SSL, or NULL after logging why at info level.
 */
void	*tls_accept(int fd, void *server_ctx, const char *client);
/*
 * Handshake as a client toward a backend, offering *session (a previous
 * one to resume) and keeping the new ones there as they come, also after
 * the handshake (TLS 1.3 tickets): *session must outlive the connection.
 * NULL on failure (logged at warn level).
 */
void	*tls_connect(int fd, void *client_ctx, const char *name,
	    void **session);
/* recv/send semantics: -1 with errno (ETIMEDOUT on a deadline), 0 EOF. */
ssize_t	tls_read(void *ssl, void *buf, size_t len);
ssize_t	tls_write(void *ssl, const void *buf, size_t len);
/*
 * After tls_read returned 0: did the peer send close_notify (1), or just
 * close the connection (0: the data may have been cut short)?
 */
int	tls_eof_clean(void *ssl);
/* Does OpenSSL hold input (decrypted, or read ahead) poll cannot see? */
int	tls_pending(void *ssl);
/*
 * The client's certificate: 1 with its subject in buf when one was sent
 * and verified, 0 when none was sent, -1 when it did not verify.
 */
int	tls_peer_subject(void *ssl, char *buf, size_t len);
void	tls_free(void *ssl, int shutdown);
void	tls_session_free(void *session);

#endif /* TLS_H */
