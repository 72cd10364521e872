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

#include <stdio.h>

struct np_labels;
struct audit;

/*
 * Open (create, mode 0640) or continue the trail at path: the chain goes
 * on from the file's last record.  config_sha256 is the hex digest of the
 * configuration in force.  NULL with a message in err on failure.
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
void		 audit_close(struct audit *);

/*
 * Check a trail: every line a record, every prev_sha256 the digest of
 * the line before, sequence numbers consecutive.  Prints a summary (or
 * the first broken line and why) to out.  Returns 0 intact, 1 broken,
 * 2 unreadable.
 */
int		 audit_verify(const char *path, FILE *out);

#endif
