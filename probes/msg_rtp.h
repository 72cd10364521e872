/*
 * msg_rtp: the pure half of the media probe and its responder.  RTP
 * headers (RFC 3550 section 5.1), the echo block the probe and the
 * responder put at the start of the RTP payload, receiver statistics
 * (sequence accounting after RFC 3550 A.1/A.3, interarrival jitter after
 * section 6.4.1 and A.8) and the simplified E-model (PROTOCOLS.md 5.1,
 * 5.3).  No I/O, no clock: every time is passed in.
 *
 * The echo block, big-endian, at offset 0 of the RTP payload:
 *
 *	0  4  magic "NPM1"
 *	4  1  kind: 1 request (probe -> responder), 2 echo (responder -> probe)
 *	5  1  reserved, 0
 *	6  2  req_seq: the RTP sequence number of the request (an echo names
 *	      the request it answers)
 *	8  4  cookie: random per probe run, copied into every echo
 *	12 4  up_received: requests of this stream the responder received,
 *	      this one included (echo only; 0 in a request)
 *	16 4  up_ext_max: highest extended sequence number received
 *	      (RFC 3550 A.1: cycles << 16 | max_seq)
 *	20 4  up_jitter16: upstream interarrival jitter in 1/16 RTP
 *	      timestamp units (the A.8 integer form before the >> 4)
 *	24 4  up_late: requests that arrived after a higher-numbered one
 *	28 4  down_sent: echoes the responder sent for this stream, this
 *	      one included
 *	32 4  hold_us: microseconds from the request's arrival to the
 *	      echo's departure (subtracted from the round-trip time)
 *	36    filler, 0xff (mu-law silence) up to the payload size
 *
 * An echo has exactly the size of its request, so a responder never
 * amplifies.  Its RTP header carries the request's SSRC and payload type,
 * the responder's own sequence number (random start per stream) and a
 * timestamp from the responder's clock at sending, so the probe can
 * measure the downstream leg as an ordinary RTP receiver.
 */
#ifndef MSG_RTP_H
#define MSG_RTP_H

#include <stddef.h>
#include <stdint.h>

#define RTP_HDR_LEN		12
#define RTP_PT_PCMU		0	/* RFC 3551: G.711 mu-law, 8000 Hz */
#define RTP_CLOCK_HZ		8000

struct rtp_hdr {
	int		 marker;
	uint8_t		 pt;		/* 0..127 */
	uint16_t	 seq;
	uint32_t	 ts;
	uint32_t	 ssrc;
};

/*
 * Write a 12-octet RTP header (V=2, P=0, X=0, CC=0) at buf.  Returns 12,
 * or 0 if len < 12 or pt > 127.
 */
size_t		 rtp_hdr_build(uint8_t *buf, size_t len,
		    const struct rtp_hdr *);

/*
 * Parse the RTP header of a datagram of len octets: version 2, CSRC
 * list, header extension and padding all checked against len.  On
 * success returns 0 with *h filled and the payload at buf[*off], *plen
 * octets long (padding removed).  Returns -1 if the header is truncated,
 * the version is not 2, or the CSRC list, the extension or the padding
 * run past the datagram; *h and *off are then unspecified.
 */
int		 rtp_hdr_parse(const uint8_t *buf, size_t len,
		    struct rtp_hdr *h, size_t *off, size_t *plen);

#define MEDIA_MAGIC		0x4e504d31U	/* "NPM1" */
#define MEDIA_BLOCK_LEN		36
#define MEDIA_MIN_PAYLOAD	MEDIA_BLOCK_LEN
#define MEDIA_MAX_PAYLOAD	1400	/* one IPv6 packet on a 1500 link */

enum media_kind {
	MEDIA_REQUEST = 1,
	MEDIA_ECHO = 2,
};

struct media_block {
	enum media_kind	 kind;
	uint16_t	 req_seq;
	uint32_t	 cookie;
	uint32_t	 up_received;
	uint32_t	 up_ext_max;
	uint32_t	 up_jitter16;
	uint32_t	 up_late;
	uint32_t	 down_sent;
	uint32_t	 hold_us;
};

/*
 * Write the block at the start of a payload of len octets and fill the
 * rest with 0xff.  Returns len, or 0 if len < MEDIA_BLOCK_LEN or the
 * kind is not a request or an echo.
 */
size_t		 media_block_build(uint8_t *payload, size_t len,
		    const struct media_block *);

/*
 * Read the block from a payload of len octets.  Returns 0, or -1 if len
 * < MEDIA_BLOCK_LEN, the magic is not "NPM1", the kind is unknown or the
 * reserved octet is not 0.  The filler is not checked.
 */
int		 media_block_parse(const uint8_t *payload, size_t len,
		    struct media_block *);

