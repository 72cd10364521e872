/*
 * process_* metrics, as every Prometheus client library exports them,
 * read from /proc/self at scrape time.
 */
#include "config.h"

#include <sys/resource.h>

#include <dirent.h>
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

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);		/* the directory's own fd */
}

void
procstat_render(struct evbuffer *b, double start_time)
{
	FILE		*f;
	char		 buf[1024], *p;
	unsigned long	 utime = 0, stime = 0, vsize = 0;
	long		 rss = 0, tck = sysconf(_SC_CLK_TCK), pagesz;
	struct rlimit	 rl;
	int		 fds;

	pagesz = sysconf(_SC_PAGESIZE);
	if ((f = fopen("/proc/self/stat", "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL)
			/* fields 14, 15 (utime, stime), 23, 24 (vsize, rss) */
			sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			    "%*u %lu %lu %*d %*d %*d %*d %*d %*d %*u %lu %ld",
			    &utime, &stime, &vsize, &rss);
		fclose(f);
	}
	one(b, "process_cpu_seconds_total", "counter",
	    "Total user and system CPU time spent in seconds.",
	    tck > 0 ? (double)(utime + stime) / (double)tck : 0);
	if ((fds = count_fds()) >= 0)
		one(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.", fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		one(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.",
		    rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
	one(b, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.", (double)vsize);
	one(b, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.", (double)rss * (double)pagesz);
	one(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.",
	    start_time);
}
