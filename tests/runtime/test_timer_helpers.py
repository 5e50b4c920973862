"""bpf_timer_init/set_callback/start/cancel at run time: the runtime against the live kernel.

Each program works on its own element of one array map and returns one helper's answer,
run once through PROG_TEST_RUN (the kernel) and ``Runtime.run`` (pybpf); the values must
be the kernel's.  A started timer's callback fires later, in softirq context, never
inside the run that armed it: a one-second timer is still armed when the program
cancels it (``bpf_timer_cancel`` returns 1), and an idle one gives 0.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from pybpf.kernel import available
from pybpf.toolchain import ToolchainError

INCLUDE = Path(__file__).resolve().parents[2] / "selftests" / "include"
_why = available()

PROG = """
#include <linux/bpf.h>
#include "bpf_helpers.h"

#define CLOCK_MONOTONIC 1

/* not in the bundled bpf_helper_defs.h */
static long (* const timer_cancel)(struct bpf_timer *timer) = (void *) 172;

struct elem { struct bpf_timer t; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct elem);
	__uint(max_entries, 8);
} timers SEC(".maps");

static int cb(void *map, int *key, struct elem *v)
{
	return 0;
}

#define ELEM(k)								\\
	int key = k;							\\
	struct elem *v = bpf_map_lookup_elem(&timers, &key);		\\
	if (!v)								\\
		return -1;

#define INIT() bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC)

SEC("tc") int init_twice(void *ctx) { ELEM(0); INIT(); return INIT(); }
SEC("tc") int init_bad_clock(void *ctx) { ELEM(1); return bpf_timer_init(&v->t, &timers, 3); }
SEC("tc") int callback_before_init(void *ctx) { ELEM(2); return bpf_timer_set_callback(&v->t, cb); }
SEC("tc") int start_without_callback(void *ctx) { ELEM(3); INIT(); return bpf_timer_start(&v->t, 0, 0); }
SEC("tc") int start_bad_flags(void *ctx)
{
	ELEM(4); INIT(); bpf_timer_set_callback(&v->t, cb);
	return bpf_timer_start(&v->t, 0, 4);
}
SEC("tc") int start_then_cancel(void *ctx)
{
	ELEM(5); INIT(); bpf_timer_set_callback(&v->t, cb);
	if (bpf_timer_start(&v->t, 1000000000, 0))
		return -100;
	return timer_cancel(&v->t);
}
SEC("tc") int cancel_idle(void *ctx) { ELEM(6); INIT(); return timer_cancel(&v->t); }
SEC("tc") int cancel_before_init(void *ctx) { ELEM(7); return timer_cancel(&v->t); }

char _license[] SEC("license") = "GPL";
"""
# what Linux 6.18 answers (kernel/bpf/helpers.c), as the u32 PROG_TEST_RUN reports
EXPECTED = {
    "init_twice": -errno.EBUSY, "init_bad_clock": -errno.EINVAL, "callback_before_init": -errno.EINVAL,
    "start_without_callback": -errno.EINVAL, "start_bad_flags": -errno.EINVAL, "start_then_cancel": 1,
    "cancel_idle": 0, "cancel_before_init": -errno.EINVAL,
}


@pytest.fixture(scope="module")
def obj(tmp_path_factory):
    from pybpf.api import compile_and_open

    src = tmp_path_factory.mktemp("timers") / "timer_prog.c"
    src.write_text(PROG)
    try:
        return compile_and_open(src, include_dirs=[INCLUDE])
    except ToolchainError as err:
        pytest.skip(f"no BPF C compiler: {err}")


def test_runtime_answers_as_the_kernel_documents(obj):
    with obj.load("pybpf") as ours:
        for name, want in EXPECTED.items():
            assert ours.programs[name].ok, ours.programs[name].log
            assert (name, ours.programs[name].run(bytes(64)).retval) == (name, want & 0xFFFFFFFF)


@pytest.mark.skipif(_why is not None, reason=f"bpf() not usable: {_why}")
def test_runtime_answers_as_the_kernel_does(obj):
    with obj.load("kernel") as kernel, obj.load("pybpf") as ours:
        for name in EXPECTED:
            assert kernel.programs[name].ok, kernel.programs[name].log
            k, o = kernel.programs[name].run(bytes(64)), ours.programs[name].run(bytes(64))
            assert (name, o.retval) == (name, k.retval)
