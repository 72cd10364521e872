/*
 * Logging to stderr.  Under systemd (JOURNAL_STREAM set) each line starts
 * with a <N> syslog priority so journald keeps the level.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "netprobed.h"

static int	log_verbosity = LOG_LVL_INFO;
static int	log_journal;

void
log_init(int verbosity)
{
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	log_setlevel(verbosity);
}

void
log_setlevel(int verbosity)
{
	log_verbosity = verbosity;
}

static void	log_vmsg(enum log_level, const char *, va_list, const char *)
		    __attribute__((format(printf, 2, 0)));

static void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap, const char *suffix)
{
	static const int	 prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
				    LOG_DEBUG };
	static const char	*word[] = { "error", "warning", "info",
				    "debug" };
	char			 msg[1024];

	if ((int)lvl > log_verbosity)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal)
		fprintf(stderr, "<%d>%s%s%s\n", prio[lvl], msg,
		    suffix ? ": " : "", suffix ? suffix : "");
	else
		fprintf(stderr, "netprobed: %s: %s%s%s\n", word[lvl], msg,
		    suffix ? ": " : "", suffix ? suffix : "");
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_WARN, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
