"""NeuroMech KG: a knowledge graph of the neural mechanisms of self-injury, pain, anxiety and depression.

The public API is organised by pipeline stage; each module has one responsibility:

- :mod:`neuromech.paths` names every canonical path of a project checkout.
- :mod:`neuromech.loading` parses Turtle sources with file/line errors.
- :mod:`neuromech.store` runs SPARQL on an embedded store with bound parameters.
- :mod:`neuromech.validation` checks SHACL shapes and prints curator-readable reports.
- :mod:`neuromech.reasoning` checks consistency with HermiT and materialises derived edges.
- :mod:`neuromech.queries` loads the stored query catalogue and runs a query by name.
- :mod:`neuromech.resolve` turns a label, CURIE or IRI into a graph node.
- :mod:`neuromech.mechanisms` answers "what do two conditions share?".
- :mod:`neuromech.export` writes release artifacts atomically.
- :mod:`neuromech.build` chains the stages.
- :mod:`neuromech.canonical` writes data files in canonical form (``neuromech fmt``).
- :mod:`neuromech.curation` checks curated quotes against the source reviews.
"""

__version__ = "0.1.0"
