/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sockets: creation by family/type/protocol, connect by destination (LPM) and ports,
 * socket filters by setsockopt.
 */
#ifndef VT_NET_H
#define VT_NET_H

#include "events.h"

static __always_inline int do_socket_create(int family, int type, int protocol, int audit_only)
{
	struct prot p = {};
	struct vt_socket_key k = {};
	struct vt_log_event *e;
	__u32 deny = 0, audit = 0;
	int ret;

	if (!protected_cg(&p, 0, audit_only))
		return 0;
	type &= SOCK_TYPE_MASK;
	/* socket(AF_INET, SOCK_STREAM, 0) is TCP: rules name the protocol */
	if (protocol == 0 && (family == AF_INET || family == AF_INET6)) {
		if (type == SOCK_STREAM)
			protocol = IPPROTO_TCP;
		else if (type == SOCK_DGRAM)
			protocol = IPPROTO_UDP;
	}
	if (p.pol->table_mask & VT_T_SOCKET) {
		k.policy_id = p.policy_id;
		k.gen = p.pol->gen;
		for (int m = 0; m < 8; m++) {
			struct vt_action *a;
			k.family = (m & 1) ? VT_ANY : (__u32)family;
			k.type = (m & 2) ? VT_ANY : (__u32)type;
			k.protocol = (m & 4) ? VT_ANY : (__u32)protocol;
			a = bpf_map_lookup_elem(&vt_socket, &k);
			if (a) {
				deny |= a->deny;
				audit |= a->audit;
			}
		}
	}
	ret = decide(&p, deny, audit, VT_HOOK_SOCKET_CREATE, type, &e);
	if (e) {
		e->family = family;
		e->extra = protocol;
		bpf_ringbuf_submit(e, 0);
	}
	return ret;
}

struct port_ctx {
	__u32 policy_id;
	__u32 gen;
	__u64 bits;
	__u16 port;
	__u32 deny;
	__u32 audit;
};

static long port_cb(__u32 i, struct port_ctx *c)
{
	struct vt_index_key k = {};
	struct vt_net_ports *r;
	if (!(c->bits & (1ULL << (i & 63))))
		return 0;
	k.policy_id = c->policy_id;
	k.gen = c->gen;
	k.index = i;
	r = bpf_map_lookup_elem(&vt_net_ports, &k);
	if (!r)
		return 0;
	for (int j = 0; j < VT_PORT_RANGES; j++) {
		if (j >= r->count)
			break;
		if (c->port >= r->ranges[j].lo && c->port <= r->ranges[j].hi) {
			c->deny |= r->deny;
			c->audit |= r->audit;
			break;
		}
	}
	return 0;
}

/* The rule of one vt_net key on this port, added to *deny / *audit (the key on the stack). */
static __always_inline void net_rule(struct vt_net_key *key, __u16 port, __u32 *deny, __u32 *audit)
{
	struct vt_net_val *v = bpf_map_lookup_elem(&vt_net, key);
	if (!v)
		return;
	*deny |= v->deny;
	*audit |= v->audit;
	if (v->port_bits) {
		struct port_ctx c = { .policy_id = key->policy_id, .gen = key->gen, .bits = v->port_bits, .port = port };
		bpf_loop(VT_MAX_PORT_RULES, port_cb, &c, 0);
		*deny |= c.deny;
		*audit |= c.audit;
	}
}

struct vt_addr16 {
	__u8 b[16];
};

/* Is addr one of the bound cgroup's own addresses (its pod's)? A global function: the verifier
 * checks it once, not again at every connect and send path of the sys_enter switch. */
__noinline int vt_is_self(__u64 cgid, __u32 family, const struct vt_addr16 *addr)
{
	struct vt_self_addrs *s;
	__u32 a0, a1, a2, a3;
	if (!addr)
		return 0;
	s = bpf_map_lookup_elem(&vt_self_addrs, &cgid);
	if (!s)
		return 0;
	__builtin_memcpy(&a0, &addr->b[0], 4);
	__builtin_memcpy(&a1, &addr->b[4], 4);
	__builtin_memcpy(&a2, &addr->b[8], 4);
	__builtin_memcpy(&a3, &addr->b[12], 4);
	for (int i = 0; i < VT_SELF_ADDRS; i++) {
		__u32 w[4];
		if (i >= s->count)
			break;
		if (s->family[i] != family)
			continue;
		/* no memcmp in BPF: 4-byte words (IPv4 is the first one) */
		__builtin_memcpy(w, s->addr[i], 16);
		if (w[0] == a0 && (family == AF_INET || (w[1] == a1 && w[2] == a2 && w[3] == a3)))
			return 1;
	}
	return 0;
}

