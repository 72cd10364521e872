/*
 * The AgentX protocol (RFC 2741) as pure functions (msg_agentx.c): PDU
 * encoders, a defensive decoder, the object order of NETPROBE-MIB's two
 * tables, answering one request, master addresses.  No I/O, no clock.
 * The sub-agent on the loop is agentx.h.
 */
#ifndef DAEMON_MSG_AGENTX_H
#define DAEMON_MSG_AGENTX_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* For the config loader: NULL if master is a valid AgentX address, else
 * why not (a static string). */
const char	*agentx_master_check(const char *master);

/* base_len + 5 (1.T.1.COLUMN.ROW) must fit in an AgentX OID. */
#define AGENTX_BASE_MAX	123

/*
 * Parse a master address into a sockaddr (AF_UNIX, AF_INET or AF_INET6).
 * Returns 0, or -1 with a static reason in *why.  Never resolves names.
 */
int		 agentx_parse_master(const char *, struct sockaddr_storage *,
		    socklen_t *, const char **why);

/* ---- the AgentX codec (RFC 2741 section 6), pure -------------------- */

#define AX_HDR_LEN	20
#define AX_OID_MAX	128		/* RFC 2741 5.1: sub-ids at most */
#define AX_PDU_MAX	(256 * 1024)	/* largest payload we accept */

/* h.type (6.1) */
enum ax_type {
	AX_OPEN = 1, AX_CLOSE, AX_REGISTER, AX_UNREGISTER, AX_GET,
	AX_GETNEXT, AX_GETBULK, AX_TESTSET, AX_COMMITSET, AX_UNDOSET,
	AX_CLEANUPSET, AX_NOTIFY, AX_PING, AX_INDEXALLOCATE,
	AX_INDEXDEALLOCATE, AX_ADDAGENTCAPS, AX_REMOVEAGENTCAPS, AX_RESPONSE
};

/* h.flags (6.1) */
#define AX_F_INSTANCE_REGISTRATION	0x01
#define AX_F_NEW_INDEX			0x02
#define AX_F_ANY_INDEX			0x04
#define AX_F_NON_DEFAULT_CONTEXT	0x08
#define AX_F_NETWORK_BYTE_ORDER		0x10

/* v.type (5.4) */
enum ax_vtype {
	AX_V_INTEGER = 2, AX_V_OCTETS = 4, AX_V_NULL = 5, AX_V_OID = 6,
	AX_V_IPADDRESS = 64, AX_V_COUNTER32 = 65, AX_V_GAUGE32 = 66,
	AX_V_TIMETICKS = 67, AX_V_OPAQUE = 68, AX_V_COUNTER64 = 70,
	AX_V_NOSUCHOBJECT = 128, AX_V_NOSUCHINSTANCE = 129,
	AX_V_ENDOFMIBVIEW = 130
};

/* res.error (6.2.16): SNMP errors first, then AgentX's own */
#define AX_E_NOERROR		0
#define AX_E_TOOBIG		1
#define AX_E_GENERR		5
#define AX_E_NOTWRITABLE	17
#define AX_E_OPENFAILED		256
#define AX_E_NOTOPEN		257
#define AX_E_DUPLICATE		263
#define AX_E_PARSE		266
#define AX_E_PROCESSING		268

/* r.reason of a Close-PDU (6.2.2) */
#define AX_R_OTHER		1
#define AX_R_PARSE		2
#define AX_R_PROTOCOL		3
#define AX_R_TIMEOUTS		4
#define AX_R_SHUTDOWN		5
#define AX_R_BYMANAGER		6

struct ax_hdr {
	uint8_t		 version;
	uint8_t		 type;
	uint8_t		 flags;
	uint32_t	 sessid;
	uint32_t	 transid;
	uint32_t	 packetid;
	uint32_t	 paylen;
};

struct ax_oid {
	uint32_t	 sub[AX_OID_MAX];
	uint8_t		 n;
	uint8_t		 include;
};

/* A SearchRange (5.2): end.n == 0 means no upper bound. */
struct ax_range {
	struct ax_oid	 start;
	struct ax_oid	 end;
};

/*
 * A decoded PDU.  It borrows the buffer it was decoded from: the ranges
 * are read from it one at a time with ax_range_next(), so a PDU with
 * thousands of them costs no allocation.
 */
struct ax_pdu {
	struct ax_hdr	 h;
	const uint8_t	*buf;		/* the PDU, header included */
	size_t		 len;
	size_t		 list_off;	/* first range or varbind */
	size_t		 nitems;	/* ranges or varbinds */
	uint16_t	 non_repeaters;	/* GetBulk */
	uint16_t	 max_repetitions;
	uint32_t	 sysuptime;	/* Response */
	uint16_t	 error;
	uint16_t	 index;
	uint8_t		 reason;	/* Close */
};

/*
 * How long the PDU starting at buf is (header + payload), from its
 * header: 0 when fewer than AX_HDR_LEN bytes are there (read more), -1
 * when the header is unusable (version not 1, payload longer than
 * AX_PDU_MAX or not a multiple of 4): the stream cannot be resynced.
 */
ssize_t		 ax_frame_len(const uint8_t *buf, size_t len);
/*
 * Decode and validate one whole PDU of len bytes (ax_frame_len's value).
 * Every field of the types a sub-agent receives is checked (Get, GetNext,
 * GetBulk, TestSet/CommitSet/UndoSet/CleanupSet, Response, Close); other
 * types keep only the header.  Returns 0, or -1 with a static reason in
 * *why; p->h is filled in either case once the header was readable, so a
 * parse error can still be answered.
 */
int		 ax_decode(const uint8_t *buf, size_t len, struct ax_pdu *p,
		    const char **why);
