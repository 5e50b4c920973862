"""Arch-neutral JIT machinery shared by every back-end (x86_64, arm64, s390x).

- ``codebuf``: ``CodeBuffer`` (bytes, ``Label``s, ``Fixup``s patched by the back-end's
  ``Patcher``, the BPF pc -> machine offset map, a constant pool).
- ``backend``: the contract — ``Backend`` (the abstract back-end with its register map as
  data), ``JitImage``, the guest address layout (``CODE_BASE``, ``GATE_BASE``, ...), the
  context block layout ``Ctx``, ``ExitKind``/``Fault`` codes, ``pack_ctx``, ``gate_address``.
  Its docstring states the calling convention every back-end's code follows.
- ``faults``: the words for faults the code reports through the context block.
- ``counting``: ``count_plan``, the basic blocks whose lengths counting code adds up.
- ``gates``: ``route`` lowers kfunc calls to calls of the executors' own gates and adds the
  packet loaders of ld_abs/ld_ind (both executors compile what it returns).
- ``emulate``: ``EmulatedProgram`` runs an image under unicorn against a ``vm.Memory``
  (``host_buffer`` gives memory it maps in place); ``compile_routed`` and ``call_helper`` serve
  both executors.
- ``native``: ``NativeProgram`` runs x86_64 images on an x86_64 host (``trusted=True`` only).
- ``listing``: ``listing(image, insns, backend)``, the image disassembled per BPF instruction.

Nothing here imports unicorn or capstone until it is used.
"""
