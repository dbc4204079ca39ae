"""Measurements of a page as its user sees it, in Chromium: does it fit, can it be read and tapped.

Shared by the screen-size tests (test_screen_sizes.py) and the accessibility test (test_axe.py).
Each check returns a list of problems in words (empty when the page is right), so that one
test can report every screen and size at once instead of stopping at the first.

axe-core is the copy vendored in server/web/static/vendor/ (its version pinned there); the
tests inject it into the page themselves, in a browser context that bypasses the page's CSP
(the app's own CSP is never loosened for it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page

from tests.browser.test_live_session import phone_context

ROOT = Path(__file__).resolve().parents[2]

AXE_JS = ROOT / "tests" / "browser" / "vendor" / "axe.min.js"
AXE_VERSION = "4.14.1"

PHONES = ((360, 640), (390, 844))
PROJECTORS = ((1280, 720), (1920, 1080), (3840, 2160))
PODIUM = (1920, 1080)
CONSOLE = (1366, 768)
MIN_TAP_PX = 48
MIN_PHONE_TEXT_PX = 18


async def context(browser: Browser, width: int, height: int, *, phone: bool = False) -> BrowserContext:
    """A browser context at a real size; CSP bypassed only so that axe can be injected."""
    if phone:
        return await phone_context(browser, width, height, bypass_csp=True)
    return await browser.new_context(
        viewport={"width": width, "height": height},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        bypass_csp=True,
    )


# -- axe ------------------------------------------------------------------------------------


async def axe_problems(page: Page, where: str) -> list[str]:
    """Serious and critical axe-core violations of the page as it is now."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    # Measure the settled page: a transition caught half-way (the console's status line
    # fading out) has a contrast no one reads.
    await page.evaluate("() => document.getAnimations().forEach(a => a.finish())")
    result: list[dict[str, Any]] = await page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ['violations']});
          return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' ' +
                               (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 160))}));
        }"""
    )
    return [f"{where}: axe {v['impact']} {v['id']} ({v['help']}): {v['nodes']}" for v in result]


# -- fit: a projector or podium cannot scroll ---------------------------------------------

FIT_JS = """(headerSel) => {
  const W = innerWidth, H = innerHeight, out = [];
  const header = headerSel ? document.querySelector(headerSel) : null;
  const hb = header ? header.getBoundingClientRect() : null;
  const skip = el => el.closest('.p-mode, .p-banner, script, style, head');
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const wide = document.documentElement.scrollWidth;
  if (wide > W + 1) out.push(`page is ${wide}px wide`);
  for (const el of document.body.querySelectorAll('*')) {
    if (skip(el)) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) ||
                ['svg', 'img', 'button', 'input'].includes(el.tagName.toLowerCase());
    if (!own) continue;
    if (r.right > W + 1 || r.bottom > H + 1 || r.left < -1 || r.top < -1)
      out.push(`${name(el)} "${el.textContent.trim().slice(0, 24)}" ` +
               `at ${Math.round(r.left)},${Math.round(r.top)} ` +
               `${Math.round(r.width)}x${Math.round(r.height)} runs off the ${W}x${H} screen`);
    if (hb && !header.contains(el) && !el.contains(header) &&
        r.top < hb.bottom - 1 && r.bottom > hb.top + 1 && r.left < hb.right - 1 && r.right > hb.left + 1)
      out.push(`${name(el)} "${el.textContent.trim().slice(0, 24)}" overlaps the header`);
    if (cs.overflowX === 'visible' && el.scrollWidth > el.clientWidth + 2 && el.clientWidth > 0 &&
        cs.display !== 'inline')
      out.push(`${name(el)} "${el.textContent.trim().slice(0, 24)}" is wider than its box ` +
               `(${el.scrollWidth} > ${el.clientWidth})`);
  }
  return out;
}"""


async def fit_problems(page: Page, where: str, header: str | None = None) -> list[str]:
    found: list[str] = await page.evaluate(FIT_JS, header)
    return [f"{where}: {p}" for p in found]


# -- words: a name or a phrase is never broken inside ------------------------------------

LINES_JS = """(el) => {
  // The number of lines the element's text takes (its characters' distinct line tops).
  const tops = new Set();
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    for (let i = 0; i < n.textContent.length; i++) {
      if (!n.textContent[i].trim()) continue;
      const range = document.createRange(); range.setStart(n, i); range.setEnd(n, i + 1);
      const r = range.getBoundingClientRect();
      if (r.height > 0) tops.add(Math.round(r.top / 4));
    }
  }
  return tops.size;
}"""

PHRASE_JS = """([el, phrase]) => {
  // Is the phrase, where it occurs in the element's text, on a single line?
  const chars = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode())
    for (let i = 0; i < n.textContent.length; i++) chars.push([n, i, n.textContent[i]]);
  const text = chars.map(c => c[2]).join('');
  const at = text.indexOf(phrase);
  if (at < 0) return null;
  const tops = new Set();
  for (const [n, i] of chars.slice(at, at + phrase.length)) {
    const range = document.createRange(); range.setStart(n, i); range.setEnd(n, i + 1);
    const r = range.getBoundingClientRect();
    if (r.height > 0) tops.add(Math.round(r.bottom));
  }
  return tops.size <= 1;
}"""


async def one_line_problems(page: Page, selector: str, where: str) -> list[str]:
    """Each element's text on one line (names, group names, figure labels)."""
    out = []
    for el in await page.locator(selector).all():
        if not await el.is_visible():
            continue
        lines = await el.evaluate(LINES_JS)
        if lines > 1:
            out.append(f"{where}: {selector} {(await el.inner_text()).strip()!r} wraps onto {lines} lines")
    return out


