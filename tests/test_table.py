import json
import subprocess
import sys

import pytest

from catalog.errors import UserError
from catalog.table import load_table


def test_builtin_table_has_all_14_rows_as_in_the_source():
    t = load_table()
    assert [r.row for r in t.rows] == list(range(1, 15))
    assert t.row(12).tb is None and t.row(12).capacity_bytes is None  # blank in the source
    assert t.row(4).tb == 2.7 and t.row(4).items == 1050
    assert t.row(14).items == 260_000 and t.row("gov-info").row == 14
    assert {r.group_zh for r in t.rows} == {"图书", "期刊", "视频", "音频", "图片", "网络资源"}
    assert all(r.name_zh and r.name_en and r.description_zh for r in t.rows)
    assert round(sum(r.tb for r in t.rows if r.tb), 3) == 4.17


def test_select_by_numbers_and_keys():
    t = load_table()
    assert [r.row for r in t.select("14,open-courses,1")] == [1, 4, 14]
    with pytest.raises(UserError, match="No table row"):
        t.select("99")


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["rows"][0].pop("items"), "lacks items"),
    (lambda d: d["rows"][1].update(kind="hologram"), "kind"),
    (lambda d: d["rows"][2].update(tb=-1), "tb must be"),
    (lambda d: d["rows"][3].update(key="ebooks"), "repeated"),
])
def test_malformed_table_is_named(tmp_path, mutate, expected):
    data = load_table().to_dict()
    mutate(data)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    with pytest.raises(UserError, match=expected) as e:
        load_table(path)
    assert str(path) in str(e.value)


def test_table_command_prints_json_and_text():
    out = subprocess.run([sys.executable, "-m", "libpush.cli", "table", "--json"], capture_output=True,
                         text=True, check=True).stdout
    assert len(json.loads(out)["rows"]) == 14
    text = subprocess.run([sys.executable, "-m", "libpush.cli", "table"], capture_output=True,
                          text=True, check=True).stdout
    assert "老照片" in text and "国图公开课" in text
