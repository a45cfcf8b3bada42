/*
 * sandbox.c - a seccomp-bpf allow-list for workers and the gate
 * (seccomp = on).
 *
 * After start-up a worker only needs to accept, read, write, connect,
 * poll, allocate, take shared locks, keep time and reopen its logs.
 * Anything else kills the process (SIGSYS); the master logs it and
 * starts another worker.  Built without libseccomp: the filter is a
 * short BPF program checking the architecture and then the system call
 * number against the list.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "sandbox.h"

#if defined(__x86_64__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#endif

static const int sandbox_allowed[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64,
	SYS_recvfrom, SYS_sendto, SYS_recvmsg, SYS_sendmsg,
	SYS_accept4, SYS_connect, SYS_socket, SYS_shutdown, SYS_close,
	SYS_setsockopt, SYS_getsockopt, SYS_getsockname, SYS_getpeername,
	SYS_ppoll, SYS_fcntl, SYS_dup3, SYS_openat, SYS_lseek,
	SYS_splice, SYS_pipe2,
	/* spooled request bodies: the worker sends them from their file */
	SYS_sendfile,
	/* waiting on listeners and the gate, and the gate's own loop */
	SYS_epoll_create1, SYS_epoll_ctl, SYS_epoll_pwait,
#ifdef SYS_epoll_wait
	SYS_epoll_wait,
#endif
	SYS_newfstatat, SYS_fstat, SYS_statx,
	SYS_brk, SYS_mmap, SYS_munmap, SYS_mremap, SYS_madvise, SYS_mprotect,
	SYS_futex, SYS_set_robust_list, SYS_get_robust_list,
	SYS_clock_gettime, SYS_gettimeofday, SYS_clock_nanosleep,
	SYS_nanosleep, SYS_getrandom, SYS_getpid, SYS_getppid, SYS_gettid,
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn,
	SYS_sigaltstack, SYS_restart_syscall, SYS_sched_yield,
	SYS_exit, SYS_exit_group, SYS_tgkill, SYS_uname,
#ifdef SYS_poll
	SYS_poll,
#endif
#ifdef SYS_dup2
	SYS_dup2,
#endif
#ifdef SYS_time
	SYS_time,
#endif
#ifdef SYS_open
	SYS_open,
#endif
#ifdef SYS_rseq
	SYS_rseq,
#endif
};

int
sandbox_enter(char *err, size_t errlen)
{
#ifdef SANDBOX_ARCH
	enum { N = sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]) };
	struct sock_filter	 prog[N + 6];
	struct sock_fprog	 fprog;
	size_t			 i, k = 0;

	/* the architecture, then the number, then the list */
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SANDBOX_ARCH, 1, 0);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	for (i = 0; i < N; i++)
		/* a match jumps to the ALLOW at the end */
		prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, (unsigned)sandbox_allowed[i], (unsigned char)(N - i),
		    0);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
	fprog.len = (unsigned short)k;
	fprog.filter = prog;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) == -1) {
		snprintf(err, errlen, "seccomp: %s", strerror(errno));
		return -1;
	}
	return 0;
#else
	snprintf(err, errlen, "seccomp: not supported on this architecture");
	return -1;
#endif
}