/*
 * A whole media packet: the RTP header, then the block and filler up to
 * 12 + payload_len octets.  Returns the packet length, or 0 if it does
 * not fit in len or payload_len < MEDIA_BLOCK_LEN.
 */
size_t		 media_packet_build(uint8_t *buf, size_t len,
		    size_t payload_len, const struct rtp_hdr *,
		    const struct media_block *);

/*
 * Parse a datagram as a media packet: an RTP header without CSRCs,
 * extension or padding (as media_packet_build writes it) and a valid
 * block.  Returns 0, or -1 for anything else (not ours, truncated or
 * malformed).
 */
int		 media_packet_parse(const uint8_t *buf, size_t len,
		    struct rtp_hdr *, struct media_block *);

/*
 * Sequence accounting for one RTP source (RFC 3550 A.1, simplified as
 * PROTOCOLS.md 4.2 says): a sequence number ahead of the highest seen by
 * the signed 16-bit modular difference is the new highest (counting a
 * wrap when it is numerically smaller); one behind is late (reordered,
 * or a duplicate of an older packet); the same as the highest is a
 * duplicate.  Every packet counts as received, as in RFC 3550, so lost
 * can go negative with duplicates: callers clamp for display.
 */
struct rtp_seqstat {
	int		 started;
	uint16_t	 base_seq;	/* first received */
	uint16_t	 max_seq;
	uint32_t	 cycles;	/* wraps << 16 */
	uint32_t	 received;
	uint32_t	 late;
	uint32_t	 duplicates;
};

enum rtp_seq_event {
	RTP_SEQ_FIRST,
	RTP_SEQ_NEW,		/* a new highest */
	RTP_SEQ_LATE,
	RTP_SEQ_DUPLICATE,
};

/* Account for one packet; s starts zeroed. */
enum rtp_seq_event rtp_seq_update(struct rtp_seqstat *s, uint16_t seq);
/* cycles + max_seq; 0 before the first packet. */
uint32_t	 rtp_seq_ext_max(const struct rtp_seqstat *);
/* ext_max - base_seq + 1 (A.3 "expected"); 0 before the first packet. */
uint32_t	 rtp_seq_expected(const struct rtp_seqstat *);
/* expected - received, never below 0. */
uint32_t	 rtp_seq_lost(const struct rtp_seqstat *);

/*
 * Interarrival jitter (RFC 3550 6.4.1, A.8), in timestamp units, kept in
 * double precision.  For each packet, D = (arrival - previous arrival)
 * - (ts - previous ts), the timestamp difference taken as a signed
 * 32-bit modular value so a wrap does no harm; J += (|D| - J) / 16.
 * The first packet only sets the reference.
 */
struct rtp_jitter {
	int		 started;
	double		 prev_arrival;	/* timestamp units */
	uint32_t	 prev_ts;
	double		 j;		/* timestamp units */
	uint32_t	 samples;	/* D values folded in */
};

/* arrival: the packet's arrival time in timestamp units (any origin). */
void		 rtp_jitter_update(struct rtp_jitter *, double arrival,
		    uint32_t ts);
/* J in seconds for a clock of hz. */
double		 rtp_jitter_seconds(const struct rtp_jitter *, unsigned hz);

/*
 * Upstream loss from a responder's report.  The probe sent nsent
 * packets numbered seq0, seq0 + 1, ...; the report says the responder
 * received up_received of them and the highest extended sequence it saw
 * was up_ext_max (only its low 16 bits matter: a run sends fewer than
 * 65536 packets).  The window is the packets up to that highest one:
 * *expected = its index + 1, *lost = *expected - up_received (0 if
 * negative, with duplicates).  Returns -1 (a stale or forged report) if
 * the highest sequence is not one the probe sent.
 */
int		 media_upstream_loss(uint16_t seq0, uint32_t nsent,
		    uint32_t up_ext_max, uint32_t up_received,
		    uint32_t *expected, uint32_t *lost);

/*
 * The simplified E-model of PROTOCOLS.md 5.1 ("formula A", after baresip
 * mos.c): effective = latency_ms + 2 * jitter_ms + 10; R = 93.2 -
 * effective / 40 below 160 ms, else 93.2 - (effective - 120) / 10; then
 * R -= 2.5 * loss_pct; clamped to [0, 100].  Negative inputs count as 0.
 */
double		 emodel_r(double latency_ms, double jitter_ms,
		    double loss_pct);
/*
 * R to MOS (ITU-T G.107 Annex B): 1 + 0.035 R + 7e-6 R (R - 60) (100 -
 * R), 1 for R <= 0, 4.5 for R >= 100, the result clamped to [1, 4.5].
 */
double		 emodel_mos(double r);

#endif /* MSG_RTP_H */
