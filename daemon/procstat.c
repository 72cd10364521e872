/*
 * process_* metrics, as every Prometheus client library exports them,
 * read from /proc/self at scrape time.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "netprobed.h"

static void
one(struct evbuffer *b, const char *name, const char *type, const char *help,
    double v)
{
	char	num[64];

	format_double(v, num, sizeof(num));
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name,
	    help, name, type, name, num);
}

/*
 * /proc/self/stat and /proc/self/fd stay open from the start: a daemon
 * that has used up its descriptors (the very case worth seeing) can still
 * read them, and so can one that dropped root (/proc/self/fd of a process
 * that changed its uid is root's).  Not readable: the series is left out
 * for that scrape, never exported as 0 (a counter must not go back).
 */
static int	stat_fd = -1, fd_dir = -1;

void
procstat_open(void)
{
	if (stat_fd == -1)
		stat_fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd_dir == -1)
		fd_dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
}

static int
count_fds(void)
{
	char		 buf[4096];
	long		 n, off;
	int		 fds = 0;
	const struct dirent64 *de;

	if (fd_dir == -1 || lseek(fd_dir, 0, SEEK_SET) == -1)
		return (-1);
	while ((n = syscall(SYS_getdents64, fd_dir, buf, sizeof(buf))) > 0)
		for (off = 0; off < n; off += de->d_reclen) {
			de = (const struct dirent64 *)(void *)(buf + off);
			if (de->d_name[0] != '.')
				fds++;
		}
	return (n < 0 ? -1 : fds);
}

void
procstat_render(struct evbuffer *b, double start_time)
{
	char		 buf[1024], *p;
	unsigned long	 utime = 0, stime = 0, vsize = 0;
	long		 rss = 0, tck = sysconf(_SC_CLK_TCK), pagesz;
	struct rlimit	 rl;
	ssize_t		 r;
	int		 fds, got = 0;

	procstat_open();
	pagesz = sysconf(_SC_PAGESIZE);
	if (stat_fd != -1 && (r = pread(stat_fd, buf, sizeof(buf) - 1, 0)) >
	    0) {
		buf[r] = '\0';
		/* fields 14, 15 (utime, stime), 23, 24 (vsize, rss) */
		if ((p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
		    "%*u %lu %lu %*d %*d %*d %*d %*d %*d %*u %lu %ld",
		    &utime, &stime, &vsize, &rss) == 4)
			got = 1;
	}
	if (got && tck > 0)
		one(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.",
		    (double)(utime + stime) / (double)tck);
	if ((fds = count_fds()) >= 0)
		one(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.", fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		one(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.",
		    rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
	if (got) {
		one(b, "process_virtual_memory_bytes", "gauge",
		    "Virtual memory size in bytes.", (double)vsize);
		one(b, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.", (double)rss *
		    (double)pagesz);
	}
	one(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.",
	    start_time);
}
