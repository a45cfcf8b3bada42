/*
 * conn.h - a connected socket with an input buffer and deadlines.
 *
 * Reads and writes block; deadlines are the socket's SO_RCVTIMEO and
 * SO_SNDTIMEO, changed only when the wanted value differs from the one
 * set, so the usual request costs no extra system call.
 */
#ifndef CONN_H
#define CONN_H

#include <sys/types.h>
#include <sys/uio.h>
#include <stddef.h>

struct conn {
	int		 fd;
	void		*ssl;		/* TLS (tls.c), or NULL */
	int		 rcvtimeo;	/* ms currently set, -1 unknown */
	int		 sndtimeo;
	char		*buf;		/* input buffer */
	size_t		 cap;
	size_t		 start;		/* unconsumed data is buf[start..end) */
	size_t		 end;
	int		 sink;		/* writes vanish (a background fetch) */
};

void	conn_init(struct conn *, int fd, char *buf, size_t cap);
/* Close the socket (if open, ending TLS politely) and forget input. */
void	conn_close(struct conn *);
size_t	conn_pending(const struct conn *);
void	conn_consume(struct conn *, size_t n);
/* Move pending data to the front of the buffer. */
void	conn_compact(struct conn *);
/*
 * Read more into the buffer, waiting at most timeout_ms (0 = forever).
 * Returns bytes read, 0 at EOF, -1 on error with errno set: ETIMEDOUT
 * when the deadline passed, EINTR when a signal came, ENOBUFS when the
 * buffer is full.
 */
ssize_t	conn_fill(struct conn *, int timeout_ms);
/*
 * Take what a plain socket already holds, without waiting and without
 * touching its timeouts; 0 when nothing is there (or TLS, or EOF, which
 * the next conn_fill reports).
 */
ssize_t	conn_fill_ready(struct conn *);
/*
 * After a read returned 0: was that the end the peer meant?  Always on
 * a plain socket (a FIN; a reset is an error); on TLS only after the
 * peer's close_notify.
 */
int	conn_eof_clean(const struct conn *);
/* Read straight into dst, bypassing the buffer (same returns). */
ssize_t	conn_read(struct conn *, void *dst, size_t len, int timeout_ms);
/* Write everything; -1 on error or when timeout_ms passes without progress. */
int	conn_write(struct conn *, const void *, size_t, int timeout_ms);
int	conn_writev(struct conn *, struct iovec *, int iovcnt, int timeout_ms);
int	conn_set_rcvtimeo(struct conn *, int ms);

int	conn_set_sndtimeo(struct conn *, int ms);

/*
 * splice(2) a plain socket's bytes through a pipe.  conn_splice_in moves
 * at most len bytes (the pipe must have room for them) and returns how
 * many, 0 at end of stream, or -1 (ETIMEDOUT after timeout_ms).
 * conn_splice_out writes exactly len bytes from the pipe to dst (more:
 * further data follows, so the kernel may hold back a partial segment);
 * 0, or -1 with errno set.
 */
ssize_t	conn_splice_in(struct conn *src, int pipe_w, size_t len,
	    int timeout_ms);
int	conn_splice_out(struct conn *dst, int pipe_r, size_t len, int more,
	    int timeout_ms);

#endif /* CONN_H */
