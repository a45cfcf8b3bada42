/*
 * proc.c - process plumbing shared by the master and workers.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "proc.h"

int
proc_creds_resolve(const struct config *cf, struct proc_creds *pc, char *err,
    size_t errlen)
{
	struct passwd	*pw;
	struct group	*gr;

	memset(pc, 0, sizeof(*pc));
	if (geteuid() != 0)
		return 0;	/* not root: nothing to change; run as we are */
	if (cf->user == NULL) {
		snprintf(err, errlen, "%s: porter runs as root but no user is "
		    "set for the workers (set user = NAME, or user = root to "
		    "run them as root)", cf->file);
		return -1;
	}
	if (cf->chroot != NULL)
		snprintf(pc->chroot, sizeof(pc->chroot), "%s", cf->chroot);
	if ((pw = getpwnam(cf->user)) == NULL) {
		snprintf(err, errlen, "user \"%s\" does not exist", cf->user);
		return -1;
	}
	pc->change = 1;
	pc->uid = pw->pw_uid;
	pc->gid = pw->pw_gid;
	snprintf(pc->user, sizeof(pc->user), "%s", cf->user);
	if (cf->group != NULL) {
		if ((gr = getgrnam(cf->group)) == NULL) {
			snprintf(err, errlen, "group \"%s\" does not exist",
			    cf->group);
			return -1;
		}
		pc->gid = gr->gr_gid;
	}
	return 0;
}

int
proc_creds_drop(const struct proc_creds *pc, char *err, size_t errlen)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg;

	if (pc->chroot[0] != '\0' &&
	    (chroot(pc->chroot) == -1 || chdir("/") == -1)) {
		snprintf(err, errlen, "chroot %s: %s", pc->chroot,
		    strerror(errno));
		return -1;
	}
	if (!pc->change || pc->uid == 0)
		return 0;
	if (setgroups(1, &pc->gid) == -1 ||
	    setresgid(pc->gid, pc->gid, pc->gid) == -1 ||
	    setresuid(pc->uid, pc->uid, pc->uid) == -1) {
		snprintf(err, errlen, "cannot become %s: %s", pc->user,
		    strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != pc->uid || eu != pc->uid || su != pc->uid ||
	    rg != pc->gid || eg != pc->gid || sg != pc->gid) {
		snprintf(err, errlen, "privileges not dropped to %s",
		    pc->user);
		return -1;
	}
	return 0;
}

void
proc_signals(void (*handler)(int), const int *caught)
{
	static const int	 ours[] = { SIGQUIT, SIGWINCH, SIGUSR1, SIGTERM,
	    SIGINT, 0 };
	static const int	 ignored[] = { SIGPIPE, SIGHUP, SIGUSR2, 0 };
	struct sigaction	 sa;
	sigset_t		 none;
	int			 i, j, mine;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (i = 0; ours[i] != 0; i++) {
		for (mine = 0, j = 0; caught[j] != 0; j++)
			mine |= caught[j] == ours[i];
		sa.sa_handler = mine ? handler : ours[i] == SIGTERM ||
		    ours[i] == SIGINT ? SIG_DFL : SIG_IGN;
		sigaction(ours[i], &sa, NULL);
	}
	sa.sa_handler = SIG_IGN;
	for (i = 0; ignored[i] != 0; i++)
		sigaction(ignored[i], &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void
proc_harden(void)
{
	struct rlimit	 rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int
proc_daemonize(char *err, size_t errlen)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1)
		goto fail;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		goto fail;
	if ((pid = fork()) == -1)
		goto fail;
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		goto fail;
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		goto fail;
	(void)dup2(fd, 0);
	(void)dup2(fd, 1);
	(void)dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
fail:
	snprintf(err, errlen, "daemonize: %s", strerror(errno));
	return -1;
}

int
proc_pidfile_write(const char *path, char *err, size_t errlen)
{
	char	 buf[32], tmp[4096];
	int	 fd, n;

	/* write then rename: a reader never sees a half-written file */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		goto fail;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
	(void)unlink(tmp);
	return -1;
}

void
proc_pidfile_remove(const char *path)
{
	(void)unlink(path);
}

pid_t
proc_pidfile_read(const char *path, char *err, size_t errlen)
{
	char	 buf[64], exe[64], link[4096];
	FILE	*fp;
	long	 pid;
	ssize_t	 n;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s (is porter running?)", path,
		    strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof(buf), fp) == NULL ||
	    sscanf(buf, "%ld", &pid) != 1 || pid <= 1) {
		fclose(fp);
		snprintf(err, errlen, "%s: no pid in it", path);
		return -1;
	}
	fclose(fp);
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH) {
		snprintf(err, errlen, "%s: stale pid file: process %ld is not "
		    "running", path, pid);
		return -1;
	}
	/* a recycled pid belongs to something else */
	snprintf(exe, sizeof(exe), "/proc/%ld/exe", pid);
	if ((n = readlink(exe, link, sizeof(link) - 1)) > 0) {
		link[n] = '\0';
		if (strstr(link, "porter") == NULL) {
			snprintf(err, errlen, "%s: stale pid file: process %ld "
			    "is %s, not porter", path, pid, link);
			return -1;
		}
	}
	return (pid_t)pid;
}
