/* A stand-in kernel module: pahole encodes its BTF split on top of vmlinux's.
 * list_head and task_struct are the kernel's, so the split BTF refers to base ids.
 */
struct task_struct;

struct list_head {
	struct list_head *next, *prev;
};

struct mod_a_dev {
	struct list_head node;
	struct task_struct *owner;
	unsigned long long flags : 3;
	unsigned long long refs : 61;
	char name[16];
};

int mod_a_probe(struct mod_a_dev *dev, int flags)
{
	return dev->name[flags] + (int)dev->refs;
}
