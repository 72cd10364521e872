/* msg_dns: not written yet. */
#ifndef MSG_DNS_H
#define MSG_DNS_H
#endif
