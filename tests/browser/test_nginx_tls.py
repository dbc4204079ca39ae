"""The shipped nginx config (deploy/nginx/wenzheng.conf), for real, in front of a real server.

Real nginx on loopback with a self-signed certificate made by openssl, in front of
`wenzheng serve --demo` whose public address is nginx's https one and which trusts only
nginx (``WENZHENG_TRUSTED_PROXIES=127.0.0.2``: nginx connects to it from 127.0.0.2, the
browser reaches nginx from 127.0.0.1). In Chromium, over https and wss: the console, the
projector and a phone; check-in, a rating, a reconnect across an nginx restart, and the
audit trail naming the phone's own address -- not the proxy's, and not one the phone
made up. Without a browser: the http redirect, TLS versions, HSTS and the body limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import http.client
import io
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from server.base.keys import Keys
from tests.browser.conftest import DemoServer, Shots, _free_port, demo_folder, parse_links, serve
from tests.browser.nginx_proxy import PROXY_SOURCE, SHIPPED, Nginx, certificate, nginx_binary, nginx_in_front
from tests.browser.test_live_session import PHONE_UA, connected, hall_url_on_projector, login
from tests.browser.test_offline_phone import act

pytestmark = pytest.mark.browser

FORGED = "198.51.100.7"  # what a client claims to be in its own X-Forwarded-For
PROBE_UA = "trusted-host-probe/1.0"
BACK_WITHIN_MS = 8000  # reconnect delays are capped at 5 s (server/web/static/live.js)
KIB = 1024


@dataclass(frozen=True)
class Proxied:
    server: DemoServer  # its base is nginx's https address, as printed by the server
    upstream: str  # the server itself, plain http
    http_port: int
    https_port: int
    nginx: Nginx


@pytest.fixture
def proxied() -> Iterator[Proxied]:
    http_port, https_port = _free_port(), _free_port()
    public = f"https://127.0.0.1:{https_port}"
    env = {"WENZHENG_PUBLIC_URL": public, "WENZHENG_TRUSTED_PROXIES": PROXY_SOURCE}
    with (
        serve("--demo", env=env, seed=demo_folder()) as started,
        tempfile.TemporaryDirectory(prefix="wenzheng-nginx-") as tmp,
        nginx_in_front(
            Path(tmp), http_port=http_port, https_port=https_port, upstream_port=started.port
        ) as nx,
    ):
        stdout = started.stdout_path.read_text()
        links = parse_links(stdout)
        assert links.console_url.startswith(f"{public}/"), stdout
        server = DemoServer(
            base=public,
            port=https_port,
            data_dir=started.data_dir,
            meeting_id=links.meeting_id,
            console_url=links.console_url,
            projector_url=links.projector_url,
            podium_url=links.podium_url,
            deputy_url=links.deputy_url,
            invitations=links.invitations,
            stdout=stdout,
            log_path=started.log_path,
        )
        yield Proxied(server, started.base, http_port, https_port, nx)


def insecure() -> ssl.SSLContext:
    """The self-signed certificate is the point of nothing here: do not verify it."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def https_request(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    source: str | None = None,  # the address to connect from
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPSConnection(
        "127.0.0.1", port, context=insecure(), timeout=20, source_address=(source, 0) if source else None
    )
    try:
        # nginx may answer 413 before the body is all sent: read that answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request(method, path, body=body or None, headers=headers or {})
        reply = conn.getresponse()
        return (
            reply.status,
            {k.lower(): v for k, v in reply.getheaders()},
            reply.read().decode(errors="replace"),
        )
    finally:
        conn.close()


async def desk(browser: Browser, width: int, height: int) -> BrowserContext:
    return await browser.new_context(
        viewport={"width": width, "height": height},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        ignore_https_errors=True,
    )


async def phone_in_hand(browser: Browser) -> BrowserContext:
    """A deputy's phone that also claims, in every request, to be someone else."""
    return await browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=PHONE_UA,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        ignore_https_errors=True,
        extra_http_headers={"X-Forwarded-For": FORGED},
    )


def watch_sockets(page: Page) -> list[str]:
    urls: list[str] = []
    page.on("websocket", lambda ws: urls.append(ws.url))
    return urls


async def csrf_token(console: Page) -> str:
    headers = await console.locator("body").get_attribute("hx-headers")
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', headers or "")
    assert token
    return token.group(1)


async def staff_cookie(context: BrowserContext) -> str:
    cookies = {c["name"]: c["value"] for c in await context.cookies()}
    return f"wz_user={cookies['wz_user']}"


