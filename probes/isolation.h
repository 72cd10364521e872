/*
 * Negative probes (`expect: blocked`): the verdict of a run that must
 * not get through, the observer that collects the evidence for it, and
 * the verdict's series.  See isolation.c.
 */
#ifndef PROBES_ISOLATION_H
#define PROBES_ISOLATION_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "probes/probe.h"

enum iso_verdict {
	IV_BLOCKED = 0,		/* the path is closed, with evidence */
	IV_LEAK,		/* the packet got there */
	IV_INCONCLUSIVE,	/* cannot tell: local error, control failed */
	IV_MAX
};
const char	*iso_verdict_name(enum iso_verdict);

/* The positive control's state in the same cycle. */
enum iso_control {
	IC_NONE = 0,		/* no control configured */
	IC_OK,			/* its latest runs all succeeded */
	IC_FAILED,		/* one of them failed */
	IC_UNKNOWN,		/* no recent result */
};

struct iso_judgement {
	enum iso_verdict	 verdict;
	const char		*reason;	/* static: "timeout", "rst", ... */
	char			 from[NP_ADDRSTRLEN];	/* who answered, or "" */
};

/*
 * The verdict of a finished run of a negative probe, from its result,
 * the observer's evidence and the control.  Pure.
 */
void		 isolation_judge(const struct probe_run *, enum iso_control,
		    struct iso_judgement *);

/*
 * The observer: raw ICMP/ICMPv6 and TCP sockets in the run's network
 * context, open while a negative run is in flight, matching ICMP errors
 * that quote a packet to the target and RSTs from it.  unwatch reads
 * what is still queued before the run's result is judged.
 */
void		 isolation_watch(struct probe_run *);
void		 isolation_unwatch(struct probe_run *);
void		 isolation_shutdown(void);

/* ---- pure parsers (unit tests, fuzzing) ---------------------------- */

/* An ICMP or ICMPv6 error and the packet it quotes. */
struct iso_icmp_error {
	uint8_t			 type, code;
	int			 inner_family;	/* AF_INET or AF_INET6 */
	uint8_t			 inner_dst[16];	/* 4 or 16 bytes used */
	uint8_t			 inner_proto;	/* IPPROTO_TCP, _UDP, ... */
	int			 has_ports;
	uint16_t		 inner_sport, inner_dport;
};
/*
 * Parse an ICMP error (v4: destination unreachable or time exceeded,
 * with the IP header first when with_iphdr; v6: types 1 and 3, no IP
 * header).  0, or -1 for anything else, malformed or truncated.
 */
int		 iso_icmp_error_parse(const uint8_t *, size_t, int v6,
		    int with_iphdr, struct iso_icmp_error *);

/* A TCP segment: v4 with its IP header (ttl from it), v6 without. */
struct iso_tcp_segment {
	uint8_t			 src[16];	/* v4 only (v6: from recvmsg) */
	uint8_t			 ttl;		/* v4 only */
	uint16_t		 sport, dport;
	uint8_t			 flags;
};
int		 iso_tcp_parse(const uint8_t *, size_t, int v6,
		    struct iso_tcp_segment *);
/*
 * Hop distance of a sender from a received TTL: its initial TTL is taken
 * as the smallest common one (64, 128, 255) not below it; a directly
 * connected sender is 1.
 */
int		 iso_hops(int ttl);

/* ---- per-target state and series ----------------------------------- */

struct iso_state {
	int			 verdict;	/* enum iso_verdict, -1: none */
	const char		*reason;
	char			 from[NP_ADDRSTRLEN];
	int64_t			 since_ms;	/* wall, of the last change */
	struct series		*v[IV_MAX];
	struct series		*info;
};

void		 isolation_attach(struct target_state *);
void		 isolation_detach(struct target_state *);
/*
 * Export a judgement: the one-hot verdict, the reason series, and
 * probe_success (1 exactly when blocked).  Returns 1 if the verdict or
 * its reason changed (the caller logs and audits it).
 */
int		 isolation_record(struct target_state *,
		    const struct iso_judgement *);

#endif
