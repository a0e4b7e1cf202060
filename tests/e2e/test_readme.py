import os

from tests.e2e.tour import README, run_tour


def test_the_readme_tour_reproduces_its_printed_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    written, produced = run_tour()
    if os.environ.get("UPDATE_README") == "1":
        README.write_text(produced, encoding="utf-8")
    assert produced == written, "README tour output changed; rerun with UPDATE_README=1 and review"
