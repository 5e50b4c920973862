/* SPDX-License-Identifier: GPL-2.0 */
/* pybpf's helper header for BPF C programs.
 *
 * Include it after <linux/bpf.h> (from linux-libc-dev) or a generated
 * vmlinux.h:
 *
 *	#include <linux/bpf.h>
 *	#include "bpf_helpers.h"
 *
 *	struct {
 *		__uint(type, BPF_MAP_TYPE_HASH);
 *		__uint(max_entries, 64);
 *		__type(key, __u32);
 *		__type(value, __u64);
 *	} counts SEC(".maps");
 *
 *	SEC("xdp")
 *	int count(struct xdp_md *ctx) { ... }
 *
 *	char LICENSE[] SEC("license") = "GPL";
 *
 * Map definitions are BTF-defined (the ".maps" section); each attribute is a
 * member whose BTF type carries the value, which is what pybpf.obj (and libbpf)
 * decode.
 */
#ifndef __PYBPF_BPF_HELPERS_H
#define __PYBPF_BPF_HELPERS_H

#include "bpf_helper_defs.h"

/* Put a function or variable in an ELF section: the program type for
 * functions, ".maps" for map definitions, ".data.name"/".rodata.name" for
 * extra global data maps.  A leading '?' ("?xdp") means: do not load by default.
 */
#define SEC(name) __attribute__((section(name), used))

/* Map definition attributes.  An integer is encoded as the array size of a
 * pointed-to array type; a type as the pointee of a pointer; an inner map
 * (map-in-map) or a program array's entries as a zero-length array of pointers.
 */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
/* a 64-bit attribute (map_extra): the one enumerator of an anonymous enum */
#define __pybpf_paste(a, b) a##b
#define __pybpf_uniq(a, b) __pybpf_paste(a, b)
#define __ulong(name, val) enum { __pybpf_uniq(__pybpf_ulong_, __COUNTER__) = (val) } name

/* pinning values of a map definition */
enum libbpf_pin_type {
	LIBBPF_PIN_NONE,
	LIBBPF_PIN_BY_NAME,
};

/* values of a tristate __kconfig extern */
enum libbpf_tristate {
	TRI_NO = 0,
	TRI_YES = 1,
	TRI_MODULE = 2,
};

/* Externs the loader resolves: kernel functions and variables, Kconfig values. */
#define __ksym __attribute__((section(".ksyms")))
#define __kconfig __attribute__((section(".kconfig")))
#define __weak __attribute__((weak))
#define __hidden __attribute__((visibility("hidden")))

/* A global kept out of user space: its own ".bss.<name>" section whose variables are
 * hidden, so the map is not mmap()able and a skeleton does not show it (globals
 * holding a bpf_spin_lock or list heads need this).
 */
#define private(name) SEC(".bss." #name) __hidden __attribute__((aligned(8)))

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* Make the compiler forget what it knows about a variable's value (forces a
 * range check to be kept for the verifier).
 */
#define barrier_var(var) asm volatile("" : "+r"(var))
#define barrier() asm volatile("" ::: "memory")

#ifndef NULL
#define NULL ((void *)0)
#endif

#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((void *)(ptr) - offsetof(type, member)))
#endif

#endif /* __PYBPF_BPF_HELPERS_H */
