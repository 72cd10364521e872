/*
 * msg_h225: pure encoders and bounded decoders for the H.323 probe.
 *
 * H.225.0 RAS (GRQ/LRQ out; GCF, GRJ, LCF, LRJ, RIP, XRS in) and H.225.0
 * call signalling (TPKT + Q.931 + the User-user IE carrying the
 * H323-UserInformation: Setup and Release Complete out; any Q.931
 * message in).  ASN.1 is ALIGNED PER (ITU-T X.691); the layouts follow
 * shared/PROTOCOLS.md sections 0 to 2, whose vectors tshark checked.
 *
 * No I/O, no clock, no allocation.  Builders write into the caller's
 * buffer and return the length, or 0 if it does not fit or an input is
 * invalid.  Parsers never read past the given length; they return 0, or
 * -1 with a static reason in *why.  Strings returned in results are
 * static (names) or live in the result struct itself.
 */
#ifndef MSG_H225_H
#define MSG_H225_H

#include <stddef.h>
#include <stdint.h>

/* RasMessage root alternatives we use (H.225.0 clause 7, 5-bit index). */
#define H225_RAS_GRQ		0
#define H225_RAS_GCF		1
#define H225_RAS_GRJ		2
#define H225_RAS_LRQ		18
#define H225_RAS_LCF		19
#define H225_RAS_LRJ		20
#define H225_RAS_XRS		24	/* unknownMessageResponse */
#define H225_RAS_RIP		100	/* extension 0: requestInProgress */
#define H225_RAS_OTHER		101	/* any other alternative */

#define H225_GUID_LEN		16
#define H225_ALIAS_MAX		256	/* h323-ID characters */
#define H225_DIGITS_MAX		128	/* dialledDigits */
#define H225_NUMBER_MAX		32	/* Q.931 called party number */
#define H225_TPKT_MAX		8192	/* accepted TPKT length (RFC 1006) */
#define H225_TPKT_HDR		4

/* A transport address: our RAS socket, as the gatekeeper sees it. */
struct h225_taddr {
	int		 v6;
	uint8_t		 ip[16];	/* 4 or 16 octets used */
	uint16_t	 port;
};

/*
 * Alias text as configured: dialledDigits when every character is one
 * of "0123456789#*," (1 to 128 of them), else an h323-ID (1 to 256
 * characters of the Basic Multilingual Plane, given as UTF-8).  Returns
 * NULL if valid, else why not.
 */
const char	*h225_alias_check(const char *);
/* Q.931 called party number: 1 to 32 of "0123456789*#"; NULL if valid. */
const char	*h225_number_check(const char *);

/*
 * GatekeeperRequest (RAS, H.225.0 7.8.1): requestSeqNum seq (1..65535),
 * protocolIdentifier v4, rasAddress ras, endpointType terminal, and an
 * endpointAlias when alias is not NULL.  Returns the length or 0.
 */
size_t		 h225_grq_build(uint8_t *, size_t, uint16_t seq,
		    const struct h225_taddr *ras, const char *alias);
/*
 * LocationRequest (H.225.0 7.8.9): destinationInfo = the alias dest,
 * replyAddress reply.  Returns the length or 0.
 */
size_t		 h225_lrq_build(uint8_t *, size_t, uint16_t seq,
		    const char *dest, const struct h225_taddr *reply);

/* What a RAS datagram says, as far as the probe needs it. */
struct h225_ras {
	int		 type;		/* H225_RAS_* */
	int		 has_seq;
	uint16_t	 seq;		/* requestSeqNum (wire value + 1) */
	const char	*reason;	/* GRJ/LRJ: reason name, else NULL */
	uint32_t	 delay_ms;	/* RIP: delay, 0 if not given */
	char		 gk_id[64];	/* GCF gatekeeperIdentifier, printable
					   UTF-8, "" if absent */
};

/*
 * Decode a RAS datagram.  0: *out holds the type (H225_RAS_OTHER for
 * alternatives the probe does not use) and, where the type has it, the
 * sequence number.  -1: malformed; *why says where, and *out is filled
 * as far as it was decoded (has_seq tells whether seq can be trusted).
 */
