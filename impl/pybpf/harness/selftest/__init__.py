"""The selftest runner's foundations: kernel-style BPF selftests (``progs/*.c`` with ``__success``, ``__msg``...).

One module per concept:

* ``annotations`` - a program's ``TestSpec`` from its BTF decl tags, as the kernel's test_loader reads them;
* ``match``, ``ere`` - expected-text patterns (``{{regex}}`` spans are POSIX ERE), matched and reported as
  test_progs does;
* ``lists`` - DENYLIST/ALLOWLIST files and ``-a``/``-d`` selections;
* ``results``, ``reports`` - the result model, ``report.json`` (a superset of test_progs' JSON summary),
  JUnit, Markdown, HTML and the console table;
* ``gate`` - comparing two reports (``pybpf gate``);
* ``series``, ``gitam`` - the suite at each commit of a series or mbox (``pybpf series``);
* ``arch`` - architecture names.
"""
