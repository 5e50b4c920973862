/* SPDX-License-Identifier: GPL-2.0 */
/* pybpf's bpf_experimental.h: program-allocated objects (local kptrs) and the
 * graph collections (bpf_list_head, bpf_rb_root) they are linked into.
 *
 * Two ABI profiles, as pybpf.abi.profiles describes them:
 *   default               Linux 6.18: bpf_obj_new_impl, bpf_list_push_front_impl, ...
 *   PYBPF_ABI_RFC_2022    the October 2022 series: bpf_kptr_new_impl, bpf_list_add, ...
 * Only the default profile loads into a 6.18 kernel.
 */
#ifndef __PYBPF_BPF_EXPERIMENTAL_H
#define __PYBPF_BPF_EXPERIMENTAL_H

#include "bpf_helpers.h"

/* The kernel's opaque special types, as 6.18's uapi/linux/bpf.h lays them out. */
#ifndef __PYBPF_GRAPH_TYPES
#define __PYBPF_GRAPH_TYPES
struct bpf_list_head {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

struct bpf_list_node {
	__u64 __opaque[3];
} __attribute__((aligned(8)));

struct bpf_rb_root {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

struct bpf_rb_node {
	__u64 __opaque[4];
} __attribute__((aligned(8)));

struct bpf_refcount {
	__u32 __opaque[1];
} __attribute__((aligned(4)));
#endif

#ifndef BPF_TYPE_ID_LOCAL
#define BPF_TYPE_ID_LOCAL 0
#endif
/* The id of a type in the program's own BTF (a CO-RE TYPE_ID_LOCAL relocation). */
#define bpf_core_type_id_local(type) __builtin_btf_type_id(*(typeof(type) *)0, BPF_TYPE_ID_LOCAL)

#ifndef __kptr
#define __kptr_untrusted __attribute__((btf_type_tag("kptr_untrusted")))
#define __kptr __attribute__((btf_type_tag("kptr")))
#endif

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((void *)(ptr) - __builtin_offsetof(type, member)))
#endif

/* The per-profile annotations (__abi, __msg_abi, __success_abi, __failure_abi) are in bpf_misc.h. */

#ifdef PYBPF_ABI_RFC_2022
/* The series' tag named the kind: "contains:struct:NAME:NODE". */
#define __contains(name, node) __attribute__((btf_decl_tag("contains:struct:" #name ":" #node)))

extern void *bpf_kptr_new_impl(__u64 local_type_id__k, __u64 flags, void *meta__ign) __ksym;
extern void bpf_kptr_drop_impl(void *kptr, void *meta__ign) __ksym;
extern void bpf_list_add(struct bpf_list_node *node, struct bpf_list_head *head) __ksym;
extern void bpf_list_add_tail(struct bpf_list_node *node, struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_del(struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_del_tail(struct bpf_list_head *head) __ksym;

#define bpf_obj_new(type) ((type *)bpf_kptr_new_impl(bpf_core_type_id_local(type), 0, NULL))
#define bpf_obj_drop(kptr) bpf_kptr_drop_impl(kptr, NULL)
/* The series' add took (node, head); these keep 6.18's order and result (0: added). */
#define bpf_list_push_front(head, node) (bpf_list_add(node, head), 0)
#define bpf_list_push_back(head, node) (bpf_list_add_tail(node, head), 0)
#define bpf_list_pop_front(head) bpf_list_del(head)
#define bpf_list_pop_back(head) bpf_list_del_tail(head)

/* What the series did not have stays declared, weak, so that a file builds whole under either profile: a
 * program calling one of these carries __abi("linux-6.18"); one that does not is refused ("invalid kernel
 * function call not eliminated"), as a kernel without the kfunc refuses it. */
#define __PYBPF_6_18_ONLY __weak
#else /* Linux 6.18 */
#define __contains(name, node) __attribute__((btf_decl_tag("contains:" #name ":" #node)))

extern void *bpf_obj_new_impl(__u64 local_type_id__k, void *meta__ign) __ksym;
extern void bpf_obj_drop_impl(void *p__alloc, void *meta__ign) __ksym;
extern int bpf_list_push_front_impl(struct bpf_list_head *head, struct bpf_list_node *node,
				    void *meta__ign, __u64 off) __ksym;
extern int bpf_list_push_back_impl(struct bpf_list_head *head, struct bpf_list_node *node,
				   void *meta__ign, __u64 off) __ksym;
extern struct bpf_list_node *bpf_list_pop_front(struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_pop_back(struct bpf_list_head *head) __ksym;

/* Allocate an object of a type of the program's BTF; NULL when out of memory. */
#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
/* Free it, releasing what its special fields own (list elements, kptrs). */
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)
/* 0 when linked; -EINVAL (and the node dropped) when it already was in a collection. */
#define bpf_list_push_front(head, node) bpf_list_push_front_impl(head, node, NULL, 0)
#define bpf_list_push_back(head, node) bpf_list_push_back_impl(head, node, NULL, 0)

#define __PYBPF_6_18_ONLY
#endif

/* Linux 6.18's kfuncs the 2022 series did not have (per-CPU objects, refcounts, list peeks, rbtrees). */
extern void *bpf_percpu_obj_new_impl(__u64 local_type_id__k, void *meta__ign) __ksym __PYBPF_6_18_ONLY;
extern void bpf_percpu_obj_drop_impl(void *p__alloc, void *meta__ign) __ksym __PYBPF_6_18_ONLY;
extern void *bpf_refcount_acquire_impl(void *kptr, void *meta__ign) __ksym __PYBPF_6_18_ONLY;
extern struct bpf_list_node *bpf_list_front(struct bpf_list_head *head) __ksym __PYBPF_6_18_ONLY;
extern struct bpf_list_node *bpf_list_back(struct bpf_list_head *head) __ksym __PYBPF_6_18_ONLY;
extern int bpf_rbtree_add_impl(struct bpf_rb_root *root, struct bpf_rb_node *node,
			       _Bool (less)(struct bpf_rb_node *a, const struct bpf_rb_node *b),
			       void *meta__ign, __u64 off) __ksym __PYBPF_6_18_ONLY;
extern struct bpf_rb_node *bpf_rbtree_remove(struct bpf_rb_root *root, struct bpf_rb_node *node)
	__ksym __PYBPF_6_18_ONLY;
extern struct bpf_rb_node *bpf_rbtree_first(struct bpf_rb_root *root) __ksym __PYBPF_6_18_ONLY;
/* Walking the tree (Linux 6.16+): non-owning references, NULL at a leaf. */
extern struct bpf_rb_node *bpf_rbtree_root(struct bpf_rb_root *root) __ksym __PYBPF_6_18_ONLY;
extern struct bpf_rb_node *bpf_rbtree_left(struct bpf_rb_root *root, struct bpf_rb_node *node)
	__ksym __PYBPF_6_18_ONLY;
extern struct bpf_rb_node *bpf_rbtree_right(struct bpf_rb_root *root, struct bpf_rb_node *node)
	__ksym __PYBPF_6_18_ONLY;

#define bpf_percpu_obj_new(type) ((type *)bpf_percpu_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_percpu_obj_drop(kptr) bpf_percpu_obj_drop_impl(kptr, NULL)
#define bpf_refcount_acquire(kptr) bpf_refcount_acquire_impl(kptr, NULL)
#define bpf_rbtree_add(root, node, less) bpf_rbtree_add_impl(root, node, less, NULL, 0)

#endif /* __PYBPF_BPF_EXPERIMENTAL_H */
