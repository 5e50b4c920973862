// SPDX-License-Identifier: GPL-2.0
/* A counter in one array value that runs on several CPUs (threads) increment: under the value's
 * bpf_spin_lock, and without it (a plain load, add, store: updates may be lost). */
#include <linux/bpf.h>
#include "bpf_helpers.h"

#define ROUNDS 500

struct counter {
	struct bpf_spin_lock lock;
	int locked;
	int racy;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct counter);
	__uint(max_entries, 1);
} counters SEC(".maps");

SEC("tc")
int locked_add(void *ctx)
{
	struct counter *c;
	int key = 0, i;

	c = bpf_map_lookup_elem(&counters, &key);
	if (!c)
		return 1;
	for (i = 0; i < ROUNDS; i++) {
		bpf_spin_lock(&c->lock);
		c->locked++;
		bpf_spin_unlock(&c->lock);
	}
	return 0;
}

SEC("tc")
int racy_add(void *ctx)
{
	struct counter *c;
	int key = 0, i;

	c = bpf_map_lookup_elem(&counters, &key);
	if (!c)
		return 1;
	for (i = 0; i < ROUNDS; i++) {
		/* a helper call between the load and the store: where the interpreter may switch threads */
		int seen = *(volatile int *)&c->racy;

		bpf_ktime_get_ns();
		*(volatile int *)&c->racy = seen + 1;
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
