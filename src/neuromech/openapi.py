"""An OpenAPI 3.0 description of the stored queries served by :mod:`neuromech.api`.

Generated from the ``.rq`` headers only (summary, description, ``# param:`` lines, tags),
so it cannot drift from the queries: each query is ``GET /api/{name}`` with one query-string
parameter per declared parameter, plus ``format`` (``json`` or ``csv``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuromech import __version__
from neuromech.queries import Parameter, StoredQuery

_TYPE_HINTS = {
    "entity": "an English or Chinese label or synonym, a CURIE (nme:amygdala), an IRI, or an external CURIE "
    "the entity is mapped to (UBERON:0001876)",
    "iri": "an absolute IRI or a CURIE with a known prefix",
    "string": "text",
    "integer": "an integer",
}

_ERROR = {
    "description": "a malformed, missing or unknown parameter value, with a message saying which and why",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
                "required": ["error", "status"],
            }
        }
    },
}

_RESULTS = {
    "type": "object",
    "description": "SPARQL 1.1 Query Results JSON Format",
    "properties": {
        "head": {"type": "object", "properties": {"vars": {"type": "array", "items": {"type": "string"}}}},
        "results": {
            "type": "object",
            "properties": {
                "bindings": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": {
                                "type": {"type": "string", "enum": ["uri", "literal", "bnode"]},
                                "value": {"type": "string"},
                                "xml:lang": {"type": "string"},
                                "datatype": {"type": "string"},
                            },
                            "required": ["type", "value"],
                        },
                    },
                }
            },
        },
    },
}


def _parameter(param: Parameter) -> dict[str, Any]:
    kind = f" of class nm:{param.kind}" if param.kind else ""
    schema: dict[str, Any] = {"type": "integer" if param.type == "integer" else "string"}
    if param.default is not None:
        schema["default"] = int(param.default) if param.type == "integer" else param.default
    return {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "description": f"{param.doc} ({param.type}{kind}: {_TYPE_HINTS[param.type]})",
        "schema": schema,
    }


def _operation(query: StoredQuery) -> dict[str, Any]:
    return {
        "operationId": query.name.replace("-", "_"),
        "summary": query.summary,
        "description": f"{query.description}\n\nStored query `queries/{query.name}.rq`.",
        "tags": list(query.tags),
        "parameters": [
            *(_parameter(p) for p in query.parameters),
            {
                "name": "format",
                "in": "query",
                "required": False,
                "description": "json (SPARQL JSON results) or csv; the Accept header works too",
                "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
            },
        ],
        "responses": {
            "200": {
                "description": "the result rows",
                "content": {
                    "application/json": {"schema": _RESULTS},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            "400": _ERROR,
            "502": {"description": "the SPARQL endpoint behind the API is unreachable or timed out"},
        },
    }


def openapi_document(catalogue: Mapping[str, StoredQuery], server_url: str | None = None) -> dict[str, Any]:
    """Return the OpenAPI 3.0 document of ``catalogue`` (a JSON-ready dictionary)."""
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "NeuroMech KG stored queries",
            "version": __version__,
            "description": "Each stored SPARQL query of NeuroMech KG as a GET route; parameters are validated "
            "and bound as RDF terms exactly as in `neuromech query`.",
            "license": {"name": "CC BY 4.0 (data), MIT (code)"},
        },
        "paths": {f"/api/{name}": {"get": _operation(query)} for name, query in sorted(catalogue.items())},
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
