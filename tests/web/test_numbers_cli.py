"""R37 and R22 through the `pbx` command: the CSV export, the bulk import's preview and
all-or-nothing apply, and a site's emergency numbers (same services as the console)."""

from __future__ import annotations

import csv
import io

from tests.web.test_licences import _pbx

IMPORT_OK = "number,extension,occupier,site\n+442079460401,401,Acme Ltd,London - Old Street\n"
IMPORT_WRONG = IMPORT_OK + "+442079460401,402,Acme Ltd,London - Old Street\n"


def test_r37_pbx_numbers_export_writes_the_filtered_formula_safe_csv(store_url):
    done = _pbx(store_url, "numbers", "export", "--csv", "--status", "reserved", "--occupier", "Acme Ltd")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0][:5] == ["number", "extension", "occupier", "site", "status"]
    assert [r[0] for r in rows[1:]] == ["'+442079460303", "'+442079460205"]
    assert _pbx(store_url, "numbers", "export", "--csv", "--site", "Nowhere").returncode == 1


def test_r37_pbx_numbers_import_previews_refuses_a_wrong_file_whole_and_applies(store_url, tmp_path):
    wrong, right = tmp_path / "wrong.csv", tmp_path / "right.csv"
    wrong.write_text(IMPORT_WRONG)
    right.write_text(IMPORT_OK)
    refused = _pbx(store_url, "numbers", "import", str(wrong), "--apply")
    assert refused.returncode == 1
    assert "Row 3: +442079460401 is also in row 2" in refused.stderr
    preview = _pbx(store_url, "numbers", "import", str(right))
    assert preview.returncode == 0 and "preview: 1 numbers would be allocated" in preview.stdout
    exported = _pbx(store_url, "numbers", "export", "--csv", "--status", "reserved").stdout
    assert "+442079460401" not in exported
    assert _pbx(store_url, "numbers", "import", str(right), "--apply").returncode == 0
    assert "'+442079460401,401,Acme Ltd" in _pbx(store_url, "numbers", "export", "--csv").stdout


def test_r22_pbx_site_emergency_sets_and_prints_a_sites_own_numbers(store_url):
    done = _pbx(store_url, "site", "emergency", "London - Old Street", "101,105")
    assert done.returncode == 0 and done.stdout.strip() == "London - Old Street: 112,999,911,101,105"
    refused = _pbx(store_url, "site", "emergency", "London - Old Street", "12")
    assert refused.returncode == 2 and "3 to 6 digits" in refused.stderr
    assert _pbx(store_url, "site", "emergency", "London - Old Street").stdout.strip().endswith("101,105")
