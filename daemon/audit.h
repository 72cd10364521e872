/*
 * The audit trail: an append-only JSON-lines file of every isolation
 * verdict change and every new watcher violation.  Each record carries
 * the SHA-256 of the configuration in force and of the previous record
 * (a hash chain), so an auditor can show what was tested, when, and that
 * no record was removed or changed.  `netprobed --verify-audit FILE`
 * checks the chain.
 */
#ifndef DAEMON_AUDIT_H
#define DAEMON_AUDIT_H

#include <stdint.h>
#include <stdio.h>

struct np_labels;
struct audit;

/*
 * Open (create, mode 0640) or continue the trail at path: the chain goes
 * on from the file's last record; a torn tail gets a "recovered" record.
 * config_sha256 is the hex digest of the configuration in force.  NULL
 * with a message in err ("PATH: why") for a symbolic link, anything but
 * a regular file, a file whose first line is not a record, a trail that
 * another process holds (flock), or an I/O error.  Reads the file once
 * (streamed), so it blocks for as long as that takes.
 */
struct audit	*audit_open(const char *path, const char *config_sha256,
		    char *err, size_t errlen);
/* A reload: later records carry the new configuration's digest. */
void		 audit_set_config(struct audit *, const char *config_sha256);
/*
 * Append one record of this kind ("start", "verdict", "violation", ...)
 * with these fields (strings, in order).  a may be NULL (no trail):
 * nothing happens.  A write error is logged and counted, never fatal.
 */
void		 audit_record(struct audit *a, const char *kind,
		    const struct np_labels *fields);
/*
 * Write a "close" record (the daemon stops, or the trail moves to another
 * file), log its digest, close.  a may be NULL.
 */
void		 audit_close(struct audit *);
/*
 * Writes that failed or were cut short since the process started (all
 * trails together, so a reopened trail never resets it): for a counter
 * metric.
 */
uint64_t	 audit_write_errors(void);

/*
 * Check a trail: every line a record, every prev_sha256 the digest of
 * the line before, sequence numbers consecutive from 1, torn lines only
 * where a "recovered" record accounts for them.  Prints one line to out:
 * "PATH: intact: N records, seq A..B, first TIME, last TIME, K
 * configurations[, R torn writes recovered]", "PATH:LINE: broken: WHY"
 * or "PATH: unreadable: WHY".  Returns 0 intact, 1 broken, 2 unreadable.
 * Any file is safe to give it.
 */
int		 audit_verify(const char *path, FILE *out);

#endif
