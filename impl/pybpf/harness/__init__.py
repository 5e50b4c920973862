"""The conformance harness: ``.data`` tests (``datafile``), the places that run them
(``targets``), the runner that judges each test on each target (``conformance``) and
the views of its results (``report``)."""