/* addr: 16 bytes in network order (IPv4 in the first 4); port in host order. */
static __always_inline int check_connect(struct prot *p, __u8 family, const __u8 *addr, __u16 port)
{
	/* the key on the stack (32 bytes), not in a shared buffer another task could rewrite */
	struct vt_net_key key = {};
	struct vt_log_event *e;
	__u32 deny = 0, audit = 0;
	int ret;

	key.policy_id = p->policy_id;
	key.gen = p->pol->gen;
	if (p->pol->table_mask & VT_T_NET) {
		key.prefixlen = 96 + (family == AF_INET ? 32 : 128);
		key.family = family;
		__builtin_memcpy(key.addr, addr, 16);
		net_rule(&key, port, &deny, &audit);
	}
	/* pod-self: the one entry of family VT_NET_SELF, when the address is the pod's own */
	if ((p->pol->table_mask & VT_T_NET_SELF) && vt_is_self(p->cgid, family, (const struct vt_addr16 *)addr)) {
		key.prefixlen = 96 + 128;
		key.family = VT_NET_SELF;
		__builtin_memset(key.addr, 0, 16);
		net_rule(&key, port, &deny, &audit);
	}
	ret = decide(p, deny, audit, VT_HOOK_SOCKET_CONNECT, 0, &e);
	if (e) {
		e->family = family;
		e->port = port;
		__builtin_memcpy(e->addr, addr, 16);
		bpf_ringbuf_submit(e, 0);
	}
	return ret;
}

/* Normalise a kernel-side copy of a sockaddr and check it. */
static __always_inline int do_connect_sa(struct prot *p, __u16 fam, __u16 nport, const __u8 *a6)
{
	__u8 addr[16] = {};
	__u16 port = bpf_ntohs(nport);
	if (fam == AF_INET) {
		__builtin_memcpy(addr, a6, 4);
		return check_connect(p, AF_INET, addr, port);
	}
	__builtin_memcpy(addr, a6, 16);
	/* ::ffff:a.b.c.d reaches an IPv4 host: check it as IPv4 */
	if (!addr[0] && !addr[1] && !addr[2] && !addr[3] && !addr[4] && !addr[5] && !addr[6] && !addr[7] && !addr[8] &&
	    !addr[9] && addr[10] == 0xff && addr[11] == 0xff) {
		__u8 v4[16] = {};
		__builtin_memcpy(v4, &addr[12], 4);
		return check_connect(p, AF_INET, v4, port);
	}
	return check_connect(p, AF_INET6, addr, port);
}

/*
 * A send with a destination (UDP/raw sendto or sendmsg, TCP Fast Open's sendto with
 * MSG_FASTOPEN) reaches its address without connect(2): judge it as connect would. sa: a
 * kernel-side copy of the sockaddr, len bytes of it (at most 28 read). sk_family: the socket's,
 * for AF_UNSPEC, which udp_sendmsg and raw_sendmsg take as AF_INET (IPv6 takes it as "no
 * address"). Returns -EPERM to deny (LSM) or 0.
 */
static __always_inline int check_send_sa(struct prot *p, const struct sockaddr_in6 *sa, int len, __u16 sk_family)
{
	__u16 fam = sa->sin6_family;
	if (fam == AF_UNSPEC && sk_family == AF_INET)
		fam = AF_INET;
	if (fam == AF_INET && len >= (int)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return do_connect_sa(p, AF_INET, in->sin_port, (const __u8 *)&in->sin_addr);
	}
	/* 24 bytes (SIN6_LEN_RFC2133, no scope id) is enough for the kernel */
	if (fam == AF_INET6 && len >= 24)
		return do_connect_sa(p, AF_INET6, sa->sin6_port, (const __u8 *)&sa->sin6_addr);
	return 0;
}

/* lsm/socket_sendmsg. Most sends carry no address (connected sockets): they leave at the first
 * test, before the task is even resolved. A stream socket's address counts only with
 * MSG_FASTOPEN (TCP otherwise ignores it). */
static __always_inline int do_sendmsg(struct socket *sock, struct msghdr *msg)
{
	struct prot p = {};
	struct sockaddr_in6 sa = {};
	void *name = msg->msg_name;
	int len = msg->msg_namelen;

	if (!name || len < (int)sizeof(struct sockaddr_in))
		return 0;
	if (sock->type == SOCK_STREAM && !(msg->msg_flags & MSG_FASTOPEN))
		return 0;
	if (!protected_cg(&p, 0, 0))
		return 0;
	if (bpf_probe_read_kernel(&sa, len >= (int)sizeof(sa) ? sizeof(sa) : sizeof(struct sockaddr_in), name))
		return 0;
	return check_send_sa(&p, &sa, len, BPF_CORE_READ(sock, sk, __sk_common.skc_family));
}

/* Audit programs: a user-space sockaddr of connect/sendto/sendmsg (len bytes). */
static __always_inline void audit_user_sa(const void *uaddr, unsigned long len, int is_send)
{
	struct prot p = {};
	struct sockaddr_in6 sa = {};
	if (!uaddr || len < sizeof(struct sockaddr_in))
		return;
	if (!protected_cg(&p, 0, 1))
		return;
	if (bpf_probe_read_user(&sa, len >= sizeof(sa) ? sizeof(sa) : sizeof(struct sockaddr_in), uaddr))
		return;
	/* the socket's family is not at hand here: AF_UNSPEC is reported as IPv4 */
	check_send_sa(&p, &sa, (int)len, is_send ? AF_INET : 0);
}

static __always_inline int do_setsockopt(int level, int optname, int audit_only)
{
	if (level != SOL_SOCKET)
		return 0;
	if (optname != SO_ATTACH_FILTER && optname != SO_ATTACH_BPF && optname != SO_ATTACH_REUSEPORT_CBPF &&
	    optname != SO_ATTACH_REUSEPORT_EBPF)
		return 0;
	return do_flag(VT_F_SOCK_FILTER_ATTACH, VT_HOOK_SETSOCKOPT, optname, audit_only);
}

#endif /* VT_NET_H */
