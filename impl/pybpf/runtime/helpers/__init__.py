"""The runtime's helpers: behaviour only (their prototypes are the verifier's business).

``RUNTIME_HELPERS`` is the table, as data: kernel name, function, number of
argument registers read.  Ids come from ``pybpf.isa.helper_names``.  Every
function takes ``(env, ctx, r1, r2, r3, r4, r5)``; ``register_helpers`` binds
``env`` and puts them into a ``HelperTable``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from pybpf.isa.helper_names import HELPER_NAMES
from pybpf.runtime.context import ExecEnv
from pybpf.runtime.helpers import control, kptr, maps, packet, ringbuf, spinlock, system, task, timer, trace
from pybpf.vm.helpers import HelperTable


@dataclass(frozen=True)
class RuntimeHelper:
    name: str  # the kernel's, as in the verifier log
    fn: Callable[..., int]  # (env, ctx, r1..r5) -> int
    nargs: int

    @property
    def id(self) -> int:
        return HELPER_NAMES.index(self.name)


RUNTIME_HELPERS: tuple[RuntimeHelper, ...] = (
    RuntimeHelper("bpf_map_lookup_elem", maps.map_lookup_elem, 2),
    RuntimeHelper("bpf_map_update_elem", maps.map_update_elem, 4),
    RuntimeHelper("bpf_map_delete_elem", maps.map_delete_elem, 2),
    RuntimeHelper("bpf_ktime_get_ns", system.ktime_get_ns, 0),
    RuntimeHelper("bpf_get_prandom_u32", system.get_prandom_u32, 0),
    RuntimeHelper("bpf_get_smp_processor_id", system.get_smp_processor_id, 0),
    RuntimeHelper("bpf_tail_call", control.tail_call, 3),
    RuntimeHelper("bpf_get_current_pid_tgid", system.get_current_pid_tgid, 0),
    RuntimeHelper("bpf_map_push_elem", maps.map_push_elem, 3),
    RuntimeHelper("bpf_map_pop_elem", maps.map_pop_elem, 2),
    RuntimeHelper("bpf_map_peek_elem", maps.map_peek_elem, 2),
    RuntimeHelper("bpf_spin_lock", spinlock.spin_lock, 1),
    RuntimeHelper("bpf_spin_unlock", spinlock.spin_unlock, 1),
    RuntimeHelper("bpf_ktime_get_boot_ns", system.ktime_get_boot_ns, 0),
    RuntimeHelper("bpf_ringbuf_output", ringbuf.ringbuf_output, 4),
    RuntimeHelper("bpf_ringbuf_reserve", ringbuf.ringbuf_reserve, 3),
    RuntimeHelper("bpf_ringbuf_submit", ringbuf.ringbuf_submit, 2),
    RuntimeHelper("bpf_ringbuf_discard", ringbuf.ringbuf_discard, 2),
    RuntimeHelper("bpf_ringbuf_query", ringbuf.ringbuf_query, 2),
    RuntimeHelper("bpf_for_each_map_elem", control.for_each_map_elem, 4),
    RuntimeHelper("bpf_loop", control.loop, 4),
    RuntimeHelper("bpf_kptr_xchg", kptr.kptr_xchg, 2),
    RuntimeHelper("bpf_probe_read", trace.probe_read, 3),
    RuntimeHelper("bpf_trace_printk", trace.trace_printk, 2),
    RuntimeHelper("bpf_probe_read_kernel", trace.probe_read_kernel, 3),
    RuntimeHelper("bpf_probe_read_kernel_str", trace.probe_read_kernel_str, 3),
    RuntimeHelper("bpf_perf_event_output", trace.perf_event_output, 5),
    RuntimeHelper("bpf_get_stackid", trace.get_stackid, 3),
    RuntimeHelper("bpf_get_stack", trace.get_stack, 4),
    RuntimeHelper("bpf_get_current_uid_gid", task.get_current_uid_gid, 0),
    RuntimeHelper("bpf_get_current_comm", task.get_current_comm, 2),
    RuntimeHelper("bpf_get_numa_node_id", task.get_numa_node_id, 0),
    RuntimeHelper("bpf_get_current_cgroup_id", task.get_current_cgroup_id, 0),
    RuntimeHelper("bpf_jiffies64", task.jiffies64, 0),
    RuntimeHelper("bpf_ktime_get_coarse_ns", task.ktime_get_coarse_ns, 0),
    RuntimeHelper("bpf_send_signal", task.send_signal, 1),
    RuntimeHelper("bpf_send_signal_thread", task.send_signal_thread, 1),
    RuntimeHelper("bpf_get_attach_cookie", task.get_attach_cookie, 1),
    RuntimeHelper("bpf_skb_store_bytes", packet.skb_store_bytes, 5),
    RuntimeHelper("bpf_l3_csum_replace", packet.l3_csum_replace, 5),
    RuntimeHelper("bpf_redirect", packet.redirect, 2),
    RuntimeHelper("bpf_skb_load_bytes", packet.skb_load_bytes, 4),
    RuntimeHelper("bpf_csum_diff", packet.csum_diff, 5),
    RuntimeHelper("bpf_xdp_adjust_head", packet.xdp_adjust_head, 2),
    RuntimeHelper("bpf_redirect_map", packet.redirect_map, 3),
    RuntimeHelper("bpf_xdp_adjust_meta", packet.xdp_adjust_meta, 2),
    RuntimeHelper("bpf_skb_load_bytes_relative", packet.skb_load_bytes_relative, 5),
    RuntimeHelper("bpf_timer_init", timer.timer_init, 3),
    RuntimeHelper("bpf_timer_set_callback", timer.timer_set_callback, 2),
    RuntimeHelper("bpf_timer_start", timer.timer_start, 3),
    RuntimeHelper("bpf_timer_cancel", timer.timer_cancel, 1),
)


def register_helpers(table: HelperTable, env: ExecEnv) -> HelperTable:
    """Register every runtime helper in ``table``, bound to ``env``; returns ``table``."""
    for helper in RUNTIME_HELPERS:
        table.register(helper.id, helper.name, partial(helper.fn, env), nargs=helper.nargs)
    return table


__all__ = ["RUNTIME_HELPERS", "RuntimeHelper", "register_helpers"]
