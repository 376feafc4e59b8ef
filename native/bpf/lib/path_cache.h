/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The path-fact cache's generation (vt_path_gen): read before a walk whose answer is cached,
 * bumped by the fentry/fexit programs after every dentry move, before every dentry free and
 * after every mount tree change.
 */
#ifndef VT_PATH_CACHE_H
#define VT_PATH_CACHE_H

#include "maps.h"

/* The dentry/mount generation (vt_path_gen) now, or 0 when path facts are not cached (the
 * kernel lacks a function the invalidating programs attach to). */
static __always_inline __u64 path_gen_now(void)
{
	__u32 zero = 0;
	struct vt_path_gen_val *g = bpf_map_lookup_elem(&vt_path_gen, &zero);
	if (!g || !READ_ONCE(g->enabled))
		return 0;
	return READ_ONCE(g->gen) | 1ULL << 63; /* bit 63: never 0 */
}

static __always_inline void path_gen_bump(void)
{
	__u32 zero = 0;
	struct vt_path_gen_val *g = bpf_map_lookup_elem(&vt_path_gen, &zero);
	if (g)
		__sync_fetch_and_add(&g->gen, 1);
}

#endif /* VT_PATH_CACHE_H */
