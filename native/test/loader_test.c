// SPDX-License-Identifier: Apache-2.0
/*
 * Drives the plain-C loader (../loader.c) without Node, against this machine's kernel: audit
 * mode (tp_btf programs, which a host that refuses BPF LSM still loads), a tables blob built
 * here by hand from ../varmor_tables.h, the generation swap read back from the maps, bindings,
 * and the error paths. Built and run by loader_test.test.ts. Prints one line per check
 * ("ok - ..." or "not ok - ..."); exit 0 when all pass, 1 when one fails, 77 with a "SKIP"
 * line and its reason when the kernel or the user cannot load BPF programs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "varmor.skel.h"

static int failures;

#define CHECK(cond, ...)                                     \
	do {                                                 \
		bool ok_ = (cond);                           \
		printf("%s - ", ok_ ? "ok" : "not ok");      \
		printf(__VA_ARGS__);                         \
		printf("\n");                                \
		if (!ok_)                                    \
			failures++;                          \
	} while (0)

/* A blob with the policy section and one exact path (deny read+write of `path`). */
struct blob {
	struct vt_blob_header h;
	struct vt_section sec[2];
	struct vt_policy pol;
	struct vt_path_exact_rec exact;
};

static void make_blob(struct blob *b, uint32_t policy_id, const char *path)
{
	memset(b, 0, sizeof(*b));
	b->h.magic = VT_MAGIC;
	b->h.version = VT_VERSION;
	b->h.header_size = sizeof(b->h);
	b->h.policy_id = policy_id;
	b->h.section_count = 2;
	b->h.total_size = sizeof(*b);
	b->sec[0] = (struct vt_section){ VT_SEC_POLICY, sizeof(struct vt_policy), 1, offsetof(struct blob, pol) };
	b->sec[1] = (struct vt_section){ VT_SEC_PATH_EXACT, sizeof(struct vt_path_exact_rec), 1, offsetof(struct blob, exact) };
	b->pol.mode = VT_MODE_ENFORCE;
	b->pol.table_mask = VT_T_PATH_EXACT;
	snprintf(b->exact.key.path, sizeof(b->exact.key.path), "%s", path);
	b->exact.val.deny = VT_PERM_READ | VT_PERM_WRITE;
}

/* Whether vt_path_exact holds `path` for (policy_id, gen). */
static bool has_exact(struct vt_loader *l, uint32_t policy_id, uint32_t gen, const char *path)
{
	struct vt_path_key k;
	struct vt_action a;
	memset(&k, 0, sizeof(k));
	k.policy_id = policy_id;
	k.gen = gen;
	snprintf(k.path, sizeof(k.path), "%s", path);
	return bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.vt_path_exact), &k, &a) == 0 &&
	       a.deny == (VT_PERM_READ | VT_PERM_WRITE);
}

static struct vt_state state(struct vt_loader *l)
{
	struct vt_state st = { 0 };
	uint32_t zero = 0;
	bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.vt_state), &zero, &st);
	return st;
}

static uint32_t gen_of(struct vt_loader *l, uint32_t policy_id)
{
	struct vt_policy p;
	uint32_t id;
	int r = vt_policy_next(l, NULL, &id, &p);
	while (r == 0) {
		if (id == policy_id)
			return p.gen;
		r = vt_policy_next(l, &id, &id, &p);
	}
	return 0;
}

