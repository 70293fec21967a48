"""Build the site: collect from the graph, render, add static files and vendored libraries, publish."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urldefrag

from neuromech.build import KnowledgeGraph, open_graph
from neuromech.errors import NeuroMechError, UsageError
from neuromech.export import publish_tree
from neuromech.paths import ProjectPaths
from neuromech.site.collect import collect
from neuromech.site.render import render_site

log = logging.getLogger(__name__)

#: JavaScript libraries bundled with the site: npm package -> (files to copy, licence files).
VENDORED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cytoscape": (("dist/cytoscape.min.js",), ("LICENSE",)),
}

_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
_ID = re.compile(r"""\sid\s*=\s*["']([^"']+)["']""")


class BrokenLinks(NeuroMechError):
    """A rendered page links to a file or anchor the site does not have."""

    exit_code = 1


@dataclass(frozen=True)
class SiteResult:
    """What a site build wrote."""

    target: Path
    pages: int
    files: int
    bytes: int
    seconds: float


def _static_files() -> dict[str, bytes]:
    folder = resources.files("neuromech.site") / "static"
    return {f"static/{item.name}": item.read_bytes() for item in folder.iterdir() if item.is_file()}


def vendor_files(node_modules: Path) -> dict[str, bytes]:
    """Return the vendored libraries and their licences, read from ``node_modules``.

    Raises:
        UsageError: when a library is not installed (``npm ci`` has not run).
    """
    files: dict[str, bytes] = {}
    for package, (assets, licences) in VENDORED.items():
        folder = node_modules / package
        for name in (*assets, *licences):
            source = folder / name
            if not source.is_file():
                raise UsageError(
                    f"{source} is missing: the site bundles the npm package {package!r}; "
                    "run `make setup` (or `npm ci` in the project root)"
                )
            files[f"vendor/{package}/{Path(name).name}"] = source.read_bytes()
    return files


def internal_links(files: dict[str, str | bytes]) -> list[str]:
    """Return every relative link in the HTML pages of ``files`` that does not resolve.

    A link resolves when its file is among ``files`` and, if it has a fragment, that page has an
    element with that id. External (``http:``, ``https:``, ``mailto:``) links are not checked.
    """
    ids: dict[str, set[str]] = {}
    for name, content in files.items():
        if name.endswith(".html") and isinstance(content, str):
            ids[name] = set(_ID.findall(content))
    broken = []
    for name, content in files.items():
        if not name.endswith(".html") or not isinstance(content, str):
            continue
        base = Path(name).parent
        for raw in _LINK.findall(content):
            if re.match(r"^[a-z][a-z0-9+.-]*:", raw):
                continue
            path, fragment = urldefrag(unquote(raw))
            target = name if not path else str(Path(*(base / path).parts)).replace("\\", "/")
            target = _normalise(target)
            if target not in files:
                broken.append(f"{name}: {raw} (no file {target})")
            elif fragment and target.endswith(".html") and fragment not in ids.get(target, set()):
                broken.append(f"{name}: {raw} (no id {fragment!r} in {target})")
    return broken


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def build_site(paths: ProjectPaths, target: Path | None = None, kg: KnowledgeGraph | None = None) -> SiteResult:
    """Build the static site from the graph and publish it to ``target`` (default ``dist/site``).

    The graph is loaded and materialised like ``neuromech query`` does (pass ``kg`` to reuse one).
    Every page is rendered and every internal link checked before anything is written; the
    folder is then replaced as a whole (:func:`neuromech.export.publish_tree`).

    Raises:
        UsageError: the JavaScript libraries are not installed.
        BrokenLinks: a page links to something the site does not contain.
    """
    started = time.perf_counter()
    target = target or paths.site_dir
    vendored = vendor_files(paths.node_modules_dir)
    graph = kg or open_graph(paths)
    data = collect(graph)
    files: dict[str, str | bytes] = {}
    files.update(render_site(data))
    files.update(_static_files())
    files.update(vendored)
    broken = internal_links(files)
    if broken:
        shown = "\n  ".join(broken[:20])
        raise BrokenLinks(f"{len(broken)} broken internal links; nothing written:\n  {shown}")
    publish_tree(files, target)
    size = sum(len(c.encode("utf-8")) if isinstance(c, str) else len(c) for c in files.values())
    pages = sum(1 for name in files if name.endswith(".html"))
    return SiteResult(target, pages, len(files), size, time.perf_counter() - started)
