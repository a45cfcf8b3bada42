/*
 * gate_shed.h - idle TLS keep-alive connections given up under pressure.
 *
 * An established TLS session cannot move to the gate (its state lives
 * in the worker's OpenSSL), so a TLS client idle between requests holds
 * its worker.  When every worker is busy, the pool is at max_workers
 * and connections wait (in a listen queue or in the gate's ready
 * queue), the master picks the longest-idle of those connections and
 * their workers close them between requests, each freeing a worker for
 * a waiting client.  A client of an idle keep-alive connection retries
 * on a new one (RFC 9112, 9.3.1), so nothing is lost.
 *
 * Each worker's scoreboard slot carries the mark: tls_idle is 0, or
 * the time its TLS keep-alive wait began (ms, low bits) with
 * GATE_SHED_IDLE set, and GATE_SHED_ASKED once the master asks it to
 * close.
 */
#ifndef GATE_SHED_H
#define GATE_SHED_H

#include <stddef.h>

/* How often a worker idle on TLS looks whether it is asked to close. */
#define GATE_SHED_MS	100

/*
 * Master, every tick: waiting connections, idle workers, and whether
 * the pool may still grow.  Asks as many idle TLS keep-alive
 * connections to close as connections wait (those asked already
 * included), longest-idle first; takes the asks back when no longer
 * needed.  Returns how many are asked now.
 */
unsigned gate_shed_maintain(size_t waiting, unsigned idle, int at_max);
/* Worker: its TLS keep-alive wait begins (1) or ends (0). */
void	gate_shed_idle(int on);
/* Worker, idle on TLS: 1 when the master asked it to close. */
int	gate_shed_asked(void);

#endif /* GATE_SHED_H */