int		 h225_ras_parse(const uint8_t *, size_t, struct h225_ras *out,
		    const char **why);

/* RAS message name for logs ("GCF"), or "RAS" for others. */
const char	*h225_ras_name(int type);

/* ---- call signalling ------------------------------------------------ */

/* Q.931 message types (Q.931 4.4 table 4-2). */
#define Q931_ALERTING		0x01
#define Q931_CALL_PROCEEDING	0x02
#define Q931_PROGRESS		0x03
#define Q931_SETUP		0x05
#define Q931_CONNECT		0x07
#define Q931_SETUP_ACK		0x0d
#define Q931_RELEASE_COMPLETE	0x5a
#define Q931_FACILITY		0x62
#define Q931_NOTIFY		0x6e
#define Q931_STATUS_ENQUIRY	0x75
#define Q931_INFORMATION	0x7b
#define Q931_STATUS		0x7d

#define Q931_CAUSE_NORMAL	16	/* Q.850 normal call clearing */

struct h225_setup {
	uint16_t	 crv;			/* 1..32767 */
	uint8_t		 conf_id[H225_GUID_LEN];
	uint8_t		 call_id[H225_GUID_LEN];
	const char	*alias;		/* sourceAddress h323-ID, or NULL */
	const char	*called;	/* called number + destinationAddress,
					   or NULL */
};

/*
 * A TPKT-framed Q.931 SETUP with Bearer capability, an optional Called
 * party number and the User-user IE holding a Setup-UUIE (H.225.0 v4,
 * sourceInfo terminal, activeMC FALSE, conferenceGoal create, callType
 * pointToPoint, callIdentifier).  Returns the length or 0.
 */
size_t		 h225_setup_build(uint8_t *, size_t, const struct h225_setup *);
/*
 * A TPKT-framed RELEASE COMPLETE for call reference crv, sent by the
 * side that created it (flag 0), with Cause `cause` (location user) and
 * a ReleaseComplete-UUIE carrying call_id.  Returns the length or 0.
 */
size_t		 h225_release_build(uint8_t *, size_t, uint16_t crv,
		    unsigned cause, const uint8_t call_id[H225_GUID_LEN]);

/*
 * Check a TPKT header (RFC 1006: version 3, length including the
 * header, at least 4 + 5 and at most H225_TPKT_MAX).  0 and the
 * payload length in *payload, or -1 and *why.
 */
int		 h225_tpkt_check(const uint8_t hdr[H225_TPKT_HDR],
		    size_t *payload, const char **why);

/* One Q.931 message with the H.225.0 parts the probe reads. */
struct h225_q931 {
	int		 from_dest;	/* call reference flag (1: sent by
					   the called side) */
	uint16_t	 crv;		/* 15 bits */
	uint8_t		 type;		/* Q931_* */
	int		 has_cause;
	unsigned	 cause;		/* Q.850 value */
	unsigned	 location;
	int		 has_uuie;	/* User-user IE, discriminator 5 */
	int		 uu_body;	/* h323-message-body root index, -1 for
					   an extension body */
	const char	*rc_reason;	/* ReleaseComplete-UUIE reason name,
					   NULL if absent */
};

/*
 * Decode one Q.931 message (the TPKT payload).  Unknown IEs are
 * skipped; an IE running past the end, a bad header, Cause or User-user
 * IE make it malformed (-1, *why).
 */
int		 h225_q931_parse(const uint8_t *, size_t, struct h225_q931 *,
		    const char **why);

/* UUIE body index for a Q.931 type (setup 0 ... facility 6), or -1. */
int		 h225_uu_body_for(uint8_t type);
/* "Connect", "CallProceeding", ...: one word, used as a label value. */
const char	*h225_q931_name(uint8_t type);
/* Q.850 cause name ("call rejected"), or "unknown cause". */
const char	*h225_cause_name(unsigned);

#endif /* MSG_H225_H */
