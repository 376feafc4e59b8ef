/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The loader of the BPF enforcer in plain C (libbpf, no Node): attach/adopt/pin, the table
 * store with its generation swap, bindings, the event ring buffer, program stats and the
 * kernel probe. bpf_lsm.c is the N-API glue around it; test/loader_test.c drives it directly.
 *
 * Every call returns 0 or a negative errno and, on failure, fills a struct vt_err with the
 * positive errno and the message the addon throws (its code becomes the JS error's `code`).
 */
#ifndef VT_LOADER_H
#define VT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#include "varmor_tables.h"

#define VT_LOADER_ENFORCE 1 /* LSM programs (and the path-fact cache's fentry/fexit ones) */
#define VT_LOADER_AUDIT 2   /* tp_btf programs: report only */
#define VT_LOADER_MAX_LINKS 32
#define VT_VERSION_TAG_LEN 64 /* bytes of the version tag, NUL included */

struct varmor;
struct ring_buffer;
struct bpf_link;

/* One event from the ring buffer; return nonzero to stop reading (e.g. -E2BIG when full). */
typedef int (*vt_event_fn)(void *ctx, const struct vt_log_event *ev);

struct vt_loader {
	struct varmor *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[VT_LOADER_MAX_LINKS];
	const char *link_names[VT_LOADER_MAX_LINKS]; /* the program's full name (the kernel keeps 15 characters) */
	int nlinks;
	struct bpf_link *rec_link; /* vt_rec_sys_enter while a BehaviorModeling run records, else NULL */
	int mode; /* VT_LOADER_ENFORCE or VT_LOADER_AUDIT */
	bool attached;
	bool detached;
	bool path_cache; /* the kernel has what the path-fact cache's programs attach to */
	char pin[512];   /* bpffs folder for the pins, or "" */
	vt_event_fn on_event; /* set during vt_read_events only */
	void *event_ctx;
	/* the version tag pinned beside the objects (<pin>/vt_version): "" before attach means the
	 * hash of the embedded BPF object (vt_object_version); a test sets another to act as an
	 * older build */
	char version[VT_VERSION_TAG_LEN];
	struct vt_upgrade {
		char from[VT_VERSION_TAG_LEN]; /* the version found pinned ("" when none or the same) */
		int swapped;     /* pinned links now running this object's programs */
		int link_update; /* of those, swapped in place by bpf_link_update */
		int link_update_err; /* the errno bpf_link_update returned where it could not (0: none) */
		int overlap;     /* of those, replaced by attach-new-then-detach-old (no link_update for the link type) */
		int retired;     /* pinned links of programs this object no longer has, removed */
		bool previous;   /* maps of another layout: the old set moved to <pin>/prev, still attached */
	} upgrade;
};

struct vt_err {
	int code; /* positive errno */
	char msg[768];
};

/* What the running kernel's BTF offers the programs (kfuncs are listed there, and every
 * function a tracing program can attach to); one parse of it answers both. */
struct kernel_features {
	bool rdonly_cast; /* the bpf_rdonly_cast kfunc (6.2+): direct loads above a file's mount */
	bool path_cache;  /* every function the path-fact cache's fentry/fexit programs attach to */
};

struct vt_probe_result {
	int lsm_err;      /* 0, or the negative errno of loading a trivial LSM program */
	bool lsm_listed;  /* "bpf" is in /sys/kernel/security/lsm */
	int tracing_err;  /* 0, or the negative errno of loading a trivial tp_btf program */
	struct kernel_features kf;
};

/* lifecycle (l zeroed, mode and pin set, before attach) */
int vt_loader_attach(struct vt_loader *l, struct vt_err *err);
void vt_loader_destroy(struct vt_loader *l); /* closes everything; pins stay */
void vt_loader_unpin_all(struct vt_loader *l);
/* The version tag of the embedded BPF object (FNV-1a 64 of its bytes, hex). */
void vt_object_version(char *out, size_t n);
/* After an upgrade across a map layout change: detach the old set kept under <pin>/prev once
 * the agent has re-applied its policies and bindings. 0 when there is none. */
int vt_loader_release_previous(const char *pin, struct vt_err *err);
/* Uninstall: remove every pin under `pin` (links: their programs detach; maps; the version
 * tag; <pin>/prev) and the folder itself. Needs no attached loader. 0 when nothing was there. */
int vt_uninstall(const char *pin, struct vt_err *err);

/* the table store: a tables blob (../profiler/bpf/encode.ts) loaded as generation g+1, then
 * activated by one update of vt_policies, then generation g purged */
int vt_load_policy(struct vt_loader *l, uint32_t policy_id, const uint8_t *buf, size_t len, struct vt_err *err);
int vt_remove_policy(struct vt_loader *l, uint32_t policy_id, struct vt_err *err);
/* iteration: prev NULL for the first; returns 0, or -ENOENT after the last */
int vt_policy_next(struct vt_loader *l, const uint32_t *prev, uint32_t *id, struct vt_policy *pol);

/* bindings */
int vt_bind(struct vt_loader *l, uint64_t cgid, uint32_t policy_id, uint32_t flags, struct vt_err *err);
int vt_unbind(struct vt_loader *l, uint64_t cgid, struct vt_err *err);
int vt_binding_next(struct vt_loader *l, const uint64_t *prev, uint64_t *cgid, struct vt_binding *b);
/* the pod's own addresses of a bound cgroup, for `pod-self` rules: set before vt_bind (count 0 or
 * NULL removes them); vt_unbind removes them too */
int vt_set_self_addrs(struct vt_loader *l, uint64_t cgid, const struct vt_self_addrs *a, struct vt_err *err);

/* events: fn is called for each waiting event; then the path-fact cache's guard runs */
int vt_read_events(struct vt_loader *l, vt_event_fn fn, void *ctx, struct vt_err *err);

/* BehaviorModeling's syscall record: attach or detach vt_rec_sys_enter (idempotent); read the
 * numbers a policy in record mode has made (one bit each, zeros when none); forget them */
#define VT_SYSCALL_WORDS 8
int vt_record_syscalls(struct vt_loader *l, bool on, struct vt_err *err);
int vt_syscalls_read(struct vt_loader *l, uint32_t policy_id, uint64_t bits[VT_SYSCALL_WORDS], struct vt_err *err);
int vt_syscalls_clear(struct vt_loader *l, uint32_t policy_id, struct vt_err *err);

/* the cgroup a process (tgid) had at its last fork or exec: 0, or -ENOENT when not tracked */
int vt_cgroup_of_pid(struct vt_loader *l, uint32_t pid, uint64_t *cgid);

/* programs: the kernel id and bpf_prog_info of the program behind link i */
bool vt_link_prog_id(struct vt_loader *l, int i, uint32_t *id);
bool vt_link_prog_info(struct vt_loader *l, int i, uint32_t *id, struct bpf_prog_info *pi);

/* the kernel */
struct kernel_features vt_kernel_features(void);
void vt_probe(struct vt_probe_result *r);

#endif /* VT_LOADER_H */
