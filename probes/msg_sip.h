/* msg_sip: not written yet. */
#ifndef MSG_SIP_H
#define MSG_SIP_H
#endif
