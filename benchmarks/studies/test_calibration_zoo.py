"""Study (moved from tests/test_calibration.py for time: ~25 s of `make test`): the calibration over seeds
on every zoo entry with exact cumulants, new entries included the moment they exist. The suite keeps
the six entries its checks name (tests/test_calibration.py's `SLICE`), drawn on the same keys as here."""

from nnft_ppl.width_scaling._calibration import zoo_entries
from tests.test_calibration import SLICE, calibrate_zoo, check_coverage, check_failures_flagged


def test_every_entry_covers_where_light_and_is_flagged_where_not():
    calib = calibrate_zoo()
    assert set(calib) == set(zoo_entries(3)) and set(SLICE) < set(calib)
    checked = check_coverage(calib)
    check_failures_flagged(calib)
    # every entry outside the suite's slice has at least its G2 checked (its k-hat below 0.5)
    assert {(n, 2) for n in set(calib) - set(SLICE)} <= set(checked), checked
