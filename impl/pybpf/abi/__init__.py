"""ABI profiles as data: which kfuncs a kernel offers for local kptrs and graph collections, and how."""

from pybpf.abi.profiles import LINUX_6_18, PROFILES, RFC_2022, ArgKind, KfuncFlag, KfuncSpec, Op, Profile, profile

__all__ = ["LINUX_6_18", "PROFILES", "RFC_2022", "ArgKind", "KfuncFlag", "KfuncSpec", "Op", "Profile", "profile"]