def direct_act(upstream: str, meeting_id: int, cookie: str, token: str, **form: str) -> int:
    """A chair command straight to the server, past nginx (which is down)."""
    body = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(
        f"{upstream}/m/{meeting_id}/act",
        data=body,
        headers={
            "Cookie": cookie,
            "X-CSRF-Token": token,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        status: int = reply.status
        return status


async def audit_rows(console: Page, base: str, meeting_id: int) -> list[dict[str, str]]:
    reply = await console.request.get(f"{base}/m/{meeting_id}/audit.csv")
    assert reply.ok, reply.status
    return list(csv.DictReader(io.StringIO((await reply.text()).lstrip("\ufeff"))))


async def test_console_projector_and_phone_over_https_and_wss(
    proxied: Proxied, browser: Browser, shots: Shots
) -> None:
    s, nx = proxied.server, proxied.nginx
    mid, inv, public = s.meeting_id, s.invitations[0], s.base
    console_ctx, projector_ctx = await desk(browser, 1440, 900), await desk(browser, 1920, 1080)
    phone_ctx = await phone_in_hand(browser)
    console, projector, phone = (
        await console_ctx.new_page(),
        await projector_ctx.new_page(),
        await phone_ctx.new_page(),
    )
    screens = {"console": console, "projector": projector, "phone": phone}
    sockets = {name: watch_sockets(page) for name, page in screens.items()}

    await login(console, s.console_url)
    await projector.goto(s.projector_url)
    await expect(projector).to_have_url(f"{public}/m/{mid}/projector")
    await phone.goto(inv.url)
    await expect(phone).to_have_url(f"{public}/d/{mid}")
    await expect(phone.locator(".d-name")).to_have_text(f"{inv.name} 代表")
    await connected(console, projector, phone)
    for name, urls in sockets.items():
        assert urls, f"{name}: no live socket was opened"
        for url in urls:
            assert url.startswith(f"wss://127.0.0.1:{proxied.https_port}/ws/{mid}/"), (name, url)
    # Every cookie the server set came back Secure (the public address is https).
    for ctx, must in ((console_ctx, "wz_user"), (projector_ctx, "wz_screen"), (phone_ctx, "wz_deputy")):
        cookies = await ctx.cookies()
        assert must in {c["name"] for c in cookies}, cookies
        assert all(c["secure"] for c in cookies), [c for c in cookies if not c["secure"]]
    await shots.take("connected", screens)

    # -- check-in through the projector's QR code, over https ----------------------------
    await console.get_by_role("button", name=re.compile("^开始签到")).click()
    await expect(projector.locator("#hall-qr svg")).to_be_visible()
    hall_url = await hall_url_on_projector(projector, s, Keys(s.secret))
    await phone.goto(hall_url)
    await phone.get_by_role("button", name="确认签到").tap()
    await expect(phone).to_have_url(re.compile(rf"/d/{mid}\?checked_in=1$"))
    await expect(phone.locator("#d-me .d-status")).to_have_text(re.compile(r"^已签到 ✓"))
    await expect(projector.locator("#p-present")).to_have_text("1")
    await expect(console.locator("#c-present")).to_have_text("1")
    await connected(phone)
    await shots.take("checked-in", screens)

    # A program on a trusted address (nginx's own) goes through nginx with a made-up
    # X-Forwarded-For: nginx replaces it, so the server records the truth, 127.0.0.2.
    token, cookie = await csrf_token(console), await staff_cookie(console_ctx)
    status, _, text = await asyncio.to_thread(
        https_request,
        proxied.https_port,
        "POST",
        f"/m/{mid}/act",
        b"cmd=check_in&deputy_id=40",
        {
            "Cookie": cookie,
            "X-CSRF-Token": token,
            "X-Forwarded-For": FORGED,
            "User-Agent": PROBE_UA,
            "Content-Type": "application/x-www-form-urlencoded",
        },
        PROXY_SOURCE,
    )
    assert status == 200, text

    for cmd, fields in (("close_checkin", {}), ("call_question", {"question_id": 1}), ("to_answering", {})):
        await act(console, public, mid, cmd, **fields)

    # -- a reconnect: nginx goes away, the rating opens meanwhile, nginx comes back -------
    await asyncio.to_thread(nx.stop)
    await expect(phone.locator(".conn").first).to_have_class(re.compile(r"\bconn-lost\b"))
    await expect(console.locator(".conn").first).to_have_class(re.compile(r"\bconn-lost\b"))
    await shots.take("proxy-down", {"phone": phone})
    # nginx upgraded the phone's socket itself: "101" in its access log (a socket is
    # logged when it ends, as the phone's first one did when it left for the hall page).
    assert re.search(rf'"GET /ws/{mid}/deputy HTTP/1.1" 101 ', nx.access_log), nx.access_log[-3000:]
    # ...and its access log keeps the routes, never the invitation token or the screen token.
    for secret in (inv.url.rsplit("/", 1)[1], s.projector_url.split("screen=", 1)[1]):
        assert secret not in nx.access_log, nx.access_log[-3000:]
    assert re.search(rf'"GET /i/{mid}/\.\.\. HTTP/1.1" ', nx.access_log), nx.access_log[-3000:]
    status = await asyncio.to_thread(
        direct_act, proxied.upstream, mid, cookie, token, cmd="open_rating", without_quorum="1"
    )
    assert status == 200
    await asyncio.to_thread(nx.start)
    back_at = time.monotonic()
    await expect(phone.locator(".conn").first).to_have_class(
        re.compile(r"\bconn-ok\b"), timeout=BACK_WITHIN_MS
    )
    await expect(phone.locator("#d-me .choice")).to_have_count(3, timeout=BACK_WITHIN_MS)
    assert time.monotonic() - back_at <= BACK_WITHIN_MS / 1000
    await connected(console, projector, phone)
    await expect(console.locator("#c-tally h2")).to_have_text("满意度测评（进行中）")
    await shots.take("back", screens)

    # -- a rating, over the restarted proxy -----------------------------------------------
    await phone.get_by_role("button", name="满意", exact=True).tap()
    await expect(phone.locator("#d-receipt")).to_have_text("已记录 ✓")
    await expect(console.locator("#c-tally #c-cast")).to_have_text("1")
    await expect(projector.locator("#p-tally .p-rating-count")).to_contain_text("已评 1 人")
    await shots.take("rated", screens)
    for name, urls in sockets.items():
        assert all(u.startswith("wss://") for u in urls), (name, urls)

    # -- the audit trail: the phone's own address, never the proxy's, never the made-up one --
    rows = await audit_rows(console, public, mid)
    phone_rows = [r for r in rows if "MicroMessenger" in r["设备"]]
    assert {r["事件"] for r in phone_rows} >= {"绑定手机", "代表签到", "代表测评"}, phone_rows
    for row in phone_rows:
        assert row["设备"].startswith("127.0.0.1 "), row
    for row in rows:
        assert FORGED not in row["设备"], row
        assert (PROXY_SOURCE in row["设备"]) == (PROBE_UA in row["设备"]), row
    probe = [r for r in rows if PROBE_UA in r["设备"]]
    assert probe and probe[0]["设备"].startswith(f"{PROXY_SOURCE} "), probe

    await console.goto(f"{public}/m/{mid}/audit")
    device = console.locator("table td.muted").filter(has_text="MicroMessenger")
    await expect(device.first).to_contain_text("127.0.0.1 Mozilla/5.0")
    await shots.take("audit", {"console": console})


async def test_redirect_tls_and_body_limits(proxied: Proxied) -> None:
    port, mid = proxied.https_port, proxied.server.meeting_id
    # Plain http only redirects, to the same path on https.
    conn = http.client.HTTPConnection("127.0.0.1", proxied.http_port, timeout=10)
    conn.request("GET", f"/d/{mid}?x=1")
    reply = conn.getresponse()
    assert reply.status == 301 and reply.getheader("location") == f"https://127.0.0.1/d/{mid}?x=1"
    conn.close()

    # TLS 1.2 (older phones) and 1.3 are offered; and browsers are told to stay on https.
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = insecure()
        context.minimum_version = context.maximum_version = version
        with ssl_socket(port, context) as tls:
            assert tls.version() == version.name.replace("_", "."), tls.version()
    status, headers, _ = await asyncio.to_thread(https_request, port, "GET", "/healthz")
    assert status == 200 and headers["strict-transport-security"] == "max-age=31536000"

    # The address the server believes (/whoami, how staff find the hall's network): the
    # client's own, whatever it claims; from nginx's own address, that one.
    forged = {"X-Forwarded-For": FORGED}
    for source, seen in ((None, "127.0.0.1"), (PROXY_SOURCE, PROXY_SOURCE)):
        status, _, text = await asyncio.to_thread(https_request, port, "GET", "/whoami", b"", forged, source)
        assert status == 200 and seen in text and FORGED not in text, (source, text)
        assert source == PROXY_SOURCE or PROXY_SOURCE not in text, text

    # 256 KiB for any form; 6 MiB for the imports, past which nginx says why in Chinese.
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, text = await asyncio.to_thread(https_request, port, "POST", "/login", b"a" * 300 * KIB, form)
    assert status == 413 and "提交的内容太大" in text, (status, text[:300])
    status, _, text = await asyncio.to_thread(https_request, port, "POST", "/login", b"a" * 200 * KIB, form)
    assert status != 413, text[:300]  # the server's own answer
    upload = "/bodies/1/roster/preview"
    status, _, text = await asyncio.to_thread(https_request, port, "POST", upload, b"a" * 1024 * KIB, form)
    assert status != 413, text[:300]
    status, _, text = await asyncio.to_thread(https_request, port, "POST", upload, b"a" * 6200 * KIB, form)
    assert status == 413 and "提交的内容太大" in text, (status, text[:300])
    # 52 MiB for a follow-up post with its attachments (five files of 10 MB), and only there.
    attach = "/followup/1/post"
    status, _, text = await asyncio.to_thread(
        https_request, port, "POST", attach, b"a" * 20 * 1024 * KIB, form
    )
    assert status != 413, text[:300]
    status, _, text = await asyncio.to_thread(
        https_request, port, "POST", attach, b"a" * 53 * 1024 * KIB, form
    )
    assert status == 413 and "附件每个最大 10 MB" in text, (status, text[:300])

    # The site's access log keeps routes, never a link's secret part (nginx's "combined"
    # would write them all): an invitation, a hall code, an organ's link, a query value.
    secrets_sent = ("invitesecret1", "hallsecret22", "organsecret3", "querysecret4")
    for path in (
        f"/i/{mid}/{secrets_sent[0]}",
        f"/h/{mid}/{secrets_sent[1]}",
        f"/o/{secrets_sent[2]}",
        f"/m/{mid}/projector?screen={secrets_sent[3]}",
    ):
        await asyncio.to_thread(https_request, port, "GET", path)
    # nginx writes a request's line after it sent the answer: wait for the last one.
    log = proxied.nginx.access_log
    for _ in range(50):
        if f'"GET /m/{mid}/projector?... HTTP/1.1"' in log:
            break
        await asyncio.sleep(0.1)
        log = proxied.nginx.access_log
    assert '"GET /o/... HTTP/1.1"' in log and f'"GET /h/{mid}/... HTTP/1.1"' in log, log[-2000:]
    assert f'"GET /m/{mid}/projector?... HTTP/1.1"' in log, log[-2000:]
    assert not any(secret in log for secret in secrets_sent), log[-2000:]


def test_no_link_or_code_reaches_nginxs_error_log(tmp_path: Path) -> None:
    """The server restarting (an upgrade) while organs and phones keep opening their links,
    and a body over the limit: nginx writes an error line for each, with the request line
    and the upstream URL -- organ links, invitation tokens and hall codes in
    /var/log/nginx/error.log, kept as long as the access log (probe of issue 18; the
    access log was already clean). The site's error log is at "crit" now: none of them
    is written anywhere, and the access log still has each request's route and status."""
    http_port, https_port, down = _free_port(), _free_port(), _free_port()  # nothing on `down`
    sent = ("organsecret5", "invitesecret6", "hallsecret77")
    with nginx_in_front(tmp_path, http_port=http_port, https_port=https_port, upstream_port=down):
        for path in (f"/o/{sent[0]}/items/1", f"/i/1/{sent[1]}", f"/h/1/{sent[2]}"):
            status, _, _ = https_request(https_port, "GET", path)
            assert status == 502, path
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        status, _, _ = https_request(https_port, "POST", f"/o/{sent[0]}", b"a" * 300 * KIB, form)
        assert status == 413
    logs = {p.name: p.read_text(errors="replace") for p in tmp_path.glob("*.log")}
    leaked = {name: [s for s in sent if s in text] for name, text in logs.items()}
    assert not any(leaked.values()), leaked
    assert "site-error.log" in logs and "access.log" in logs, sorted(logs)
    access = logs["access.log"]
    assert '"GET /o/... HTTP/1.1" 502' in access and '"POST /o/... HTTP/1.1" 413' in access, access


@contextlib.contextmanager
def ssl_socket(port: int, context: ssl.SSLContext) -> Iterator[ssl.SSLSocket]:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        yield tls


def test_the_site_file_passes_nginx_t_inside_debians_own_nginx_conf(tmp_path: Path) -> None:
    """Installed as the README says (into sites-enabled, next to Debian's default site),
    with only the certificate filled in: Debian's nginx.conf accepts it as it is."""
    debian = Path("/etc/nginx")
    assert (debian / "nginx.conf").exists(), "Debian's nginx package is not installed"
    etc = tmp_path / "etc"
    shutil.copytree(debian, etc, symlinks=True)
    cert, key = certificate(tmp_path)
    site = SHIPPED.read_text()
    site = site.replace("/etc/ssl/certs/wenzheng.pem", str(cert))
    site = site.replace("/etc/ssl/private/wenzheng.key", str(key))
    (etc / "sites-enabled" / "wenzheng").write_text(site)
    main = etc / "nginx.conf"
    main.write_text(main.read_text().replace(str(debian), str(etc)))
    checked = subprocess.run(
        [nginx_binary(), "-t", "-c", str(main)], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
