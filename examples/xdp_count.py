"""The ten-line tour of pybpf's object API: python examples/xdp_count.py [pybpf|kernel]."""
import sys
from pathlib import Path

import pybpf

obj = pybpf.open_object(Path(__file__).with_name("xdp_count.bpf.o"))   # or pybpf.compile_and_open("xdp_count.c")
with obj.load(target=sys.argv[1] if len(sys.argv) > 1 else "pybpf") as loaded:
    prog = loaded.programs["xdp_count"]
    print(prog.verdict)
    ipv4, arp = bytes(12) + b"\x08\x00" + bytes(50), bytes(12) + b"\x08\x06" + bytes(28)
    print(prog.run(data=ipv4, repeat=3).retval, prog.run(data=arp).retval)   # 2 2: XDP_PASS
    print({hex(k): v for k, v in sorted(loaded.maps["counts"].items())})  # per EtherType (read little-endian)
    print(loaded.globals["packets"], loaded.globals["bytes"])
