"""Where things are in the checkout, for tests that run or copy them."""

from pathlib import Path

#: The checkout: where manage.py is, and the working directory of the processes tests start.
ROOT = Path(__file__).resolve().parents[2]
#: 1.x projects that the porting command's tests port (data: kept byte for byte).
UPGRADE_FIXTURES = ROOT / "tests" / "support" / "upgrade_fixtures"
