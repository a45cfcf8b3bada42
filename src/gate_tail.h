/*
 * gate_tail.h - the gate's side of response tails (HANDOFF_TAIL_RELAY):
 * a worker's slow client and its backend, relayed at the client's pace.
 */
#ifndef GATE_TAIL_H
#define GATE_TAIL_H

#include <sys/types.h>
#include <signal.h>
#include <stdint.h>

struct handoff;
struct stats_shm;

/*
 * In the gate, once: returns the epoll descriptor the tails are watched
 * on, for the gate's own epoll (it becomes readable when a tail can
 * move).
 */
int	gate_tail_init(struct stats_shm *);
/*
 * A tail record: take it; fds[0] and fds[1] are the gate's now (closed
 * when the record is not a valid tail).
 */
void	gate_tail_take(const struct handoff *, int *fds, const char *data);
/* The tails' epoll is readable: move what can move. */
void	gate_tail_run(void);
/* Close tails that made no progress within their timeouts. */
void	gate_tail_expire(int64_t now);
/*
 * The gate is stopping: relay what it has until it is done, *stop
 * becomes 1 (hurry) or the master is gone.
 */
void	gate_tail_drain(pid_t master, volatile sig_atomic_t *stop);
/* The gate exits: what it relays is cut short (logged once). */
void	gate_tail_fini(void);

#endif /* GATE_TAIL_H */
