"""theorydl: the reproduction package behind the theorydl-artifact Snakemake workflow.

One module per experiment family (``parity``, ...), one training engine (``engine``), and the
shared pieces that every family uses: process setup (``runtime``), run files (``runs``), config
resolution (``config``), tables (``tables``), figures (``plotting``), claims (``claims``) and the
report's generated inputs (``report``).
"""

__version__ = "0.1.0"
