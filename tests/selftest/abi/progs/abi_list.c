// SPDX-License-Identifier: GPL-2.0
/* A FIFO in a global bpf_list_head, written with bpf_experimental.h's names: compiled with
 * -DPYBPF_ABI_RFC_2022 (``pybpf selftest --abi rfc-2022``) it calls the October 2022 series' kfuncs
 * (bpf_kptr_new_impl, bpf_list_add_tail, bpf_list_del...), otherwise Linux 6.18's. */
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"
#include "bpf_experimental.h"

struct elem {
	struct bpf_list_node node;
	int data;
};

private(A) struct bpf_spin_lock lock;
private(A) struct bpf_list_head head __contains(elem, node);

SEC("tc")
__description("a FIFO of two local kptrs: the first one pushed comes out first")
__success __retval(1)
int abi_fifo(void *ctx)
{
	struct bpf_list_node *n;
	struct elem *e;
	int i, first;

	for (i = 1; i <= 2; i++) {
		e = bpf_obj_new(typeof(*e));
		if (!e)
			return -1;
		e->data = i;
		bpf_spin_lock(&lock);
		bpf_list_push_back(&head, &e->node);
		bpf_spin_unlock(&lock);
	}
	bpf_spin_lock(&lock);
	n = bpf_list_pop_front(&head);
	bpf_spin_unlock(&lock);
	if (!n)
		return -2;
	e = container_of(n, struct elem, node);
	first = e->data;
	bpf_obj_drop(e);
	return first; /* the second element stays in the list: freed with the map */
}

SEC("tc")
__description("pushing without the list's lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=0 must be held for manipulating bpf_list_head")
int abi_push_unlocked(void *ctx)
{
	struct elem *e = bpf_obj_new(typeof(*e));

	if (!e)
		return 0;
	bpf_list_push_back(&head, &e->node);
	return 0;
}

char _license[] SEC("license") = "GPL";
