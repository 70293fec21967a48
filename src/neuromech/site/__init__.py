"""The static mechanism explorer: ``neuromech site`` builds ``dist/site/`` from the graph.

The site is self-contained: pages, styles, scripts, the JavaScript libraries (copied from
``node_modules/``, installed by ``npm ci``, with their licences) and the data the scripts need
(``data/*.js``) all live in one folder that works when opened from disk.
"""

from neuromech.site.builder import SiteResult, build_site, internal_links

__all__ = ["SiteResult", "build_site", "internal_links"]
