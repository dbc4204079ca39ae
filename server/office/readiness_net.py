"""The readiness lines that go over the network: the public address, Redis, the clock.

Each probe is blocking and bounded by ``Limits.timeout`` and runs in a daemon thread
(readiness.in_thread). The public address is asked for ``/healthz`` directly, never
through a proxy from the environment: the question is whether *this machine* reaches it.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from server.office import clock
from server.office.readiness_core import Installation, Level, Limits, Line, in_thread, short

SELF_SIGNED = (18, 19)  # X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN


@dataclass(frozen=True)
class Health:
    status: int | None  # HTTP status; None when nothing answered
    ours: bool  # the answer is Wenzheng's /healthz JSON
    healthy: bool
    self_signed: bool = False
    error: str = ""


def _answer(opener: urllib.request.OpenerDirector, url: str, timeout: float) -> Health:
    try:
        with opener.open(url, timeout=timeout) as reply:
            status, body = reply.status, reply.read(65536)
    except urllib.error.HTTPError as refused:
        status, body = refused.code, refused.read(65536)
    try:
        found = json.loads(body)
        ours = isinstance(found, dict) and "database" in found and "bus" in found
    except ValueError:
        found, ours = None, False
    return Health(status, ours, ours and status == 200 and found.get("status") == "ok")


def health(url: str, timeout: float) -> Health:
    """GET ``url``/healthz from this machine, certificates checked as a phone checks them."""
    target = f"{url}/healthz"
    direct = urllib.request.ProxyHandler({})
    try:
        checked = urllib.request.HTTPSHandler(context=ssl.create_default_context())
        opener = urllib.request.build_opener(direct, checked)
        return _answer(opener, target, timeout)
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError) and reason.verify_code in SELF_SIGNED:
            unchecked = ssl.create_default_context()
            unchecked.check_hostname = False
            unchecked.verify_mode = ssl.CERT_NONE
            opener = urllib.request.build_opener(direct, urllib.request.HTTPSHandler(context=unchecked))
            try:
                found = _answer(opener, target, timeout)
            except (urllib.error.URLError, OSError, ValueError) as again:
                return Health(None, False, False, True, short(again))
            return Health(found.status, found.ours, found.healthy, True)
        if isinstance(reason, ssl.SSLCertVerificationError):
            return Health(None, False, False, error=f"证书不受信任：{reason.verify_message}")
        return Health(None, False, False, error=short(reason if isinstance(reason, BaseException) else exc))
    except (OSError, ValueError) as exc:  # a timeout while reading, a malformed address
        return Health(None, False, False, error=short(exc) or type(exc).__name__)


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def public_address(inst: Installation, limits: Limits) -> Line:
    name = "公开地址"
    example = "如 http://192.168.1.10:8000（会场网络中本机的固定地址）或 https://wenzheng.example.gov.cn（经反向代理）"
    url = inst.public_url
    if url is None:
        return Line(
            name,
            Level.FAIL,
            "未设置 WENZHENG_PUBLIC_URL：会场二维码中的地址只能由服务猜测",
            f"把 WENZHENG_PUBLIC_URL 设为代表手机打开的地址，{example}。",
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        said = f"WENZHENG_PUBLIC_URL 不是 http:// 或 https:// 地址：{url}"
        return Line(name, Level.FAIL, said, f"改为{example}。")
    try:
        found = await in_thread(health, url, limits.timeout, timeout=limits.timeout + 1)
    except TimeoutError:
        found = Health(None, False, False, error=f"{limits.timeout:g} 秒内没有应答")
    if found.self_signed:
        return Line(
            name,
            Level.FAIL,
            f"{url} 有应答，但证书是自签名的：代表的手机会拒绝打开",
            "换用手机信任的证书（机构或公共证书机构签发，名称与地址一致）；"
            "会场内没有这样的证书时改用 http（README“离线会场”一节）。",
        )
    if found.status is None:
        return Line(
            name,
            Level.FAIL,
            f"本机打不开 {url}/healthz：{found.error}",
            "确认服务已启动（wenzheng serve），其地址和端口与 WENZHENG_PUBLIC_URL 一致，防火墙已放行。",
        )
    if not found.ours:
        return Line(
            name,
            Level.FAIL,
            f"{url} 有应答（HTTP {found.status}），但不是问政服务",
            "检查地址和端口；经反向代理时，检查它是否转发到问政服务。",
        )
    if not found.healthy:
        return Line(
            name,
            Level.FAIL,
            f"{url} 有应答，但服务报告数据库或总线异常（HTTP {found.status}）",
            "查看服务日志，先解决“数据库”“Redis”两项。",
        )
    if is_loopback(parts.hostname):
        level = Level.FAIL if inst.lan else Level.WARN
        return Line(
            name,
            level,
            f"{url} 在本机可以打开，但这是本机回环地址：代表的手机打不开",
            f"把 WENZHENG_PUBLIC_URL 设为手机能打开的地址，{example}。",
        )
    return Line(name, Level.OK, f"{url} 在本机可以打开（/healthz 正常）")


def _ping(url: str, timeout: float) -> None:
    import redis as redis_client

    conn = redis_client.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        conn.ping()
    finally:
        conn.close()


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or '?'}:{parts.port or 6379}"


async def redis(inst: Installation, limits: Limits) -> Line:
    name = "Redis"
    workers = inst.workers
    if workers is None:
        return Line(name, Level.FAIL, "WENZHENG_WORKERS 不是正整数", "设为工作进程的个数，如 1 或 4。")
    if not inst.redis_url:
        if workers > 1:
            return Line(
                name,
                Level.FAIL,
                f"配置了 {workers} 个工作进程（WENZHENG_WORKERS），但没有设置 WENZHENG_REDIS_URL",
                "多个工作进程经 Redis 互通：启动 Redis 并设置 WENZHENG_REDIS_URL=redis://127.0.0.1:6379/0，"
                "或改为一个工作进程。",
            )
        return Line(name, Level.OK, "一个工作进程，不需要 Redis")
    try:
        await in_thread(_ping, inst.redis_url, limits.timeout, timeout=limits.timeout + 1)
    except Exception as exc:
        return Line(
            name,
            Level.FAIL,
            f"Redis（{_where(inst.redis_url)}）连接不上：{short(exc) or type(exc).__name__}",
            "确认 Redis 已启动，WENZHENG_REDIS_URL 的地址、端口和密码正确。",
        )
    return Line(name, Level.OK, f"Redis（{_where(inst.redis_url)}）可连接，{workers} 个工作进程")


async def clock_line(inst: Installation, offline: bool, limits: Limits) -> Line:
    name = "时间"
    server = inst.ntp_server
    fix = (
        "校准本机时钟：启用时间同步（timedatectl set-ntp true，或 chrony），"
        "或设置 WENZHENG_NTP_SERVER 为内网时间服务器。"
    )
    try:
        off = await in_thread(clock.offset, server, limits.timeout, timeout=limits.timeout + 1)
    except (clock.NoTime, TimeoutError) as exc:
        silent = str(exc) or f"时间服务器 {server} 没有应答"
    else:
        said = f"本机时钟与时间服务器 {server} 相差 {off:+.2f} 秒"
        if abs(off) > limits.clock_fail:
            return Line(name, Level.FAIL, f"{said}，超过 {limits.clock_fail:g} 秒：计时和记录时间会出错", fix)
        if abs(off) > limits.clock_warn:
            return Line(name, Level.WARN, f"{said}，超过 {limits.clock_warn:g} 秒", fix)
        return Line(name, Level.OK, said)
    try:
        synced = await in_thread(
            clock.system_synchronised, limits.timedatectl, limits.timeout, timeout=limits.timeout + 1
        )
    except TimeoutError:
        synced = None
    if synced:
        return Line(name, Level.OK, f"{silent}；系统报告时钟已同步（timedatectl）")
    if offline:
        return Line(
            name,
            Level.WARN,
            f"{silent}，无法确认时钟（离线会场）",
            "代表入场前把本机时间与北京时间（如手机上的时间）核对一致，相差不超过几秒。",
        )
    return Line(name, Level.FAIL, f"{silent}，系统也未报告时钟已同步", fix)
