"""pytest setup for the IDL compiler's tests: tools/idlc and goldens.py importable."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "tools" / "idlc"))
