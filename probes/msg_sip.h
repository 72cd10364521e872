/*
 * msg_sip: the SIP OPTIONS request the sip probe sends and a strict,
 * bounded parser for the response (RFC 3261).  Pure code, no I/O, so it
 * can be unit-tested and fuzzed.  Nothing here allocates.
 */
#ifndef MSG_SIP_H
#define MSG_SIP_H

#include <stddef.h>
#include <stdint.h>

/* RFC 3261 §18.1.1: a UDP request larger than this must go over TCP. */
#define SIP_UDP_MAX_REQUEST	1300
/* Largest response we read (UDP datagram or TCP message, body included). */
#define SIP_MAX_MSG		65536
/* Largest header block (start line to the empty line) we accept. */
#define SIP_MAX_HEADER		8192
/* The branch magic cookie (RFC 3261 §8.1.1.7). */
#define SIP_MAGIC_COOKIE	"z9hG4bK"
/* Sizes of the identifiers sip.c generates (hex text plus NUL). */
#define SIP_BRANCH_LEN		(sizeof(SIP_MAGIC_COOKIE) - 1 + 24 + 1)
#define SIP_TAG_LEN		(16 + 1)
#define SIP_CALLID_RAND_LEN	(32 + 1)
/* Longest Server/User-Agent text kept for the info metric, NUL excluded. */
#define SIP_INFO_MAX		128

/* A piece of the parsed buffer: not NUL-terminated, points into it. */
struct sip_str {
	const char	*p;
	size_t		 len;
};

/* What the request carries; every string is NUL-terminated. */
struct sip_request {
	int		 tcp;		/* transport: 0 UDP, 1 TCP */
	const char	*request_uri;	/* "sip:127.0.0.2:5060" */
	const char	*from_uri;	/* "sip:netprobed@127.0.0.1" */
	const char	*to_uri;
	const char	*contact_uri;	/* NULL: no Contact header */
	const char	*via_host;	/* our address: "127.0.0.1", "[::1]" */
	unsigned	 via_port;	/* our port */
	const char	*branch;	/* starts with SIP_MAGIC_COOKIE */
	const char	*from_tag;
	const char	*call_id;
	uint32_t	 cseq;		/* 1 .. 2^31-1 (§8.1.1.5) */
	const char	*user_agent;	/* NULL: no User-Agent header */
};

/*
 * Build an OPTIONS request (RFC 3261 §11, the mandatory headers of
 * §8.1.1, rport of RFC 3581, Content-Length 0) into buf, NUL-terminated.
 * Returns its length without the NUL, or 0 when it does not fit in len
 * (which must exceed the length) or a field is unusable (empty, a
 * CR/LF/control character or a space where none may be, a branch
 * without the magic cookie, cseq out of range).  Never writes past
 * buf + len.
 */
size_t		 sip_options_build(char *buf, size_t len,
		    const struct sip_request *);

/* Parse errors: every malformed input maps to one of these. */
enum sip_err {
	SIP_OK = 0,
	SIP_E_INCOMPLETE,	/* stream: need more bytes; datagram: cut */
	SIP_E_TOO_BIG,		/* header block or message over the limits */
	SIP_E_NOT_RESPONSE,	/* a request line, not a status line */
	SIP_E_STATUS_LINE,	/* not "SIP/2.0 NNN reason" with 100..699 */
	SIP_E_BAD_LINE,		/* bare CR/LF, NUL or control char, no colon */
	SIP_E_DUPLICATE,	/* Call-ID, CSeq, From, To or C-Length twice */
	SIP_E_MISSING,		/* no Via, From, To, Call-ID or CSeq */
	SIP_E_VIA,		/* top Via unparsable or without branch */
	SIP_E_FROM,		/* From (or To) unparsable */
	SIP_E_CALL_ID,
	SIP_E_CSEQ,
	SIP_E_CONTENT_LENGTH,	/* not a number, too big, beyond the data,
				   or missing on a stream */
	SIP_E_MAX
};

/* Words for an error, for logs and obs.detail ("bad Via header"). */
const char	*sip_strerror(enum sip_err);

/* The parts of a response the probe looks at. */
struct sip_response {
	unsigned	 code;		/* 100..699 */
	struct sip_str	 reason;
	/* the top Via: first value of the first Via header (§18.1.2) */
	struct sip_str	 via_transport;	/* "UDP" */
	struct sip_str	 via_host;	/* "127.0.0.1", "[::1]" */
	int		 via_port;	/* -1: none written */
	struct sip_str	 via_branch;
	struct sip_str	 call_id;
	uint32_t	 cseq;
	struct sip_str	 cseq_method;
	struct sip_str	 from_tag;	/* len 0: no tag */
	struct sip_str	 to_tag;	/* len 0: no tag */
	struct sip_str	 server;	/* len 0: no Server header */
	struct sip_str	 user_agent;	/* len 0: no User-Agent header */
	size_t		 content_length;
	int		 has_content_length;
	size_t		 header_len;	/* start line to the empty line */
	size_t		 msg_len;	/* header_len + body */
};

/*
 * Parse one response at the start of buf[0..len).  stream: the bytes
 * come from TCP, so a short buffer is SIP_E_INCOMPLETE (read more) and
 * Content-Length is required (§18.3); otherwise buf is one whole UDP
 * datagram, where Content-Length is optional but may not exceed the
 * data.  Header names are case-insensitive, compact forms count (§7.3.3)
 * and folded lines (§7.3.1) are joined.  Fills *r (whose sip_str fields
 * point into buf) and returns SIP_OK, or an error, with *r then
 * unspecified.  Reads nothing outside buf[0..len).
 */
enum sip_err	 sip_response_parse(const char *buf, size_t len, int stream,
		    struct sip_response *r);

/* Why a well-formed response is not the answer to our request. */
enum sip_mismatch {
	SIP_M_OK = 0,
	SIP_M_BRANCH,		/* top Via branch differs */
	SIP_M_SENT_BY,		/* top Via transport, host or port differs */
	SIP_M_CSEQ,		/* CSeq number or method differs */
	SIP_M_CALL_ID,
	SIP_M_FROM_TAG,
	SIP_M_MAX
};

const char	*sip_mismatch_str(enum sip_mismatch);

/*
 * Is r the answer to req (§17.1.3: top Via branch and CSeq method; then
 * the Via sent-by, CSeq number, Call-ID and From tag)?  Addresses in the
 * sent-by compare as addresses, so "[::1]" equals "[0:0::1]".
 */
enum sip_mismatch sip_response_match(const struct sip_response *r,
		    const struct sip_request *req);

/*
 * Copy a Server/User-Agent value for a label: folding and runs of
 * whitespace become one space, control characters and bytes that are
 * not valid UTF-8 become '?', ends are trimmed, and at most SIP_INFO_MAX
 * bytes are kept without cutting a character.  out must hold
 * SIP_INFO_MAX + 1 bytes; it is always NUL-terminated.
 */
void		 sip_info_sanitize(char *out, const struct sip_str *);

/*
 * Config checks for the probe's options.  Each returns NULL when the
 * text is usable, or a static reason.
 *   sip_uri_check: a "sip:" URI of printable ASCII without spaces,
 *     quotes or angle brackets.
 *   sip_user_check: a URI user part (§25.1 user: unreserved, escaped,
 *     and "&=+$,;?/").
 *   sip_text_check: header text (User-Agent) without control characters.
 */
const char	*sip_uri_check(const char *);
const char	*sip_user_check(const char *);
const char	*sip_text_check(const char *);

#endif /* MSG_SIP_H */
