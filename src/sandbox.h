/*
 * sandbox.h - the workers' system call allow-list (seccomp = on).
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stddef.h>

/* Confine the calling process for good.  -1 with err when it cannot. */
int	sandbox_enter(char *err, size_t errlen);

#endif /* SANDBOX_H */