async def phrase_problems(page: Page, selector: str, phrases: tuple[str, ...], where: str) -> list[str]:
    """Each phrase found in the element stays on one line."""
    out = []
    for el in await page.locator(selector).all():
        if not await el.is_visible():
            continue
        handle = await el.element_handle()
        for phrase in phrases:
            whole = await page.evaluate(PHRASE_JS, [handle, phrase])
            if whole is False:
                out.append(f"{where}: {selector} breaks inside {phrase!r}")
    return out


# -- phones: tap targets, text size, the first screen ------------------------------------

TAPS_JS = """(minimum) => {
  const out = [];
  const all = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const el of document.querySelectorAll(all)) {
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden') continue;
    // A box inside its label is tapped through the label: the label is the target.
    const boxed = (el.type === 'checkbox' || el.type === 'radio') && el.closest('label');
    const target = boxed ? el.closest('label') : el;
    const r = target.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.width >= minimum - 0.5 && r.height >= minimum - 0.5) continue;
    const label = (el.textContent || el.value || el.name || '').trim().slice(0, 20);
    out.push(`${el.tagName.toLowerCase()} "${label}" is ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return out;
}"""

TEXT_JS = """(minimum) => {
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (!([...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || el.closest('[aria-hidden=true]')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const px = parseFloat(cs.fontSize);
    if (px < minimum - 0.01)
      out.push(`${el.tagName.toLowerCase()}.${el.className} ` +
               `"${el.textContent.trim().slice(0, 20)}" is ${px}px`);
  }
  return out;
}"""


async def phone_problems(page: Page, where: str) -> list[str]:
    taps: list[str] = await page.evaluate(TAPS_JS, MIN_TAP_PX)
    texts: list[str] = await page.evaluate(TEXT_JS, MIN_PHONE_TEXT_PX)
    wide: int = await page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport
    out = [f"{where}: tap target {t} (want {MIN_TAP_PX}x{MIN_TAP_PX})" for t in taps]
    out += [f"{where}: text {t} (want {MIN_PHONE_TEXT_PX}px)" for t in texts]
    if wide > viewport["width"] + 1:
        out.append(f"{where}: the page is {wide}px wide on a {viewport['width']}px phone")
    return out


async def above_fold_problems(page: Page, selector: str, where: str) -> list[str]:
    """Every element matched is wholly on the first screen (the page at its top)."""
    await page.evaluate("window.scrollTo(0, 0)")
    viewport = page.viewport_size
    assert viewport
    out = []
    for el in await page.locator(selector).all():
        box = await el.bounding_box()
        if box is None:
            continue
        if box["y"] + box["height"] > viewport["height"] + 0.5:
            label = (await el.inner_text()).strip()
            out.append(
                f"{where}: {label!r} ends at {box['y'] + box['height']:.0f}px, "
                f"below the first {viewport['height']}px"
            )
    return out


# -- contrast of one element's text against what is behind it ----------------------------

CONTRAST_JS = """(el) => {
  const rgba = s => { const m = s.match(/[\\d.]+/g).map(Number);
                      return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const lum = ([r, g, b]) => { const f = c => { c /= 255;
                                 return c <= .03928 ? c / 12.92 : ((c + .055) / 1.055) ** 2.4; };
                               return .2126 * f(r) + .7152 * f(g) + .0722 * f(b); };
  let bg = null;
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) { bg = c; break; }
  }
  bg = bg || [255, 255, 255, 1];
  let fg = rgba(getComputedStyle(el).color);
  let alpha = fg[3];
  for (let e = el; e; e = e.parentElement) alpha *= parseFloat(getComputedStyle(e).opacity);
  fg = [0, 1, 2].map(i => fg[i] * alpha + bg[i] * (1 - alpha));
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + .05) / (b + .05);
}"""


async def contrast_problems(page: Page, selector: str, where: str, minimum: float = 4.5) -> list[str]:
    out = []
    for el in await page.locator(selector).all():
        if not await el.is_visible():
            continue
        ratio = await el.evaluate(CONTRAST_JS)
        if ratio < minimum:
            out.append(f"{where}: {selector} {(await el.inner_text()).strip()!r} has contrast {ratio:.2f}:1")
    return out