/* The next SearchRange of a decoded Get/GetNext/GetBulk; *off starts at
 * 0.  Returns 1, or 0 after the last. */
int		 ax_range_next(const struct ax_pdu *, size_t *off,
		    struct ax_range *);

/* A value for a varbind: which union member is used depends on type. */
struct ax_value {
	uint16_t	 type;		/* enum ax_vtype */
	int32_t		 i;		/* INTEGER */
	uint32_t	 u;		/* Counter32, Gauge32, TimeTicks */
	uint64_t	 u64;		/* Counter64 */
	const void	*s;		/* OCTET STRING */
	size_t		 slen;
};

/*
 * Encoders: each appends one whole PDU to out, in network byte order.
 * OIDs are sent uncompressed (prefix 0, which 5.1 allows).
 */
void		 ax_enc_open(struct evbuffer *out, uint32_t packetid,
		    uint8_t timeout, const uint32_t *id, size_t idlen,
		    const char *descr);
void		 ax_enc_close(struct evbuffer *out, uint32_t sessid,
		    uint32_t packetid, uint8_t reason);
void		 ax_enc_register(struct evbuffer *out, uint32_t sessid,
		    uint32_t packetid, uint8_t priority,
		    const uint32_t *subtree, size_t len);
void		 ax_enc_ping(struct evbuffer *out, uint32_t sessid,
		    uint32_t packetid);
/* Append one VarBind to a list being built (for ax_enc_response). */
void		 ax_enc_varbind(struct evbuffer *list, const uint32_t *name,
		    size_t n, const struct ax_value *);
/* The Response to req: its ids, error, index, then the varbinds, which
 * are moved out of list (may be NULL). */
void		 ax_enc_response(struct evbuffer *out,
		    const struct ax_hdr *req, uint16_t error, uint16_t index,
		    struct evbuffer *list);

/* Lexicographic order of two OIDs: <0, 0, >0. */
int		 ax_oid_cmp(const uint32_t *, size_t, const uint32_t *,
		    size_t);

/* ---- the table view: which objects exist, in OID order -------------- */

/* Tables under B.1: npAlertTable (B.1.2) and npProbeTable (B.1.3). */
#define AX_T_ALERTS	0
#define AX_T_PROBES	1
#define AX_NTABLES	2
#define AX_TABLE_ARC(t)	((uint32_t)(2 + (t)))
/* Readable columns of both tables; column 1 is the index. */
#define AX_COL_FIRST	2
#define AX_COL_LAST	8

struct ax_view {
	const uint32_t	*base;
	size_t		 base_len;	/* <= AGENTX_BASE_MAX */
	uint32_t	 nrows[AX_NTABLES];
};

/* One object: B.1.(2+table).1.col.row */
struct ax_pos {
	unsigned	 table;
	uint32_t	 col;
	uint32_t	 row;		/* 1-based */
};

/* The object's OID into out (room for base_len + 5); its length. */
size_t		 ax_view_oid(const struct ax_view *,
		    const struct ax_pos *, uint32_t *out);
/*
 * Get (RFC 2741 7.2.3.1): 0 and *pos if the OID names an object, else
 * AX_V_NOSUCHINSTANCE (a column of a table, no such row) or
 * AX_V_NOSUCHOBJECT.
 */
int		 ax_view_get(const struct ax_view *, const uint32_t *oid,
		    size_t n, struct ax_pos *);
/*
 * GetNext (7.2.3.2): the first object after start (or equal to it with
 * include) and before end (end_n 0: no bound).  1 and *pos, or 0: none
 * (endOfMibView).
 */
int		 ax_view_next(const struct ax_view *, const uint32_t *start,
		    size_t start_n, int include, const uint32_t *end,
		    size_t end_n, struct ax_pos *);

/* ---- answering a request (pure) --------------------------------------- */

/* A Response grows to at most this (GetBulk stops short of it, Get and
 * GetNext answer tooBig beyond it). */
#define AX_RESPONSE_MAX	(512 * 1024)

/* The value of the object at pos, into *v; what v->s points to must stay
 * valid until the next call. */
typedef void	(*ax_value_fn)(void *arg, const struct ax_pos *,
		    struct ax_value *v);
/*
 * Answer a decoded Get, GetNext or GetBulk (RFC 2741 7.2.3) over the view,
 * values from fn: appends the whole Response to out.  Get: each OID's
 * value or noSuchObject/noSuchInstance; GetNext: the next object within
 * each range or endOfMibView; GetBulk: the non-repeaters as GetNext, then
 * up to max_repetitions rounds over the repeaters, stopping early when
 * all are at endOfMibView or the response passes AX_RESPONSE_MAX.
 */
void		 ax_answer(const struct ax_pdu *req, const struct ax_view *,
		    ax_value_fn fn, void *arg, struct evbuffer *out);

/* ---- value helpers (pure) ------------------------------------------- */

/* npProbeLastResult of a target_state's last_result (-1: none(0)). */
int		 ax_result_code(int last_result);
/* npAlertState of an enum alert_state (inactive on a kept alert is
 * resolved(4)). */
int		 ax_alert_state(int alert_state);
/* SNMPv2-TC DateAndTime, UTC ('+', 0, 0), of a unix time in ms, deci-
 * seconds from the ms: returns its length, 11, or 8 (all zero: unknown)
 * when there is no time (<= 0). */
size_t		 ax_date_and_time(int64_t unix_ms, uint8_t out[11]);
/* Length of the longest prefix of s of at most max bytes that does not
 * cut a UTF-8 sequence. */
size_t		 ax_utf8_prefix(const char *s, size_t max);
/* Successful runs per mille of all runs, rounded half up; 0 if none. */
uint32_t	 ax_per_mille(uint64_t ok, uint64_t all);

#endif /* DAEMON_MSG_AGENTX_H */
