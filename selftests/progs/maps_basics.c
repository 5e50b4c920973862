// SPDX-License-Identifier: GPL-2.0
/* Array, hash, per-CPU and global-data maps read and written by programs; a tail call through a program array. */
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} percpu SEC(".maps");

int tail_target(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int (void *));
} jump_table SEC(".maps") = {
	.values = { [0] = (void *)&tail_target },
};

__u64 packets;			/* .bss */
int answer = 40;		/* .data */
const volatile int limit = 11;	/* .rodata */

SEC("socket")
__description("array: an element never written reads as zero")
__success __retval(0)
int array_reads_zero(void *ctx)
{
	__u32 key = 3;
	__u64 *v = bpf_map_lookup_elem(&array, &key);

	return v ? *v : 99;
}

SEC("socket")
__description("array: update then lookup")
__success __retval(5)
int array_update_lookup(void *ctx)
{
	__u32 key = 1;
	__u64 value = 5, *v;

	if (bpf_map_update_elem(&array, &key, &value, BPF_ANY))
		return 98;
	v = bpf_map_lookup_elem(&array, &key);
	return v ? *v : 99;
}

SEC("socket")
__description("array: a key past max_entries finds nothing")
__success __retval(3)
int array_key_out_of_range(void *ctx)
{
	__u32 key = 4;

	return bpf_map_lookup_elem(&array, &key) ? 0 : 3;
}

SEC("socket")
__description("array: elements cannot be deleted")
__success __retval(-22) /* -EINVAL */
int array_delete_refused(void *ctx)
{
	__u32 key = 0;

	return bpf_map_delete_elem(&array, &key);
}

SEC("socket")
__description("hash: a missing key finds nothing")
__success __retval(1)
int hash_missing_key(void *ctx)
{
	__u32 key = 7;

	return bpf_map_lookup_elem(&hash, &key) ? 0 : 1;
}

SEC("socket")
__description("hash: update then lookup")
__success __retval(9)
int hash_update_lookup(void *ctx)
{
	__u32 key = 7;
	__u64 value = 9, *v;

	if (bpf_map_update_elem(&hash, &key, &value, BPF_NOEXIST))
		return 98;
	v = bpf_map_lookup_elem(&hash, &key);
	return v ? *v : 99;
}

SEC("socket")
__description("hash: BPF_EXIST on a missing key")
__success __retval(-2) /* -ENOENT */
int hash_exist_flag(void *ctx)
{
	__u32 key = 8;
	__u64 value = 1;

	return bpf_map_update_elem(&hash, &key, &value, BPF_EXIST);
}

SEC("socket")
__description("hash: update, delete, lookup")
__success __retval(1)
int hash_delete(void *ctx)
{
	__u32 key = 5;
	__u64 value = 1;

	bpf_map_update_elem(&hash, &key, &value, BPF_ANY);
	if (bpf_map_delete_elem(&hash, &key))
		return 98;
	return bpf_map_lookup_elem(&hash, &key) ? 0 : 1;
}

SEC("socket")
__description("per-CPU array: add in place")
__success __retval(3)
int percpu_add(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&percpu, &key);

	if (!v)
		return 99;
	*v += 3;
	return *v;
}

SEC("socket")
__description("global data: .bss, .data and .rodata")
__success __retval(53)
int global_data(void *ctx)
{
	packets++;
	answer += 1;
	return packets + answer + limit;
}

SEC("socket")
__description("a frozen .rodata value is a known constant: the branch it decides is dead code")
__success __retval(11)
int rodata_constant_prunes(void *ctx)
{
	/* limit is 11 in the frozen map: only the verifier that reads it knows the store below never runs */
	if (limit != 11)
		*(volatile int *)(long)limit = 0;
	return limit;
}

SEC("socket")
__auxiliary
int tail_target(void *ctx)
{
	return 7;
}

SEC("socket")
__description("tail call into an auxiliary program")
__success __retval(7)
int tail_call(void *ctx)
{
	bpf_tail_call(ctx, &jump_table, 0);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
