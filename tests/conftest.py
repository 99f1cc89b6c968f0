import sys
from pathlib import Path

# tests/golden.py is a module the tests import (and a script that regenerates golden/).
sys.path.insert(0, str(Path(__file__).resolve().parent))
