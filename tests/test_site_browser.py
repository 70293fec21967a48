"""End-to-end tests of the static site in headless Chromium (Debian's ``chromium``, driven by Playwright).

The site is built once per session (``site_dir``) and opened from disk (``file://``), as a
reader would. Screenshots of the main pages are written to ``dist/test-artifacts/site/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from neuromech.build import KnowledgeGraph
from neuromech.paths import ProjectPaths
from neuromech.site.collect import collect

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (installs Debian's chromium)")
    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh, temporary user-data-dir; never `playwright install`
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def artifacts(repo: ProjectPaths) -> Path:
    folder = repo.dist_dir / "test-artifacts" / "site"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nsite screenshots: {folder}")
    return folder


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    yield page
    context.close()
    assert not errors, errors


def _open(page: Page, site: Path, name: str) -> None:
    page.goto((site / name).as_uri())


def test_search_a_chinese_name_and_reach_the_amygdala_page(page: Page, site_dir: Path, artifacts: Path) -> None:
    _open(page, site_dir, "index.html")
    expect(page.locator("#count-findings")).not_to_have_text("0")
    page.fill("#home-search", "杏仁核")
    hit = page.locator('.hero a[data-curie="nme:amygdala"]')
    expect(hit).to_be_visible()
    # the exact name ranks first
    expect(page.locator(".hero .search-results a").first).to_have_attribute("data-curie", "nme:amygdala")
    page.screenshot(path=str(artifacts / "home-search.png"))
    hit.click()
    expect(page).to_have_url(re.compile(r"entity/amygdala\.html$"))
    expect(page.locator("h1")).to_contain_text("amygdala")
    expect(page.locator("h1")).to_contain_text("杏仁核")
    expect(page.locator("#implicated-by")).to_contain_text("non-suicidal self-injury")
    expect(page.locator('a.ext[href="http://purl.obolibrary.org/obo/UBERON_0001876"]')).to_be_visible()
    page.screenshot(path=str(artifacts / "entity-amygdala.png"))


def test_condition_page_shows_its_findings_with_quotes(
    page: Page, site_dir: Path, real_kg: KnowledgeGraph, artifacts: Path
) -> None:
    expected = {
        "nmf:" + str(r["finding"]).rsplit("/", 1)[-1] for r in real_kg.query("findings", {"condition": "NSSI"}).dicts()
    }
    _open(page, site_dir, "condition/nssi.html")
    rows = page.locator("#findings tr.finding")
    expect(rows).to_have_count(len(expected))
    shown = set(
        page.locator("#findings tr.finding .fid").evaluate_all("els => els.map(e => e.textContent.split(' ')[0])")
    )
    assert shown == expected
    quotes = page.locator("#findings tr.finding blockquote.quote").all_text_contents()
    assert len(quotes) == len(expected)
    assert all(re.search(r"[\u4e00-\u9fff]", q) for q in quotes)
    expect(page.locator("#findings tr.finding .statement").first).to_be_visible()
    expect(page.locator("#regions li.implicated").first).to_be_visible()
    page.screenshot(path=str(artifacts / "condition-nssi.png"))
    page.locator("#findings").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "condition-nssi-findings.png"))


def test_click_a_heatmap_cell_to_see_the_shared_entities(
    page: Page, site_dir: Path, real_kg: KnowledgeGraph, artifacts: Path
) -> None:
    data = collect(real_kg)
    nssi, addiction = "https://w3id.org/neuromech/entity/nssi", "https://w3id.org/neuromech/entity/substance-addiction"
    shared = data.implicates[nssi] & data.implicates[addiction]
    assert shared
    _open(page, site_dir, "matrix.html")
    cell = page.locator('#heatmap td[data-a="nme:nssi"][data-b="nme:substance-addiction"]')
    expect(cell).to_have_text(str(len(shared)))
    cell.click()
    detail = page.locator("#pair-detail")
    expect(detail).to_be_visible()
    expect(detail.locator("tr.shared-entity")).to_have_count(len(shared))
    for entity in shared:
        expect(
            detail.locator(f'tr.shared-entity[data-entity="nme:{entity.rsplit("/", 1)[-1]}"] .evidence-list li').first
        ).to_be_visible()
    expect(detail.locator(".quote").first).to_be_visible()
    detail.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "matrix-cell.png"))
    page.locator("#entity-matrix").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "matrix-entities.png"))


def test_network_loads_filters_and_a_click_on_a_node_leads_to_its_page(
    page: Page, site_dir: Path, artifacts: Path
) -> None:
    _open(page, site_dir, "network.html")
    page.wait_for_function("window.nmCy && window.nmCy.nodes().length > 0")
    positions = "window.nmCy.nodes().map(n => [n.id(), Math.round(n.position('x')), Math.round(n.position('y'))])"
    drawn = page.evaluate(positions)
    page.reload()
    page.wait_for_function("window.nmCy && window.nmCy.nodes().length > 0")
    assert page.evaluate(positions) == drawn, "the same data must always draw the same network"
    total = page.evaluate("window.nmCy.nodes(':visible').length")
    constructs = page.evaluate("window.nmCy.nodes('[kind = \"nm:Construct\"]').length")
    assert constructs > 0
    page.locator('#kind-filter input[value="nm:Construct"]').uncheck()
    assert page.evaluate("window.nmCy.nodes(':visible').length") == total - constructs
    expect(page.locator("#network-status")).to_contain_text(f"{total - constructs} nodes")
    page.locator('#kind-filter input[value="nm:Construct"]').check()
    assert page.evaluate("window.nmCy.nodes(':visible').length") == total
    page.evaluate(
        "(() => { const cy = window.nmCy; cy.zoom({level: 1.6, position: cy.$id('nme:amygdala').position()}); })()"
    )
    point = page.evaluate(
        "(() => { const p = window.nmCy.$id('nme:amygdala').renderedPosition(); return [p.x, p.y]; })()"
    )
    box = page.locator("#network").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    detail = page.locator("#node-detail")
    expect(detail.locator("h3")).to_have_text("amygdala")
    page.screenshot(path=str(artifacts / "network.png"))
    detail.locator("#node-page").click()
    expect(page).to_have_url(re.compile(r"entity/amygdala\.html$"))


def test_language_toggle_hides_the_other_language(page: Page, site_dir: Path) -> None:
    _open(page, site_dir, "index.html")
    first_en = page.locator("#conditions .l-en").first
    first_zh = page.locator("#conditions .l-zh").first
    expect(first_en).to_be_visible()
    expect(first_zh).to_be_visible()
    page.click('.lang button[data-lang="zh"]')
    expect(first_en).to_be_hidden()
    expect(first_zh).to_be_visible()
    page.click('.lang button[data-lang="en"]')
    expect(first_zh).to_be_hidden()


def test_review_page_draws_its_mechanism_models(
    page: Page, site_dir: Path, real_kg: KnowledgeGraph, artifacts: Path
) -> None:
    models = [m for m in collect(real_kg).mechanisms if m.review.endswith("/nssi")]
    _open(page, site_dir, "review/nssi.html")
    expect(page.locator("article.model svg.causal")).to_have_count(len(models))
    first = models[0]
    diagram = page.locator(f"#{first.slug} svg.causal")
    expect(diagram.locator("rect.step")).to_have_count(len(first.steps))
    page.locator(f"#{first.slug}").scroll_into_view_if_needed()
    page.locator(f"#{first.slug}").screenshot(path=str(artifacts / "review-model.png"))


def test_every_page_loads_without_console_errors_and_its_links_resolve(
    browser: Browser, site_dir: Path, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    current = {"name": ""}

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"{current['name']}: console error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(f"{current['name']}: page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"{current['name']}: request failed: {r.url}"))
    pages = sorted(site_dir.rglob("*.html"))
    ids: dict[Path, set[str]] = {}
    links: list[tuple[str, str]] = []
    for path in pages:
        current["name"] = str(path.relative_to(site_dir))
        page.goto(path.as_uri(), wait_until="load")
        ids[path] = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        hrefs = page.eval_on_selector_all(
            "a[href]", "els => els.map(e => new URL(e.getAttribute('href'), document.baseURI).href)"
        )
        links += [(current["name"], href) for href in hrefs if href.startswith("file:")]
        if path.name in ("ontology.html", "queries.html"):
            page.screenshot(path=str(artifacts / path.name.replace(".html", ".png")))
    context.close()
    assert len(pages) > 100
    assert links
    for source, href in links:
        url = urlparse(href)
        target = Path(unquote(url.path))
        if not target.is_file():
            problems.append(f"{source}: broken link {href}")
        elif url.fragment and target.suffix == ".html" and url.fragment not in ids.get(target, set()):
            problems.append(f"{source}: no anchor #{url.fragment} in {target.name}")
    assert not problems, "\n".join(problems[:30])
