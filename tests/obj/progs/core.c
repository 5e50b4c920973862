/* CO-RE relocations of every kind against the running kernel's types. */
#include <linux/bpf.h>
#include "bpf_helpers.h"

#define __pai __attribute__((preserve_access_index))

/* Flavored local views of kernel types: only the members used are declared. */
struct task_struct___local {
	int pid;
	int tgid;
	void *stack;
} __pai;

struct sk_buff___local {
	unsigned int len;
	__u8 pkt_type:3;
} __pai;

struct list_head___local {
	struct list_head___local *next;
} __pai;

struct bpf_raw_tracepoint_args___local {
	__u64 args[0];
} __pai;

struct not_in_kernel___x {
	int a;
} __pai;

enum bpf_map_type___local {
	BPF_MAP_TYPE_HASH___local = 1,
	BPF_MAP_TYPE_RINGBUF___local = 27,
};

/* field kinds of bpf_core_read.h, spelled with the builtins */
#define FIELD_INFO(expr, kind) __builtin_preserve_field_info(expr, kind)
enum { BYTE_OFFSET, BYTE_SIZE, EXISTS, SIGNED, LSHIFT_U64, RSHIFT_U64 };

__u64 out[32];

SEC("raw_tp/sys_enter")
int core_prog(void *ctx)
{
	struct task_struct___local *t = (void *)bpf_get_current_task();
	struct sk_buff___local *skb = (void *)0;
	struct not_in_kernel___x *n = (void *)0;

	out[0] = FIELD_INFO(t->pid, BYTE_OFFSET);
	out[1] = FIELD_INFO(t->tgid, BYTE_SIZE);
	out[2] = FIELD_INFO(t->pid, EXISTS);
	out[3] = FIELD_INFO(t->pid, SIGNED);
	out[4] = FIELD_INFO(skb->pkt_type, LSHIFT_U64);
	out[5] = FIELD_INFO(skb->pkt_type, RSHIFT_U64);
	out[6] = FIELD_INFO(skb->pkt_type, BYTE_OFFSET);
	out[7] = __builtin_btf_type_id(*t, 0);	/* TYPE_ID_LOCAL */
	out[8] = __builtin_btf_type_id(*t, 1);	/* TYPE_ID_TARGET */
	out[9] = __builtin_preserve_type_info(*t, 0);	/* TYPE_EXISTS */
	out[10] = __builtin_preserve_type_info(*t, 1);	/* TYPE_SIZE */
	out[11] = __builtin_preserve_enum_value(*(typeof(enum bpf_map_type___local) *)BPF_MAP_TYPE_RINGBUF___local, 0);
	out[12] = __builtin_preserve_enum_value(*(typeof(enum bpf_map_type___local) *)BPF_MAP_TYPE_RINGBUF___local, 1);
	out[13] = __builtin_preserve_type_info(*n, 0);	/* a type the kernel lacks */
	out[14] = FIELD_INFO(n->a, EXISTS);
	bpf_probe_read_kernel(&out[16], 4, &t->tgid);	/* an ALU add of a relocated offset */
	out[18] = ((struct bpf_raw_tracepoint_args___local *)ctx)->args[1];	/* a relocated ldx */
	if (__builtin_preserve_type_info(*n, 0))
		out[17] = n->a;	/* poisoned, but dead once TYPE_EXISTS gives 0 */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
