"""The organs pages over HTTP, for a body created through /bodies/new (no organ yet).

Staff add an organ by hand (a bad one is refused with its message, nothing written),
import a file (a bad one previewed with its row errors and no confirm; a good one
previewed, confirmed, listed), print an organ's notice (its link at the public address,
as a QR code), revoke the link; the organ's page opens with its link, says a revoked link
is revoked (410) and refuses a forged one (403). `wenzheng organs import` is the same
import from the command line: errors on stderr and exit 1, a dry run writes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

from server.base.days import today
from server.base.keys import Keys
from server.base.settings import Settings
from server.office import organs
from server.office.demo import BODY
from tests.conftest import WENZHENG, Db, TestClient, server_env
from tests.test_bodies import Office
from tests.test_bodies_pages import body_id_of
from tests.test_csrf import everything
from tests.test_meetings_admin import staff_headers
from tests.test_organs import add_item  # an item row as the followup office writes it

GOOD = "单位名称,联系人,联系电话\n县住房和城乡建设局,王明,0573-12345678\n县交通运输局,赵强,13900000001\n"


def new_body(client: TestClient, headers: dict[str, str]) -> int:
    form = {"name": "某县人民代表大会常务委员会", "kind": "standing-committee", "level": "county"}
    created = client.post("/bodies/new", data=form, headers=headers)
    assert created.status_code == 303
    return body_id_of(created.headers["location"])


def test_organs_pages_from_an_empty_list_to_a_revoked_link(
    client: TestClient, keys: Keys, settings: Settings, db: Db
) -> None:
    headers = staff_headers(client, keys)
    body_id = new_body(client, headers)
    base = f"/bodies/{body_id}/organs"
    assert client.get(base).status_code == 303  # no login: to the login page
    assert f'href="{base}"' in client.get(f"/bodies/{body_id}", headers=headers).text
    page = client.get(base, headers=headers)
    assert page.status_code == 200 and "尚无承办单位" in page.text

    before = everything(db)
    bad = client.post(base, data={"name": "县教育局", "phone": "12345"}, headers=headers)
    assert bad.status_code == 400 and "不是有效的电话号码" in bad.text and "未作任何修改" in bad.text
    assert 'value="县教育局"' in bad.text  # what was typed is kept
    assert everything(db) == before
    added = client.post(
        base, data={"name": "县教育局", "contact": "李华", "phone": "13800000000"}, headers=headers
    )
    assert added.status_code == 303
    assert "县教育局" in client.get(base, headers=headers).text

    before = everything(db)
    bad_file = "单位名称,联系人,联系电话\n,王明,\n县交通运输局,赵强,12345\n".encode("gb18030")
    preview = client.post(
        f"{base}/preview", files={"file": ("单位.csv", bad_file, "text/csv")}, data={}, headers=headers
    )
    assert preview.status_code == 400
    assert (
        "发现 2 处错误" in preview.text and "第 2 行" in preview.text and "单位名称不能为空" in preview.text
    )
    assert "确认导入" not in preview.text
    assert everything(db) == before

    preview = client.post(
        f"{base}/preview", files={"file": ("单位.csv", GOOD.encode(), "text/csv")}, data={}, headers=headers
    )
    assert preview.status_code == 200 and "新增 2 个单位，更新 0 个单位" in preview.text
    assert everything(db) == before  # a preview writes nothing
    token = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)  # type: ignore[union-attr]
    done = client.post(f"{base}/confirm", data={"token": token}, headers=headers)
    assert done.status_code == 200 and "导入完成" in done.text
    again = client.post(f"{base}/confirm", data={"token": token}, headers=headers)
    assert again.status_code == 400 and "已过期" in again.text  # one confirmation per upload
    listing = client.get(base, headers=headers).text
    assert "县住房和城乡建设局" in listing and "0573-12345678" in listing
    organ_id = int(re.search(rf'href="{base}/(\d+)/notice"', listing).group(1))  # type: ignore[union-attr]

    notice = client.get(f"{base}/{organ_id}/notice", headers=headers)
    assert notice.status_code == 200 and "<svg" in notice.text and "县教育局" in notice.text
    link = re.search(r'<p class="o-url">([^<]+)</p>', notice.text).group(1)  # type: ignore[union-attr]
    assert link.startswith(f"{settings.public_url}/o/")
    path = link.removeprefix(settings.public_url)
    organ_page = client.get(path)  # no login: the link is the credential
    assert organ_page.status_code == 200 and "县教育局" in organ_page.text and "目前没有" in organ_page.text
    other = int(re.findall(rf'href="{base}/(\d+)/notice"', listing)[1])
    Office(settings.database_url).run(lambda conn: add_item(conn, body_id, "城区停车难问题", organ_id))
    Office(settings.database_url).run(lambda conn: add_item(conn, body_id, "乡村公路养护问题", other))
    organ_page = client.get(path)
    assert "城区停车难问题" in organ_page.text and "乡村公路养护问题" not in organ_page.text
    assert "答复期限 2026-06-01" in organ_page.text
    late = int(today() > dt.date(2026, 6, 1))
    assert f"已逾期 {late} 项" in organ_page.text  # computed on request, in China time

    revoked = client.post(f"{base}/{organ_id}/revoke", data={}, headers=headers)
    assert revoked.status_code == 303
    gone = client.get(path)
    assert gone.status_code == 410 and organs.REVOKED in gone.text
    fresh = client.get(f"{base}/{organ_id}/notice", headers=headers).text
    assert link not in fresh and client.get(re.search(r"/o/[^<]+", fresh).group(0)).status_code == 200  # type: ignore[union-attr]
    forged = client.get(f"/o/{keys.invitation(organ_id, 2)}")
    assert forged.status_code == 403 and "链接无效" in forged.text

    edited = client.post(
        f"{base}/{organ_id}", data={"name": "县教育体育局", "contact": "李华", "phone": ""}, headers=headers
    )
    assert edited.status_code == 303 and "县教育体育局" in client.get(base, headers=headers).text
    # An organ of another body is not reached through this body's address.
    assert client.get(f"/bodies/1/organs/{organ_id}/notice", headers=headers).status_code == 404


def wenzheng(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WENZHENG), *args], env=server_env(settings), capture_output=True, text=True, timeout=60
    )


def test_organs_import_command(settings: Settings, db: Db, tmp_path: Path) -> None:
    bad = tmp_path / "单位.csv"
    bad.write_bytes("单位名称,联系电话\n县教育局,12345\n县教育局,\n".encode("gb18030"))
    before = everything(db)
    done = wenzheng(settings, "organs", "import", str(bad), "--body", BODY)
    assert done.returncode == 1
    assert (
        "第 2 行「联系电话」" in done.stderr and "第 3 行「单位名称」：“县教育局”与第 2 行重复" in done.stderr
    )
    assert "未导入任何数据" in done.stderr
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    dry = wenzheng(settings, "organs", "import", str(good), "--body", BODY, "--dry-run")
    assert dry.returncode == 0 and "试运行" in dry.stdout and "新增 2 个单位" in dry.stdout
    assert everything(db) == before
    unknown = wenzheng(settings, "organs", "import", str(good), "--body", "不存在的机构")
    assert unknown.returncode == 1 and "没有名为“不存在的机构”的机构" in unknown.stderr
    done = wenzheng(settings, "organs", "import", str(good), "--body", BODY)
    assert done.returncode == 0 and "导入完成：新增 2 个单位" in done.stdout
    assert everything(db) != before