int main(void)
{
	const uint32_t P = 4242;
	const uint64_t CG = 987654321ULL;
	struct vt_probe_result pr;
	struct vt_loader l;
	struct vt_err err = { 0 };
	struct vt_state st0, st1;
	struct vt_binding b;
	struct blob blob;
	uint64_t cg;
	int r;

	if (geteuid() != 0) {
		printf("SKIP - not root: loading BPF programs needs CAP_BPF and CAP_PERFMON\n");
		return 77;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		printf("SKIP - no /sys/kernel/btf/vmlinux: the programs need the kernel's BTF\n");
		return 77;
	}
	vt_probe(&pr);
	if (pr.tracing_err) {
		printf("SKIP - the kernel refuses tp_btf programs (%s)\n", strerror(-pr.tracing_err));
		return 77;
	}
	printf("# probe: lsm %s, bpf %sin the LSM list, tracing ok\n", pr.lsm_err ? strerror(-pr.lsm_err) : "loads", pr.lsm_listed ? "" : "not ");

	memset(&l, 0, sizeof(l));
	l.mode = VT_LOADER_AUDIT;
	r = vt_loader_attach(&l, &err);
	if (r) {
		printf("not ok - audit attach: %s (%s)\n", err.msg, strerror(err.code));
		return 1;
	}
	/* the audit family (exec, sys_enter, sys_exit) and the pid -> cgroup trackers (fork, exec) */
	CHECK(l.attached && l.nlinks == 5, "audit attach: %d tp_btf links", l.nlinks);
	r = vt_loader_attach(&l, &err);
	CHECK(r == -EALREADY && strstr(err.msg, "already attached"), "second attach: EALREADY (%s)", err.msg);

	/* generation 1 */
	st0 = state(&l);
	make_blob(&blob, P, "/etc/shadow");
	r = vt_load_policy(&l, P, (const uint8_t *)&blob, sizeof(blob), &err);
	CHECK(r == 0, "load policy %u: %s", P, r ? err.msg : "ok");
	CHECK(gen_of(&l, P) == 1, "policy %u is at generation 1 (read %u)", P, gen_of(&l, P));
	CHECK(has_exact(&l, P, 1, "/etc/shadow"), "generation 1 holds /etc/shadow");
	st1 = state(&l);
	CHECK(st1.policy_gen > st0.policy_gen, "vt_state.policy_gen bumped (%llu -> %llu)", (unsigned long long)st0.policy_gen,
	      (unsigned long long)st1.policy_gen);

	/* the swap: generation 2 replaces 1 */
	make_blob(&blob, P, "/etc/passwd");
	r = vt_load_policy(&l, P, (const uint8_t *)&blob, sizeof(blob), &err);
	CHECK(r == 0, "reload policy %u: %s", P, r ? err.msg : "ok");
	CHECK(gen_of(&l, P) == 2, "policy %u is at generation 2 (read %u)", P, gen_of(&l, P));
	CHECK(has_exact(&l, P, 2, "/etc/passwd"), "generation 2 holds /etc/passwd");
	CHECK(!has_exact(&l, P, 1, "/etc/shadow"), "generation 1's /etc/shadow is purged");

	/* a refused blob leaves the active generation alone */
	make_blob(&blob, P, "/etc/hosts");
	blob.h.magic ^= 0xff;
	r = vt_load_policy(&l, P, (const uint8_t *)&blob, sizeof(blob), &err);
	CHECK(r == -EINVAL && strstr(err.msg, "bad magic"), "bad magic: EINVAL (%s)", err.msg);
	make_blob(&blob, P, "/etc/hosts");
	blob.sec[1].record_size = 999;
	r = vt_load_policy(&l, P, (const uint8_t *)&blob, sizeof(blob), &err);
	CHECK(r == -EINVAL && strstr(err.msg, "record_size"), "bad record size: EINVAL (%s)", err.msg);
	make_blob(&blob, P + 1, "/etc/hosts");
	r = vt_load_policy(&l, P, (const uint8_t *)&blob, sizeof(blob), &err);
	CHECK(r == -EINVAL && strstr(err.msg, "compiled for policy"), "other policy's blob: EINVAL (%s)", err.msg);
	r = vt_load_policy(&l, 0, (const uint8_t *)&blob, sizeof(blob), &err);
	CHECK(r == -EINVAL && strstr(err.msg, "reserved"), "policy 0: EINVAL (%s)", err.msg);
	CHECK(gen_of(&l, P) == 2 && has_exact(&l, P, 2, "/etc/passwd"), "after the refusals generation 2 is still active");

	/* bindings */
	st0 = state(&l);
	r = vt_bind(&l, CG, P, VT_BIND_ARM_ON_EXEC, &err);
	CHECK(r == 0, "bind cgroup %llu: %s", (unsigned long long)CG, r ? err.msg : "ok");
	r = vt_binding_next(&l, NULL, &cg, &b);
	CHECK(r == 0 && cg == CG && b.policy_id == P && (b.flags & VT_BIND_ARM_ON_EXEC), "the binding reads back with its flags");
	st1 = state(&l);
	CHECK(st1.bind_gen > st0.bind_gen, "vt_state.bind_gen bumped");
	r = vt_bind(&l, CG + 1, 0xdead, 0, &err);
	CHECK(r == -ENOENT && strstr(err.msg, "unknown policy"), "bind to an unknown policy: ENOENT (%s)", err.msg);
	r = vt_bind(&l, 0, P, 0, &err);
	CHECK(r == -EINVAL, "bind cgroup 0: EINVAL (%s)", err.msg);
	r = vt_unbind(&l, CG, &err);
	CHECK(r == 0, "unbind: %s", r ? err.msg : "ok");
	r = vt_unbind(&l, CG, &err);
	CHECK(r == -ENOENT && strstr(err.msg, "not bound"), "unbind again: ENOENT (%s)", err.msg);

	/* removal */
	r = vt_remove_policy(&l, P, &err);
	CHECK(r == 0, "remove policy: %s", r ? err.msg : "ok");
	CHECK(gen_of(&l, P) == 0 && !has_exact(&l, P, 2, "/etc/passwd"), "removed policy: no vt_policies entry, no table entry");
	r = vt_remove_policy(&l, P, &err);
	CHECK(r == -ENOENT, "remove again: ENOENT (%s)", err.msg);

	/* programs */
	{
		uint32_t id = 0;
		struct bpf_prog_info pi;
		CHECK(vt_link_prog_info(&l, 0, &id, &pi) && id > 0 && pi.xlated_prog_len > 0, "link 0's program: id %u", id);
	}
	r = vt_read_events(&l, NULL, NULL, &err);
	CHECK(r == 0, "read events with no reader: %s", r ? err.msg : "ok");

	/* the version tag: the object's hash, and unpinned attach leaves the loader's own */
	{
		char v1[VT_VERSION_TAG_LEN], v2[VT_VERSION_TAG_LEN];
		vt_object_version(v1, sizeof(v1));
		vt_object_version(v2, sizeof(v2));
		CHECK(strlen(v1) == 16 && strspn(v1, "0123456789abcdef") == 16 && !strcmp(v1, v2), "version tag: %s (16 hex, stable)", v1);
		CHECK(l.upgrade.swapped == 0 && !l.upgrade.previous, "no pin path: no upgrade");
	}
	/* uninstall needs no loader; an absent folder is nothing to do, a relative one refused */
	r = vt_uninstall("/sys/fs/bpf/varmor-loader-test-absent", &err);
	CHECK(r == 0, "uninstall of an absent pin folder: 0");
	r = vt_uninstall("relative/pins", &err);
	CHECK(r == -EINVAL, "uninstall of a relative path: EINVAL (%s)", err.msg);

	vt_loader_destroy(&l);
	CHECK(l.detached && !l.attached && l.nlinks == 0, "destroy closes the links");
	r = vt_loader_attach(&l, &err);
	CHECK(r == -EBADF, "attach after destroy: EBADF (%s)", err.msg);
	return failures ? 1 : 0;
}
